"""Run a test command in the sandbox and turn what it wrote into a `TestRun`."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from app import defaults, sandbox, workfiles
from app.testing.junit import MAX_REPORT_CHARS, frames_from_traceback, parse_junit
from app.testing.results import SANDBOX_KILL_MARK, TestOutcome, TestRun, TestStatus
from app.testing.testcmd import WHOLE_COMMAND_ID, TestCommand

log = logging.getLogger(__name__)

#: Where JUnit reports go inside the work copy; removed after reading so diffs never see them.
REPORT_DIR = ".fixwurx"


def limit_from_durations(
    durations: Iterable[float], floor: float, cap: float | None = None
) -> float:
    """A per-test limit a few times the slowest observed test (1 s when none finished), at least
    `floor` and at most `cap`: room for an honest test on a loaded machine, while a test that
    hangs costs little. The one rule behind the candidate, flaky-rerun and hang limits."""
    slowest = max(durations, default=1.0)
    limit = max(floor, defaults.CANDIDATE_TIMEOUT_FACTOR * slowest + 1.0)
    return limit if cap is None else min(cap, limit)


def run_tests(
    root: Path,
    command: TestCommand,
    *,
    timeout: float,
    test_ids: Sequence[str] = (),
    wrap: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    stop_first: bool = False,
    per_test_timeout: float | None = defaults.TEST_TIMEOUT_S,
) -> TestRun:
    """Run `command` (narrowed to `test_ids`) in the sandbox and parse per-test outcomes.

    `wrap` replaces the leading `python -m` of a pytest command, so that e.g. coverage can run
    pytest: wrap=(python, "-m", "coverage", "run", "-m").
    """
    report = new_report(root)
    argv = list(
        command.for_run(report, test_ids, stop_first=stop_first, per_test_timeout=per_test_timeout)
    )
    if wrap and command.is_pytest:
        argv = [*wrap, *argv[2:]]
    started = time.monotonic()
    result = _run_in_sandbox(argv, root, command, timeout, env)
    duration = time.monotonic() - started
    output = result.stdout + result.stderr
    run = collect(
        root, report, command, test_ids, result.returncode, duration, result.timed_out, output
    )
    return replace(run, peak_mb=result.peak_mb, stop_reason=result.stop_reason or "")


def cut_short(run: TestRun, timeout: float) -> str:
    """Why a run ended before its suite did, naming the limit and the setting that raises it
    ("" when it ran to the end): a partial baseline must never pass for a whole one."""
    if run.stop_reason:
        return f"the sandbox stopped the tests: {run.stop_reason}"
    if run.timed_out:
        return (
            f"the tests did not finish within the suite's time limit of {timeout:.0f}s; raise it "
            "with --timeout (or `timeout_seconds:` in .github/fixwurx.yml)"
        )
    return ""


def new_report(root: Path) -> Path:
    """A fresh JUnit report path under the work copy's REPORT_DIR (created, links replaced)."""
    workfiles.make_dirs(root, REPORT_DIR, replace_link=True)
    return root / REPORT_DIR / f"junit-{uuid.uuid4().hex[:8]}.xml"


def collect(
    root: Path,
    report: Path,
    command: TestCommand,
    test_ids: Sequence[str],
    returncode: int,
    duration: float,
    timed_out: bool,
    output: str,
) -> TestRun:
    """The `TestRun` of a finished run: its JUnit report read (then removed) or one opaque
    outcome, and the tests a killed run never reached counted as failed. Cold and warm runs
    (app/testing/warm.py) end here alike."""
    outcomes = _read_outcomes(report, root) if command.is_pytest else ()
    workfiles.remove(root, report)
    if not command.is_pytest:
        outcomes = (_whole_command_outcome(returncode, duration, output, root),)
    if timed_out and command.is_pytest and not outcomes:
        outcomes = finished_outcomes(output)  # no report from a killed run: what it printed
        outcomes += running_outcomes(output, outcomes, duration)
    if timed_out:
        outcomes = _mark_unfinished(outcomes, test_ids, duration)
    return TestRun(tuple(outcomes), returncode, duration, timed_out, output)


#: pytest -v's line for a finished test: `tests/test_x.py::test_y PASSED   [ 50%]`.
_FINISHED = re.compile(r"^(\S{1,500}::\S{1,500}) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)\b")
_STATUS: dict[str, TestStatus] = {
    "PASSED": "passed",
    "XPASS": "passed",
    "FAILED": "failed",
    "ERROR": "error",
    "SKIPPED": "skipped",
    "XFAIL": "skipped",
}


