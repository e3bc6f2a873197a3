"""`fixwurx fix` on repositories that need a package from the index, declared three ways.

The module under repair imports `termcolor`, which FixWurx itself does not install: the bug
can only be reproduced, and the fix verified, in the environment FixWurx builds from what the
repository declares (tests/unit/environments covers the building blocks).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

AGES = '''import termcolor


def is_adult(age):
    """People of 18 and over are adults."""
    return age > 18


def label(age):
    return termcolor.colored("adult" if is_adult(age) else "minor", None)
'''
TESTS = """from ages import is_adult, label


def test_eighteen_is_adult():
    assert is_adult(18)


def test_seventeen_is_not():
    assert not is_adult(17)


def test_label():
    assert label(30) == "adult"
"""
PYPROJECT = '[project]\nname = "ages"\nversion = "1.0"\ndependencies = ["termcolor"]\n'


def _fixwurx(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_DATA_HOME": str(home / "data"),
        "ENVIRONMENT_CACHE_DIR": os.environ["ENVIRONMENT_CACHE_DIR"],
    }
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )


@pytest.mark.parametrize(
    ("declared", "extra", "sources"),
    [
        ({"pyproject.toml": PYPROJECT}, (), ["pyproject.toml"]),
        ({"requirements.txt": "termcolor\n"}, (), ["requirements.txt"]),
        ({}, ("--setup", "pip install -q termcolor"), ["setup commands"]),
    ],
    ids=["pyproject", "requirements", "setup-command"],
)
def test_a_bug_in_code_that_needs_a_pypi_package_is_reproduced_and_fixed(
    tmp_path: Path, declared: dict[str, str], extra: tuple[str, ...], sources: list[str]
) -> None:
    repo = tmp_path / "ages"
    (repo / "tests").mkdir(parents=True)
    (repo / "ages.py").write_text(AGES)
    (repo / "tests" / "test_ages.py").write_text(TESTS)
    for name, text in declared.items():
        (repo / name).write_text(text)
    state_file = tmp_path / "state.json"
    result = _fixwurx(
        "fix", str(repo), "--json", "--state-out", str(state_file), *extra, home=tmp_path
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert "age >= 18" in report["bundle"]["diff"]
    state = json.loads(state_file.read_text())
    assert state["reproducing"] == ["tests/test_ages.py::test_eighteen_is_adult"]
    assert state["environment"]["sources"] == sources
    assert report["bundle"]["evidence"]["environment"].startswith("Python 3.")


def test_without_an_environment_the_package_is_missing(tmp_path: Path) -> None:
    """The same repository on FixWurx's own interpreter cannot even import: the test above
    only passes because the environment exists."""
    repo = tmp_path / "ages"
    (repo / "tests").mkdir(parents=True)
    (repo / "ages.py").write_text(AGES)
    (repo / "tests" / "test_ages.py").write_text(TESTS)
    (repo / "requirements.txt").write_text("termcolor\n")
    result = _fixwurx("fix", str(repo), "--no-environment", home=tmp_path)
    # The module does not import: an environment error naming the import, never a repair target.
    assert result.returncode == 2, result.stdout + result.stderr
    assert "No module named 'termcolor'" in result.stderr


def test_a_failing_setup_command_ends_the_run_with_the_step_named(tmp_path: Path) -> None:
    repo = tmp_path / "ages"
    (repo / "tests").mkdir(parents=True)
    (repo / "ages.py").write_text(AGES)
    (repo / "tests" / "test_ages.py").write_text(TESTS)
    result = _fixwurx("fix", str(repo), "--setup", "exit 4", home=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr  # bad input, not "not fixed"
    assert "setup step 1 `exit 4` failed (exit 4)" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
