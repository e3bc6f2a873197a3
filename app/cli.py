"""The `fixwurx` command.

`fixwurx fix PATH` runs the whole chain on a local checkout with no GitHub and no API keys.
Exit codes: 0 fixed, 1 not fixed (including "no failing test to repair"), 2 bad input.
Commands that live outside `app/` (serve, worker, db) are found through the `fixwurx.commands`
entry points, so this module never imports `webhooks` or `workers`.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click

from app import defaults
from app.commands.terminal import EXIT_NOT_FIXED, fail
from app.errors import BadInput, FixwurxError


class _PluginGroup(click.Group):
    """A group that also lists commands registered under the `fixwurx.commands` entry points."""

    def _plugins(self) -> dict[str, Any]:
        return {ep.name: ep for ep in entry_points(group="fixwurx.commands")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugins()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        plugin = self._plugins().get(name)
        return plugin.load() if plugin is not None else None


#: `fix` and `localize` share the limit of one whole test-suite run.
suite_timeout_option = click.option(
    "--timeout",
    type=float,
    default=defaults.SUITE_TIMEOUT_S,
    show_default=True,
    help="Seconds per suite run.",
)
#: `fix` and `bench` share the cap on candidates per source.
max_candidates_option = click.option(
    "--max-candidates",
    type=click.IntRange(min=1),
    default=defaults.MAX_CANDIDATES,
    show_default=True,
    help="Candidates each source may try.",
)


@click.group(cls=_PluginGroup)
@click.version_option(package_name="fixwurx")
def cli() -> None:
    """FixWurx repairs bugs and backs every fix with test evidence."""


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--test", "test_command", help="Test command (default: repo config, then pytest).")
@click.option("--issue", "issue_file", help="Issue text file, or - for stdin.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object and nothing else.")
@click.option("--apply", "apply_fix", is_flag=True, help="Apply the verified patch to PATH.")
@suite_timeout_option
@click.option("--bundle-out", type=click.Path(path_type=Path), help="Where to write the bundle.")
@click.option(
    "--test-timeout",
    type=float,
    default=defaults.TEST_TIMEOUT_S,
    show_default=True,
    help="Seconds one test may run before it counts as hanging.",
)
@max_candidates_option
@click.option(
    "--setup",
    "setup_commands",
    multiple=True,
    help="A command that builds the test environment (repeatable; replaces detection).",
)
@click.option("--python", "python_version", help="Interpreter version, e.g. 3.11.")
@click.option(
    "--no-environment",
    is_flag=True,
    help="Run the tests on FixWurx's own interpreter instead of a built environment.",
)
@click.option(
    "--agent",
    "agent",
    is_flag=True,
    help="When templates and the single-pass model path fail, escalate to the agent loop "
    "(needs a model provider; repo config `agent: true` does the same).",
)
@click.option(
    "--state-out",
    type=click.Path(path_type=Path),
    help="Write the run's final state (environment, tests, timings) as JSON.",
)
def fix(
    path: Path,
    test_command: str | None,
    issue_file: str | None,
    as_json: bool,
    apply_fix: bool,
    timeout: float,
    bundle_out: Path | None,
    test_timeout: float,
    max_candidates: int,
    setup_commands: tuple[str, ...],
    python_version: str | None,
    no_environment: bool,
    agent: bool,
    state_out: Path | None,
) -> None:
    """Find, verify and report a patch for the failing tests in PATH.

    The tests run in the repository's own environment, built with uv from what it declares
    (or from --setup) and cached; --python picks the interpreter.
    """
    from app.local.fix import FixRequest, run_fix

    request = FixRequest(
        path,
        test_command,
        issue_file,
        as_json,
        apply_fix,
        timeout,
        bundle_out,
        test_timeout,
        max_candidates,
        setup_commands,
        python_version,
        not no_environment,
        state_out,
        agent,
    )
    sys.exit(run_fix(request))


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--test", "test_command", help="Test command (default: repo config, then pytest).")
@suite_timeout_option
@click.option("--limit", type=int, default=15, show_default=True)
@click.option(
    "--setup",
    "setup_commands",
    multiple=True,
    help="A command that builds the test environment (repeatable; replaces detection).",
)
@click.option("--python", "python_version", help="Interpreter version, e.g. 3.11.")
@click.option(
    "--no-environment",
    is_flag=True,
    help="Run the tests on FixWurx's own interpreter instead of a built environment.",
)
@click.option("--issue", "issue_file", help="Issue text file, or - for stdin.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object and nothing else.")
def localize(
    path: Path,
    test_command: str | None,
    timeout: float,
    limit: int,
    setup_commands: tuple[str, ...],
    python_version: str | None,
    no_environment: bool,
    issue_file: str | None,
    as_json: bool,
) -> None:
    """Print the most suspicious source lines for the failing tests in PATH.

    The tests run in the repository's own environment, as `fixwurx fix` runs them.
    """
    from app.local.fix import environment_request
    from app.local.localize import run_localize

    if not path.is_dir() and not as_json:  # with --json, run_localize says so as JSON
        fail(f"{path} is not a directory")
    build = not no_environment and path.is_dir()
    request = environment_request(path, setup_commands, python_version, build=build)
    sys.exit(
        run_localize(
            path, test_command, timeout, limit, request, issue_file=issue_file, as_json=as_json
        )
    )


@cli.command()
@click.argument("run_id", type=int)
def show(run_id: int) -> None:
    """Show a run's tree: attempts, stages, and every candidate with its parent."""
    from app.chain.lineage import render_tree
    from app.config import Settings
    from app.local.history import ensure_schema, settle_abandoned

    url = Settings.from_env().database_url
    ensure_schema(url)
    settle_abandoned(url)  # a run whose process was killed reads failed, not running
    tree = render_tree(url, run_id)
    if tree is None:
        fail(f"there is no run {run_id}")
    click.echo(tree)


