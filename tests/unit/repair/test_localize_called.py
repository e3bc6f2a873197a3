"""Without coverage and with the only frame in a test, the functions the test calls are blamed."""

from __future__ import annotations

from pathlib import Path

from app.repair.localization import localize
from app.testing.testcmd import parse
from app.testing.testrun import run_tests


def test_a_unittest_assertion_points_at_the_called_function(tmp_path: Path) -> None:
    (tmp_path / "mathx.py").write_text(
        "def double(x):\n    return x + x + 1\n\n\ndef other():\n    return 0\n"
    )
    (tmp_path / "test_mathx.py").write_text(
        "import unittest\nfrom mathx import double\n\n\nclass T(unittest.TestCase):\n"
        "    def test_double(self):\n        self.assertEqual(double(3), 6)\n"
    )
    command = parse("python -m unittest")
    run = run_tests(tmp_path, command, timeout=60)
    assert [o.outcome for o in run.outcomes] == ["failed"]
    ranked = localize(tmp_path, command, run.failing, (), timeout=60)
    assert [(loc.path, loc.line) for loc in ranked] == [("mathx.py", 2)]
    assert "double()" in ranked[0].why
