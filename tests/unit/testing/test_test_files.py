"""The "are there tests at all?" gate knows a project's own test file names (issue 25's survey:
tqdm names its modules `tests/tests_*.py` through pytest's `python_files`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import BadInput
from app.testing.testcmd import resolve


def test_modules_in_a_tests_folder_with_the_projects_own_names_are_tests(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\npython_files = ["tests_*.py"]\ntestpaths = ["tests"]\n'
    )
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text("")
    (tmp_path / "tests" / "tests_things.py").write_text("def test_x():\n    assert True\n")
    assert resolve(tmp_path, None).is_pytest


def test_a_tests_folder_with_only_its_package_files_is_still_no_tests(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "__init__.py").write_text("")
    (tmp_path / "tests" / "conftest.py").write_text("")
    (tmp_path / "main.py").write_text("print('hi')\n")
    with pytest.raises(BadInput, match="no tests found"):
        resolve(tmp_path, None)
