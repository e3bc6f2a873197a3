"""Which command runs the tests: unittest and nose command lines run through pytest."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.testing.testcmd import parse
from app.testing.testrun import run_tests


def test_unittest_and_nose_commands_become_per_test_pytest_runs() -> None:
    cases = {
        "python -m unittest": [],
        "python -m unittest discover -s tests -p 'test_*.py'": ["tests"],
        "python -m unittest tests.test_calc": ["tests/test_calc.py"],
        "python3 -m unittest -v tests.test_calc.CalcTest.test_add": [
            "tests/test_calc.py::CalcTest::test_add"
        ],
        "nosetests tests/test_calc.py": ["tests/test_calc.py"],
    }
    for text, targets in cases.items():
        command = parse(text)
        assert command.is_pytest, text
        assert command.argv == (sys.executable, "-m", "pytest", "-q", *targets), text


def test_a_unittest_suite_reports_each_test(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text("")
    (tmp_path / "tests" / "test_calc.py").write_text(
        "import unittest\n\n\nclass CalcTest(unittest.TestCase):\n"
        "    def test_add(self):\n        self.assertEqual(1 + 1, 2)\n\n"
        "    def test_sub(self):\n        self.assertEqual(2 - 1, 0)\n"
    )
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    run = run_tests(tmp_path, parse("python -m unittest discover -s tests"), timeout=120)
    assert {o.test_id: o.outcome for o in run.outcomes} == {
        "tests/test_calc.py::CalcTest::test_add": "passed",
        "tests/test_calc.py::CalcTest::test_sub": "failed",
    }
