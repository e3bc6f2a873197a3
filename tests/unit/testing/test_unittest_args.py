"""unittest and nose commands run through pytest, so each test reports on its own."""

from __future__ import annotations

import sys
from pathlib import Path

from app.testing.testcmd import parse
from app.testing.testrun import run_tests
from app.testing.unittest_args import as_pytest

PATTERN = "--override-ini=python_files=test*.py"


def _args(command: str, root: Path | None = None) -> tuple[str, ...] | None:
    translated = as_pytest(command.split(), root)
    if translated is None:
        return None
    assert translated[:4] == (sys.executable, "-m", "pytest", "-q")
    return translated[4:]


def test_names_become_node_ids() -> None:
    assert _args("python -m unittest") == (PATTERN,)
    assert _args("python3 -m unittest -v tests.test_calc.TestAdd.test_big") == (
        PATTERN,
        "tests/test_calc.py::TestAdd::test_big",
    )
    assert _args("python -m unittest -f tests/test_calc.py") == (
        PATTERN,
        "-x",
        "tests/test_calc.py",
    )
    assert _args("nosetests tests/test_calc.py:TestAdd.test_big") == (
        PATTERN,
        "tests/test_calc.py::TestAdd::test_big",
    )
    assert _args("python -m nose -s tests") == (PATTERN, "-s", "tests")


def test_the_tree_settles_a_package_and_a_module(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "tests").mkdir(parents=True)
    (tmp_path / "pkg" / "tests" / "test_io.py").write_text("")
    assert _args("python -m unittest pkg.tests", tmp_path) == (PATTERN, "pkg/tests")
    assert _args("python -m unittest pkg.tests.test_io.Case", tmp_path) == (
        PATTERN,
        "pkg/tests/test_io.py::Case",
    )


def test_discover_keeps_its_start_and_pattern() -> None:
    assert _args("python -m unittest discover -s tests -p *_check.py") == (
        "--override-ini=python_files=*_check.py",
        "tests",
    )
    assert _args("python -m unittest discover src") == (PATTERN, "src")


def test_an_option_without_an_equivalent_stays_opaque() -> None:
    assert _args("python -m unittest -k slow") is None
    assert _args("python -m unittest discover -s") is None
    assert _args("python manage.py test") is None
    assert not parse("python -m unittest --locals").is_pytest


def test_a_unittest_suite_reports_each_test_and_narrows(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "testcalc.py").write_text(  # unittest's pattern, not pytest's
        "import unittest\n\n\nclass Calc(unittest.TestCase):\n"
        "    def test_ok(self):\n        self.assertEqual(1 + 1, 2)\n\n"
        "    def test_bad(self):\n        self.assertEqual(1 + 1, 3)\n"
    )
    command = parse("python -m unittest discover -s tests", tmp_path)
    run = run_tests(tmp_path, command, timeout=60)
    outcomes = {o.test_id: o.outcome for o in run.outcomes}
    assert outcomes == {
        "tests/testcalc.py::Calc::test_bad": "failed",
        "tests/testcalc.py::Calc::test_ok": "passed",
    }
    assert "3" in run.failing[0].message
    narrowed = run_tests(
        tmp_path, command, timeout=60, test_ids=("tests/testcalc.py::Calc::test_ok",)
    )
    assert [(o.test_id, o.outcome) for o in narrowed.outcomes] == [
        ("tests/testcalc.py::Calc::test_ok", "passed")
    ]
