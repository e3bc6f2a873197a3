"""Run the test suite once under coverage.py with per-test contexts, inside the sandbox.

coverage's `dynamic_context = test_function` labels every executed line with the test that ran
it, which is what spectrum-based localization needs. The rcfile and the data file live under
`root/.fixwurx/`, which is never copied into candidates nor part of a diff.

A hanging test would keep coverage from ever saving its data, so each test gets a time limit
(pytest-timeout): the hanging test then fails with a stack dump that points at the loop, and
the run still ends normally.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from coverage.exceptions import CoverageException

from app import workfiles
from app.repair.coverage_scope import TIME_BOX_S, coverage_selection
from app.repair.spectrum import LineKey, context_matches
from app.testing.results import TestRun
from app.testing.testcmd import TestCommand
from app.testing.testrun import REPORT_DIR, run_tests

#: Relative to the work copy, because the sandbox may mount it elsewhere.
RCFILE = f"{REPORT_DIR}/coveragerc"
DATA_FILE = f"{REPORT_DIR}/coverage-data"
#: Largest coverage data file read back. The repository's tests wrote it (it is SQLite that
#: FixWurx's own process opens), so its size is bounded like any other report.
MAX_DATA_BYTES = 128 * 1024 * 1024
#: Per-test limit (s) under pytest-timeout, as a share of the whole run's limit...
PER_TEST_SHARE = 0.25
#: ...but never more than this: one hanging test must not eat the localization budget.
PER_TEST_MAX_S = 10.0
#: Nor less than this, so slow interpreters still finish honest tests.
PER_TEST_MIN_S = 2.0

_RC_TEXT = """\
[run]
data_file = {data}
dynamic_context = test_function
relative_files = True
branch = False
source = .
omit =
    */site-packages/*
    */.venv/*
    {report}/*
"""


@dataclass(frozen=True)
class CoverageOutcome:
    """The run's per-test outcomes and, for each test id, the lines it executed."""

    run: TestRun
    lines_by_test: Mapping[str, frozenset[LineKey]] = field(default_factory=dict)
    error: str = ""


def run_with_coverage(
    root: Path,
    command: TestCommand,
    timeout: float,
    per_test: float | None = None,
    targets: Sequence[str] = (),
) -> CoverageOutcome:
    """Run `command` under coverage in the sandbox and map coverage contexts to test ids.

    With `targets` (the failing tests) on a large suite, only the tests around them run, within
    `coverage_scope.TIME_BOX_S` (see coverage_scope.py); a small suite always runs whole.
    """
    selection = coverage_selection(root, targets)
    if selection:
        timeout = min(timeout, TIME_BOX_S)
    if not command.is_pytest:
        raise ValueError(f"coverage needs a pytest command, got {command.display()!r}")
    workfiles.make_dirs(root, REPORT_DIR, replace_link=True)  # no link a test planted
    rc_text = _RC_TEXT.format(data=DATA_FILE, report=REPORT_DIR)
    workfiles.write_text(root, RCFILE, rc_text, replace_link=True)
    workfiles.remove(root, DATA_FILE)
    wrap = (command.python, "-m", "coverage", "run", f"--rcfile={RCFILE}", "-m")
    run = run_tests(
        root,
        command,
        timeout=timeout,
        wrap=wrap,
        env={"PYTHONDONTWRITEBYTECODE": "1"},  # leave nothing in the tree but .fixwurx/
        per_test_timeout=per_test or per_test_limit(timeout),
        test_ids=selection,
    )
    if run.timed_out:
        return CoverageOutcome(run, error=f"the coverage run timed out after {timeout:.0f}s")
    if not workfiles.is_file(root, DATA_FILE):
        return CoverageOutcome(run, error="coverage wrote no data (did pytest start?)")
    ids = [o.test_id for o in run.outcomes]
    try:
        # Read through workfiles into our own copy: the data file may be a link by now.
        data = workfiles.read_bytes(root, DATA_FILE, limit=MAX_DATA_BYTES)
    except workfiles.FileTooLarge:
        return CoverageOutcome(run, error=f"coverage data over {MAX_DATA_BYTES} bytes; ignored")
    with tempfile.TemporaryDirectory(prefix="fixwurx-coverage-") as private:
        data_path = Path(private, "coverage-data")
        data_path.write_bytes(data)
        del data
        try:
            return CoverageOutcome(run, _lines_by_test(data_path, ids))
        except (CoverageException, sqlite3.Error) as exc:
            return CoverageOutcome(run, error=f"unreadable coverage data: {str(exc)[:200]}")


def per_test_limit(timeout: float) -> float:
    """A share of the run's limit, clamped: one hanging test must not eat the whole budget."""
    return max(PER_TEST_MIN_S, min(PER_TEST_MAX_S, timeout * PER_TEST_SHARE))


def _lines_by_test(data_path: Path, test_ids: list[str]) -> dict[str, frozenset[LineKey]]:
    from coverage import CoverageData

    data = CoverageData(basename=str(data_path))
    data.read()
    by_context: dict[str, set[LineKey]] = {}
    for measured in data.measured_files():
        path = Path(measured).as_posix()
        for line, contexts in data.contexts_by_lineno(measured).items():
            for context in contexts:
                if context:  # "" is import time, not any test
                    by_context.setdefault(context, set()).add((path, line))
    return _assign_contexts(by_context, test_ids)


def _assign_contexts(
    by_context: Mapping[str, set[LineKey]], test_ids: list[str]
) -> dict[str, frozenset[LineKey]]:
    """Give each test id the lines of the context(s) that name it."""
    result: dict[str, frozenset[LineKey]] = {}
    for test_id in test_ids:
        lines: set[LineKey] = set()
        for context, executed in by_context.items():
            if context_matches(context, test_id):
                lines |= executed
        if lines:
            result[test_id] = frozenset(lines)
    return result
