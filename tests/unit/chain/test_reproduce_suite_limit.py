"""A baseline past the suite limit still reports the tests that finished (issue 25): passed and
failed, the one still running as unfinished, how many never started, and the setting that
raises the limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.chain.planner import RepairOutcome
from app.chain.stages.context import StageContext
from app.chain.stages.reproduce import reproduce
from app.chain.state import RunState
from app.local.report import not_fixed_report
from app.testing.results import TestRun
from app.testing.testcmd import parse
from app.testing.testrun import never_started

FAST = """def test_passes():
    assert True


def test_fails():
    assert 1 == 2
"""
# Blocks pytest-timeout's alarm, as native code can: only the suite's deadline stops it.
SLOW = """import signal
import time


def test_slow():
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])
    time.sleep(600)


def test_after_the_slow_one():
    assert True
"""
LATER = "def test_never_reached():\n    assert True\n"
LIMIT = 9.0


def _run(root: Path, fast: str = FAST) -> tuple[RunState, list[str]]:
    (root / "tests").mkdir()
    (root / "tests" / "test_a_fast.py").write_text(fast)
    (root / "tests" / "test_b_slow.py").write_text(SLOW)
    (root / "tests" / "test_c_later.py").write_text(LATER)
    said: list[str] = []
    state = RunState(source=str(root))
    ctx = StageContext(
        root=root,
        command=parse("pytest -q"),
        suite_timeout=LIMIT,  # the setting: --timeout, or timeout_seconds: in the App
        progress=lambda stage, message: said.append(message),
    )
    reproduce(state, ctx).apply(state)
    return state, said


def test_the_tests_that_finished_are_kept_and_the_limit_is_named(tmp_path: Path) -> None:
    state, said = _run(tmp_path)
    outcomes = {o["test_id"]: o["outcome"] for o in state.baseline}
    assert outcomes == {
        "tests/test_a_fast.py::test_passes": "passed",
        "tests/test_a_fast.py::test_fails": "failed",
        "tests/test_b_slow.py::test_slow": "failed",  # unfinished: never a pass
    }
    assert state.reproducing == ["tests/test_a_fast.py::test_fails"]
    (unfinished,) = state.left_failing
    assert unfinished["kind"] == "unfinished"
    assert unfinished["tests"] == ["tests/test_b_slow.py::test_slow"]
    line = next(m for m in said if "time limit" in m)
    assert line == (
        "the suite hit its time limit of 9s: 2 tests finished (1 passed, 1 failed); "
        "unfinished: tests/test_b_slow.py::test_slow; 2 never started. "
        "Raise the limit with --timeout (or `timeout_seconds:` in .github/fixwurx.yml)"
    )
    state.finish("not_fixed", "none of 0 candidate patches passed verification")
    report = not_fixed_report(RepairOutcome("not_fixed", None, state.reason, state))
    assert (
        "  left failing, not a target: tests/test_b_slow.py::test_slow did not finish: the whole "
        "suite hit its time limit first (raise it with --timeout, or `timeout_seconds:` in "
        ".github/fixwurx.yml)"
    ) in report


def test_nothing_failing_that_finished_says_the_limit_was_hit(tmp_path: Path) -> None:
    state, _ = _run(tmp_path, fast="def test_passes():\n    assert True\n")
    assert state.status == "not_fixed"
    assert "the suite hit its time limit" in state.reason and "--timeout" in state.reason


@pytest.mark.parametrize(
    ("head", "left"),
    [
        ("collected 7 items", 5),
        ("collecting ... collected 7 items / 3 deselected", 2),
        ("collected 9 items / 2 deselected / 7 selected", 5),
        ("collected 1 item", 0),
        ("no count here", 0),
    ],
)
def test_never_started_reads_pytests_count(head: str, left: int) -> None:
    from app.testing.results import TestOutcome

    done = (TestOutcome("t.py::a", "passed"), TestOutcome("t.py::b", "failed"))
    assert never_started(TestRun(done, -9, 9.0, True, f"{head}\n\nt.py::a PASSED\n")) == left
    assert never_started(TestRun(done, 1, 9.0, False, f"{head}\n")) == 0


def test_a_suite_killed_before_any_test_finished_is_bad_input_naming_the_setting(
    tmp_path: Path,
) -> None:
    from app.errors import BadInput

    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_b_slow.py").write_text(SLOW)
    ctx = StageContext(root=tmp_path, command=parse("pytest -q"), suite_timeout=LIMIT)
    with pytest.raises(BadInput, match="did not finish within 9s: raise the limit with --timeout"):
        reproduce(RunState(source=str(tmp_path)), ctx)