def finished_outcomes(output: str) -> tuple[TestOutcome, ...]:
    """The tests a run killed at its deadline had finished, from pytest -v's lines (each line
    cut before matching: the output is the repository's)."""
    found: dict[str, TestOutcome] = {}
    for line in output.splitlines():
        match = _FINISHED.match(line[:1200])
        if match:
            status = _STATUS[match.group(2)]
            found[match.group(1)] = TestOutcome(match.group(1), status)
    return tuple(found.values())


#: pytest -v's line for a test it started and never finished: the id, then no status word.
_STARTED = re.compile(r"^(\S{1,500}::\S{1,500}) ?$")
#: pytest's count of what it will run: `collected 7 items`, `... / 2 deselected / 5 selected`.
_COLLECTED = re.compile(r"^(?:collecting \.\.\. )?collected (\d{1,9}) items?(.{0,200})$")
_SELECTED = re.compile(r"/ (\d{1,9}) selected")
_DESELECTED = re.compile(r"/ (\d{1,9}) deselected")


def running_outcomes(
    output: str, finished: tuple[TestOutcome, ...], duration: float
) -> tuple[TestOutcome, ...]:
    """The tests a killed run had started and not finished (pytest -v printed the id and never
    its status), each a failure marked as killed: reported as unfinished, never as passing."""
    done = {o.test_id for o in finished}
    running: dict[str, TestOutcome] = {}
    for line in output.splitlines():
        match = _STARTED.match(line[:1200])
        if match and match.group(1) not in done:
            running[match.group(1)] = TestOutcome(
                match.group(1), "failed", duration, SANDBOX_KILL_MARK
            )
    return tuple(running.values())


def never_started(run: TestRun) -> int:
    """How many tests a killed pytest run collected but never started (0 when it did not say):
    their names never reach the output, only pytest's count of what it collected."""
    if not run.timed_out:
        return 0
    for line in run.output.splitlines():
        match = _COLLECTED.match(line[:300].strip())
        if match:
            rest = match.group(2)
            chosen = _SELECTED.search(rest)
            dropped = _DESELECTED.search(rest)
            total = int(chosen.group(1)) if chosen else int(match.group(1))
            if dropped and not chosen:
                total -= int(dropped.group(1))
            return max(0, total - len(run.outcomes))
    return 0


def _run_in_sandbox(
    argv: Sequence[str],
    root: Path,
    command: TestCommand,
    timeout: float,
    env: Mapping[str, str] | None,
) -> sandbox.SandboxResult:
    """On the repository's environment when there is one: its venv read-only, no FixWurx."""
    environment = command.environment
    if environment is None:
        return sandbox.run(
            argv, cwd=root, timeout=timeout, env={**command.plugin_env(), **(env or {})}
        )
    variables = {**environment.run_env(root), **(env or {})}
    return sandbox.run(
        argv,
        cwd=root,
        timeout=timeout,
        env=variables,
        readonly_paths=environment.readonly_paths,
        mounts=environment.mounts,
    )


def _read_outcomes(report: Path, root: Path) -> tuple[TestOutcome, ...]:
    """The report's outcomes; () when it is absent, a link out, or larger than a report can
    honestly be (the repository's tests wrote it: it is read with a bound, then parsed)."""
    if not workfiles.is_file(root, report):  # a link out of the work copy reads as absent
        return ()
    try:
        text = workfiles.read_text(root, report, errors="replace", limit=MAX_REPORT_CHARS)
    except workfiles.FileTooLarge as exc:
        log.warning("ignoring the JUnit report: %s", exc)
        return ()
    return tuple(parse_junit(text, root))


def _whole_command_outcome(code: int, duration: float, output: str, root: Path) -> TestOutcome:
    tail = output[-4000:]
    return TestOutcome(
        test_id=WHOLE_COMMAND_ID,
        outcome="passed" if code == 0 else "failed",
        duration=duration,
        message=f"exit status {code}",
        traceback=tail,
        frames=frames_from_traceback(tail, root),
    )


def _mark_unfinished(
    outcomes: tuple[TestOutcome, ...], test_ids: Sequence[str], duration: float
) -> tuple[TestOutcome, ...]:
    """A killed run reports nothing for the tests it never finished: count those as failed."""
    seen = {o.test_id for o in outcomes}
    missing = [t for t in test_ids if t not in seen]
    timeouts = tuple(TestOutcome(t, "failed", duration, SANDBOX_KILL_MARK) for t in missing)
    return outcomes + timeouts
