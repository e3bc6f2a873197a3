"""`fixwurx localize PATH`: print the ranked suspicious lines, without patching.

The tests run where `fixwurx fix` runs them: in the repository's own environment, built (or
reused from the cache) from what it declares, so a repository with dependencies reproduces its
failure here too instead of failing to import on FixWurx's interpreter.
"""

from __future__ import annotations

from pathlib import Path

import click

from app.chain.stages.context import StageContext
from app.chain.stages.environment import environment
from app.chain.stages.localize import localize
from app.chain.stages.reproduce import reproduce
from app.chain.state import RunState
from app.commands.terminal import EXIT_BAD_INPUT, EXIT_FIXED, EXIT_NOT_FIXED, progress_printer
from app.environments import EnvironmentRequest
from app.errors import BadInput
from app.testing import testcmd
from app.workspace import Workspace


def run_localize(
    path: Path,
    test_command: str | None,
    timeout: float,
    limit: int,
    environment_request: EnvironmentRequest | None = None,
) -> int:
    """Build the environment, reproduce, localize, print; returns the exit code."""
    if not path.is_dir():
        click.echo(f"fixwurx: error: {path} is not a directory", err=True)
        return EXIT_BAD_INPUT
    workspace = Workspace.prepare(path)
    try:
        command = testcmd.resolve(workspace.root, test_command)
        ctx = StageContext(
            workspace.root,
            command,
            timeout,
            progress=progress_printer(True),
            environment_request=environment_request,
        )
        state = RunState(source=str(path), test_command=command.display())
        for stage in (environment, reproduce):
            stage(state, ctx).apply(state)
            if state.status != "running":
                click.echo(f"fixwurx: {state.reason}")
                return EXIT_NOT_FIXED
        ranked = localize(state, ctx).locations
    except BadInput as exc:
        click.echo(f"fixwurx: error: {exc}", err=True)
        return EXIT_BAD_INPUT
    finally:
        workspace.cleanup()
    click.echo(f"{'score':>6}  location")
    for loc in ranked[:limit]:
        click.echo(f"{loc.score:6.3f}  {loc.path}:{loc.line}  {loc.why}")
    return EXIT_FIXED
