"""Without coverage and with the only frame in a test, the functions the test calls are blamed.

A script that runs its own tests (`python test_x.py` ending in `unittest.main()`) stays one
opaque result: there is no per-test coverage, only the traceback it prints. (`python -m
unittest` itself now runs through pytest and gets a spectrum: see test_unittest_args.py.)
"""

from __future__ import annotations

from pathlib import Path

from app.repair.localization import localize
from app.testing.testcmd import parse
from app.testing.testrun import run_tests

MATHX = "def double(x):\n    return x + x + 1\n\n\ndef other():\n    return 0\n"
TESTS = (
    "import unittest\nfrom mathx import double\n\n\nclass T(unittest.TestCase):\n"
    "    def test_double(self):\n        self.assertEqual(double(3), 6)\n"
)


def test_a_unittest_assertion_points_at_the_called_function(tmp_path: Path) -> None:
    (tmp_path / "mathx.py").write_text(MATHX)
    (tmp_path / "test_mathx.py").write_text(TESTS + "\n\nunittest.main()\n")
    command = parse("python test_mathx.py")
    assert not command.is_pytest
    run = run_tests(tmp_path, command, timeout=60)
    assert [o.outcome for o in run.outcomes] == ["failed"]
    ranked = localize(tmp_path, command, run.failing, (), timeout=60)
    assert [(loc.path, loc.line) for loc in ranked] == [("mathx.py", 2)]
    assert "double()" in ranked[0].why


def test_python_m_unittest_gets_a_spectrum(tmp_path: Path) -> None:
    (tmp_path / "mathx.py").write_text(MATHX)
    (tmp_path / "test_mathx.py").write_text(
        TESTS + "\n    def test_other(self):\n        from mathx import other\n"
        "        self.assertEqual(other(), 0)\n"
    )
    command = parse("python -m unittest", tmp_path)
    run = run_tests(tmp_path, command, timeout=60)
    outcomes = {o.test_id: o.outcome for o in run.outcomes}
    assert outcomes == {
        "test_mathx.py::T::test_double": "failed",
        "test_mathx.py::T::test_other": "passed",
    }
    ranked = localize(tmp_path, command, run.failing, run.passing_ids, timeout=60)
    assert (ranked[0].path, ranked[0].line) == ("mathx.py", 2)
    assert ranked[0].why.startswith("run by ") and "Ochiai" in ranked[0].why