@cli.command()
@click.argument("tasks", required=False, type=click.Path(path_type=Path))
@click.option(
    "--templates-only",
    is_flag=True,
    help="Use no model even when a provider is configured (offline, free).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Tasks at once (each repair already searches in parallel: 1 suits 2 cores).",
)
@click.option("--json", "json_out", type=click.Path(path_type=Path), help="Write the results here.")
@suite_timeout_option
@click.option(
    "--test-timeout",
    type=float,
    default=defaults.TEST_TIMEOUT_S,
    show_default=True,
    help="Seconds one test may run (a task's test_timeout wins).",
)
@max_candidates_option
@click.option("--agent", is_flag=True, help="Escalate to the agent loop, as `fix --agent`.")
@click.option(
    "--no-environment",
    is_flag=True,
    help="Run every task's tests on FixWurx's own interpreter.",
)
@click.option("-v", "--verbose", is_flag=True, help="Print each task's progress to stderr.")
def bench(
    tasks: Path | None,
    templates_only: bool,
    jobs: int,
    json_out: Path | None,
    timeout: float,
    test_timeout: float,
    max_candidates: int,
    agent: bool,
    no_environment: bool,
    verbose: bool,
) -> None:
    """Run `fix` on every task of TASKS and print resolved, cost and seconds per task and in all.

    TASKS is a JSON-lines file, one task a line: {"repo": folder or git URL, "commit", "issue",
    "test_command", "judge_tests": held-out tests (a file or folder) or a list of test ids,
    "id", "environment", "timeout", "test_timeout"} (README: `fixwurx bench` reference);
    relative paths are relative to TASKS. Without TASKS the bundled cases run:
    benchmarks/cases/tasks.jsonl, found only in a source checkout of FixWurx (the installed
    package does not carry the cases). The configured models are used (templates only when none
    is). Exit 0 once the bench ran, 2 for a bad task file.
    """
    from app.local.bench import BenchRequest, run_bench

    request = BenchRequest(
        tasks_file=tasks,
        templates_only=templates_only,
        jobs=jobs,
        json_out=json_out,
        timeout=timeout,
        test_timeout=test_timeout,
        max_candidates=max_candidates,
        agent=agent,
        no_environment=no_environment,
        verbose=verbose,
    )
    sys.exit(run_bench(request))


@cli.command()
def doctor() -> None:
    """Say which sandbox isolation and resource limits are in force on this host."""
    from app.sandbox.doctor import enforcement

    for line in enforcement().lines():
        click.echo(line)


@cli.group()
def bundle() -> None:
    """Work with patch bundles."""


@bundle.command("verify")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--repo", type=click.Path(path_type=Path), help="Check the diff applies here.")
def bundle_verify(file: Path, repo: Path | None) -> None:
    """Recompute a bundle's hash and check its diff applies to its base commit."""
    from app.patches import verify_bundle

    data = _load_bundle_file(file)
    report = verify_bundle(data, repo)
    if not report.ok:
        for problem in report.problems:
            click.echo(f"fixwurx: bundle verify: {problem}", err=True)
        sys.exit(EXIT_NOT_FIXED)
    where = f"; applies to {report.checked_against}" if report.checked_against else ""
    click.echo(f"ok: {report.bundle_hash}{where}")


def _load_bundle_file(file: Path) -> dict[str, Any]:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        fail(f"{file} does not exist")
    except (OSError, ValueError) as exc:
        fail(f"{file} is not a JSON patch bundle: {exc}")
    if not isinstance(data, dict):
        fail(f"{file} is not a JSON patch bundle: expected an object")
    return data


def _register_subcommands() -> None:
    """Command groups that live in their own modules."""
    from app.dashboard.login_command import dashboard
    from app.onboarding.forward_command import forward_command
    from app.onboarding.setup_command import setup

    cli.add_command(dashboard)
    cli.add_command(setup)
    cli.add_command(forward_command)


_register_subcommands()


def main() -> None:
    """Console-script entry point."""
    try:
        cli(prog_name="fixwurx")
    except BadInput as exc:
        fail(str(exc))
    except FixwurxError as exc:
        click.echo(f"fixwurx: {exc}", err=True)
        sys.exit(EXIT_NOT_FIXED)
