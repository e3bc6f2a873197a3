"""`fixwurx fix PATH`: the embedded default — repair a local checkout with no GitHub."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from app import defaults
from app.chain.lineage import RunRecorder
from app.chain.planner import RepairOptions, RepairOutcome, repair
from app.chain.state import RunState
from app.commands.terminal import (
    EXIT_BAD_INPUT,
    EXIT_FIXED,
    EXIT_NOT_FIXED,
    cache_dir,
    progress_printer,
)
from app.config import Settings
from app.environments import EnvironmentRequest
from app.environments.scopes import checkout_scope
from app.errors import BadInput, ConfigError, FixwurxError, PatchError
from app.local.history import close_cli_run, fail_cli_run, open_cli_run
from app.local.report import fixed_report, not_fixed_report, run_summary
from app.patches import apply_diff, check_applies
from app.repair.search import SearchBudget
from app.repo_config import RepoConfig, parse_repo_config


@dataclass(frozen=True)
class FixRequest:
    """What the user asked `fixwurx fix` for."""

    path: Path
    test_command: str | None
    issue_file: str | None
    as_json: bool
    apply_fix: bool
    timeout: float
    bundle_out: Path | None
    test_timeout: float = defaults.TEST_TIMEOUT_S
    max_candidates: int = defaults.MAX_CANDIDATES
    setup: tuple[str, ...] = ()
    python: str | None = None
    build_environment: bool = True
    state_out: Path | None = None
    agent: bool = False


def run_fix(request: FixRequest) -> int:
    """Run the chain and report; returns the exit code."""
    path, as_json = request.path, request.as_json
    recorder: RunRecorder | None = None
    seen: list[RunState] = []  # the state after each stage: an error still reports how far it got
    try:
        _check_path(path)
        issue_text = _read_issue(request.issue_file)
        recorder = open_cli_run(Settings.from_env(), str(path.resolve()))
        options = RepairOptions(
            test_command=request.test_command,
            issue_text=issue_text,
            timeout=request.timeout,
            test_timeout=request.test_timeout,
            # Progress goes to stderr in every mode: `--json` keeps stdout for its one object.
            progress=progress_printer(True),
            recorder=recorder,
            budget=SearchBudget(max_candidates=request.max_candidates),
            environment=_environment_request(request),
            agent=request.agent or _local_config(path).agent,
            on_state=seen.append,
        )
        outcome = repair(path, options)
        if recorder is not None:
            close_cli_run(recorder, outcome.state)
        if request.state_out is not None:
            _write_state(request.state_out, outcome)
    except BadInput as exc:
        fail_cli_run(recorder, f"bad input: {exc}")
        return _bad_input(str(exc), as_json, run_summary(seen[-1] if seen else None))
    except FixwurxError as exc:
        fail_cli_run(recorder, f"{type(exc).__name__}: {exc}")
        summary = run_summary(seen[-1] if seen else None)
        return _emit(as_json, "error", None, str(exc), f"fixwurx: {exc}", EXIT_NOT_FIXED, summary)
    except BaseException as exc:  # Ctrl-C, a crash: the run still ends, then the error goes on
        fail_cli_run(recorder, f"interrupted: {type(exc).__name__}: {exc}"[:500])
        raise
    run_id = recorder.run_id if recorder is not None else None
    code = _report(outcome, path, as_json, request.apply_fix, request.bundle_out, run_id)
    if recorder is not None and not as_json:
        click.echo(f"run {recorder.run_id} recorded: fixwurx show {recorder.run_id}", err=True)
    return code


def _write_state(target: Path, outcome: RepairOutcome) -> None:
    """The run's final state as JSON: how the environment was built, the tests, the timings."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(outcome.state.to_json(), sort_keys=True), encoding="utf-8")


def _environment_request(request: FixRequest) -> EnvironmentRequest | None:
    return environment_request(
        request.path, request.setup, request.python, build=request.build_environment
    )


def environment_request(
    path: Path, setup: tuple[str, ...], python: str | None, *, build: bool = True
) -> EnvironmentRequest | None:
    """--setup and --python over the checkout's `.github/fixwurx.yml` (setup:, python:);
    None (FixWurx's own interpreter) when `build` is off. Shared by `fix` and `localize`."""
    if not build:
        return None
    config = _local_config(path)
    return EnvironmentRequest(
        setup=setup or config.setup,
        python=python or config.python,
        scope=checkout_scope(path),  # never another repository's environments or cache
    )


def _local_config(path: Path) -> RepoConfig:
    file = path / ".github" / "fixwurx.yml"
    if file.is_symlink() or not file.is_file():
        return RepoConfig()
    try:
        return parse_repo_config(file.read_text(encoding="utf-8"))
    except ConfigError as exc:
        raise BadInput(str(exc)) from exc


def _check_path(path: Path) -> None:
    if not path.exists():
        raise BadInput(f"{path} does not exist")
    if not path.is_dir():
        raise BadInput(f"{path} is not a directory")


def _read_issue(issue_file: str | None) -> str:
    if issue_file is None:
        return ""
    if issue_file == "-":
        return sys.stdin.read()
    try:
        return Path(issue_file).read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"cannot read the issue file {issue_file}: {exc.strerror}") from exc


def _report(
    outcome: RepairOutcome,
    path: Path,
    as_json: bool,
    apply_fix: bool,
    bundle_out: Path | None,
    run_id: int | None = None,
) -> int:
    ids: dict[str, Any] = {"run_id": run_id, "bundle_path": None, **run_summary(outcome.state)}
    if outcome.bundle is None:
        text = not_fixed_report(outcome)
        ids["partial"] = outcome.state.partial  # the closest candidate, when there is one
        return _emit(as_json, outcome.status, None, outcome.reason, text, EXIT_NOT_FIXED, ids)
    bundle = outcome.bundle
    target = bundle_out or cache_dir() / "bundles" / f"{bundle.hash.split(':')[1][:16]}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(bundle.dumps(), encoding="utf-8")
    text = fixed_report(bundle, outcome.state, str(target))
    reason = outcome.reason
    if apply_fix:
        applied = _apply(bundle.diff, path, bundle.base_commit)
        text += "\n" + applied
        reason += f"; {applied}"
    ids["bundle_path"] = str(target)
    return _emit(as_json, "fixed", bundle.to_json(), reason, text, EXIT_FIXED, ids)


def _apply(diff: str, path: Path, base_commit: str) -> str:
    _, problem = check_applies(diff, path, "")
    if problem:
        return f"not applied to {path}: {problem}"
    try:
        apply_diff(diff, path)
    except PatchError as exc:
        return f"not applied to {path}: {exc}"
    return f"applied to {path}"


def _bad_input(message: str, as_json: bool, summary: dict[str, Any] | None = None) -> int:
    if as_json:
        report = {"status": "error", "bundle": None, "reason": message, **(summary or {})}
        print(json.dumps(report, sort_keys=True))
    else:
        click.echo(f"fixwurx: error: {message}", err=True)
    return EXIT_BAD_INPUT


def _emit(
    as_json: bool,
    status: str,
    bundle: dict[str, Any] | None,
    reason: str,
    text: str,
    code: int,
    ids: dict[str, Any] | None = None,
) -> int:
    """The run's result: one JSON object on stdout (with the run id and the bundle's path when
    there are any, and `run_summary`'s environment and baseline counts), or the report for
    people."""
    if as_json:
        report = {"status": status, "bundle": bundle, "reason": reason, **(ids or {})}
        print(json.dumps(report, sort_keys=True))
    else:
        click.echo(text)
    return code
