"""A suite killed at its deadline still reports the tests that finished (issue 25)."""

from __future__ import annotations

from pathlib import Path

from app.testing.results import SANDBOX_KILL_MARK
from app.testing.testcmd import parse
from app.testing.testrun import finished_outcomes, run_tests, running_outcomes

SUITE = """import time


def test_a_passes():
    assert True


def test_b_fails():
    assert 1 == 2


def test_c_never_ends():
    time.sleep(600)
"""


def test_a_suite_past_its_timeout_reports_the_tests_that_finished(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_slow.py").write_text(SUITE)
    run = run_tests(tmp_path, parse("pytest -q"), timeout=8, per_test_timeout=None)
    assert run.timed_out
    outcomes = {o.test_id: o.outcome for o in run.outcomes}
    assert outcomes == {
        "tests/test_slow.py::test_a_passes": "passed",
        "tests/test_slow.py::test_b_fails": "failed",
        "tests/test_slow.py::test_c_never_ends": "failed",  # still running: unfinished
    }
    assert run.by_id()["tests/test_slow.py::test_c_never_ends"].message == SANDBOX_KILL_MARK


def test_finished_lines_are_read_one_cut_line_at_a_time() -> None:
    output = (
        "tests/t.py::test_x[a] PASSED    [ 50%]\n"
        "tests/t.py::test_y SKIPPED (no db)\n"
        "noise ::: FAILED\n" + "x" * 100_000 + "::y PASSED\n"
    )
    found = {o.test_id: o.outcome for o in finished_outcomes(output)}
    assert found == {"tests/t.py::test_x[a]": "passed", "tests/t.py::test_y": "skipped"}


def test_a_started_line_without_a_status_is_running_unless_it_finished() -> None:
    output = (
        "collected 3 items\n\n"
        "tests/t.py::test_a PASSED  [ 33%]\n"
        "tests/t.py::test_b \n"
        "E   x::y is not a test id line\n"
    )
    finished = finished_outcomes(output)
    running = running_outcomes(output, finished, 4.0)
    assert [(o.test_id, o.outcome, o.message) for o in running] == [
        ("tests/t.py::test_b", "failed", SANDBOX_KILL_MARK)
    ]
    assert running_outcomes("tests/t.py::test_a\n", finished_outcomes(output), 1.0) == ()
