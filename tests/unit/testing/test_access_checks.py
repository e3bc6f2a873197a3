"""Tools that ask access(2) before writing still work in the sandbox (issue 25's survey).

The work copy is writable to the sandbox's uid only through a capability, which access(2)
ignores: hypothesis then finds its database folder "unusable" and warns, and a suite that turns
warnings into errors (python-dateutil's) failed before any test reported.
"""

from __future__ import annotations

from pathlib import Path

from app.testing.testcmd import parse
from app.testing.testrun import run_tests

CONFIG = "[pytest]\nfilterwarnings =\n    error\n"
TESTS = """from hypothesis import given, strategies as st


@given(st.integers())
def test_addition_commutes(n):
    assert n + 1 == 1 + n
"""


def test_a_hypothesis_suite_that_errors_on_warnings_runs_in_the_sandbox(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text(CONFIG)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_props.py").write_text(TESTS)
    run = run_tests(tmp_path, parse("pytest -q"), timeout=120)
    outcomes = {o.test_id: (o.outcome, o.message) for o in run.outcomes}
    assert outcomes == {"tests/test_props.py::test_addition_commutes": ("passed", "")}, outcomes
    assert not (tmp_path / ".hypothesis").exists()  # nothing of the run left in the work copy
