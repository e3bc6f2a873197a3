"""`fixwurx localize PATH`: print the ranked suspicious lines, without patching.

The tests run where `fixwurx fix` runs them: in the repository's own environment, built (or
reused from the cache) from what it declares, so a repository with dependencies reproduces its
failure here too instead of failing to import on FixWurx's interpreter. `--json` prints one
object (the ranking, the reproducing tests, or why there is none) for scripts and benchmarks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from app.chain.stages.context import StageContext
from app.chain.stages.environment import environment
from app.chain.stages.localize import localize
from app.chain.stages.reproduce import reproduce
from app.chain.state import RunState
from app.commands.terminal import EXIT_BAD_INPUT, EXIT_FIXED, EXIT_NOT_FIXED, progress_printer
from app.environments import EnvironmentRequest
from app.errors import BadInput
from app.local.fix import _read_issue as read_issue  # the same rules as `fix --issue`
from app.testing import testcmd
from app.workspace import Workspace


def run_localize(
    path: Path,
    test_command: str | None,
    timeout: float,
    limit: int,
    environment_request: EnvironmentRequest | None = None,
    *,
    issue_file: str | None = None,
    as_json: bool = False,
) -> int:
    """Build the environment, reproduce, localize, print; returns the exit code."""
    if not path.is_dir():
        return _bad_input(f"{path} is not a directory", as_json)
    try:
        issue_text = read_issue(issue_file)
    except BadInput as exc:
        return _bad_input(str(exc), as_json)
    workspace = Workspace.prepare(path)
    state = RunState(source=str(path), test_command=test_command or "", issue_text=issue_text)
    try:
        command = testcmd.resolve(workspace.root, test_command)
        ctx = StageContext(
            workspace.root,
            command,
            timeout,
            progress=progress_printer(True),
            environment_request=environment_request,
        )
        state.test_command = command.display()
        for stage in (environment, reproduce):
            stage(state, ctx).apply(state)
            if state.status != "running":
                return _not_localized(state, as_json)
        ranked = localize(state, ctx).locations
    except BadInput as exc:
        return _bad_input(str(exc), as_json)
    finally:
        workspace.cleanup()
    if as_json:
        click.echo(json.dumps(_summary(state, [loc.to_json() for loc in ranked[:limit]])))
        return EXIT_FIXED
    click.echo(f"{'score':>6}  location")
    for loc in ranked[:limit]:
        click.echo(f"{loc.score:6.3f}  {loc.path}:{loc.line}  {loc.why}")
    return EXIT_FIXED


def _summary(state: RunState, locations: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "status": "localized" if locations else "nothing found",
        "reason": state.reason,
        "test_command": state.test_command,
        "reproducing": list(state.reproducing),
        "environment": state.environment,
        "locations": locations,
    }


def _not_localized(state: RunState, as_json: bool) -> int:
    if as_json:
        click.echo(json.dumps({**_summary(state, []), "status": "not reproduced"}))
    else:
        click.echo(f"fixwurx: {state.reason}")
    return EXIT_NOT_FIXED


def _bad_input(message: str, as_json: bool) -> int:
    if as_json:
        click.echo(json.dumps({"status": "bad input", "reason": message, "locations": []}))
    click.echo(f"fixwurx: error: {message}", err=True)
    return EXIT_BAD_INPUT
