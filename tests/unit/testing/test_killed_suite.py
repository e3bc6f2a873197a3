"""A suite killed at its deadline still reports the tests that finished (issue 25)."""

from __future__ import annotations

from pathlib import Path

from app.testing.testcmd import parse
from app.testing.testrun import finished_outcomes, run_tests

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
    }


def test_finished_lines_are_read_one_cut_line_at_a_time() -> None:
    output = (
        "tests/t.py::test_x[a] PASSED    [ 50%]\n"
        "tests/t.py::test_y SKIPPED (no db)\n"
        "noise ::: FAILED\n" + "x" * 100_000 + "::y PASSED\n"
    )
    found = {o.test_id: o.outcome for o in finished_outcomes(output)}
    assert found == {"tests/t.py::test_x[a]": "passed", "tests/t.py::test_y": "skipped"}
