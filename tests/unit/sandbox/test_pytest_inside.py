"""The real workload: this venv's pytest runs a small suite inside the sandbox."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from app.sandbox import run

SUITE = {
    "calc.py": "def add(a, b):\n    return a - b\n",
    "test_calc.py": (
        "from calc import add\n\n"
        "def test_add():\n    assert add(2, 2) == 4\n\n"
        "def test_zero():\n    assert add(0, 0) == 0\n\n"
        "def test_tmp_path(tmp_path):\n    (tmp_path / 'f').write_text('x')\n"
    ),
}


def test_pytest_suite_runs_and_writes_junit_into_the_work_copy(backend: str, work: Path) -> None:
    for name, text in SUITE.items():
        (work / name).write_text(text)
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml=r.xml"]
    result = run(argv, work, 60)
    assert result.returncode == 1, result
    assert "1 failed, 2 passed" in result.stdout
    suite = ET.parse(work / "r.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("3", "1")
    assert not list(work.rglob("__pycache__"))  # PYTHONDONTWRITEBYTECODE keeps diffs clean
