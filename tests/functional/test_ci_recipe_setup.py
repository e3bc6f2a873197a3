"""`fixwurx fix` on repositories whose only install recipe is in their CI (issue 25).

The repository declares nothing; its tests import `helperpkg`, which only its workflow installs
(from a wheel vendored in the repository, so the step is offline). The declared files give no
environment the tests collect in, so the workflow's install commands are tried as setup steps:
the run ends fixed and says which workflow and job the setup came from and what it skipped.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from app.environments import EnvironmentRequest, prepare
from app.environments.detect import detect
from app.testing.testcmd import parse
from tests.functional.test_cli_fix import EXAMPLE, fixwurx

pytestmark = pytest.mark.slow

WORKFLOW = """name: CI
on: [push, pull_request]
env:
  HELPER_MODE: strict
jobs:
  test:
    runs-on: ubuntu-latest
    services:
      postgres:
        image: postgres:16
    strategy:
      matrix:
        python-version: ["3.11", "3.12"]
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: ${{ matrix.python-version }}
      - run: sudo apt-get install -y libxml2-dev
      - name: Install
        run: |
          python -m pip install --upgrade pip
          pip install --no-index --find-links vendor helperpkg
      - name: Publish coverage
        run: pip install codecov-uploader
        env:
          TOKEN: ${{ secrets.CODECOV_TOKEN }}
      - run: pytest -q
"""

TOX = """[tox]
envlist = py3

[testenv]
deps =
    --no-index
    --find-links vendor
    helperpkg
skip_install = true
commands = pytest
"""


def helper_wheel(folder: Path) -> None:
    """A wheel of `helperpkg` (pure Python), written by hand: no build backend, no network."""
    files = {
        "helperpkg/__init__.py": "def twice(x):\n    return 2 * x\n",
        "helperpkg-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: helperpkg\nVersion: 1.0\n",
        "helperpkg-1.0.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(text.encode())}")
    record.append("helperpkg-1.0.dist-info/RECORD,,")
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(folder / "helperpkg-1.0-py3-none-any.whl", "w") as wheel:
        for name, text in files.items():
            wheel.writestr(name, text)
        wheel.writestr("helperpkg-1.0.dist-info/RECORD", "\n".join(record) + "\n")


def ci_only_repository(root: Path, *, workflow: str | None = WORKFLOW, tox: str = "") -> Path:
    """buggy_calc, whose tests also import `helperpkg`, installed only by its CI."""
    shutil.copytree(EXAMPLE, root)
    for test in (root / "tests").glob("test_*.py"):
        test.write_text("import helperpkg\n" + test.read_text())
    helper_wheel(root / "vendor")
    if workflow is not None:
        (root / ".github" / "workflows").mkdir(parents=True)
        (root / ".github" / "workflows" / "ci.yml").write_text(workflow)
    if tox:
        (root / "tox.ini").write_text(tox)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init"],
        cwd=root,
        check=True,
    )
    return root


def test_a_repository_whose_only_install_recipe_is_its_workflow_is_fixed(tmp_path: Path) -> None:
    project = ci_only_repository(tmp_path / "ci_only")
    result = fixwurx("fix", str(project), home=tmp_path / "home")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "+    while lo <= hi:" in result.stdout
    taken = (
        "setup taken from .github/workflows/ci.yml (job test): "
        "pip install --no-index --find-links vendor helperpkg; env: HELPER_MODE=strict"
    )
    assert taken in output
    assert "services: postgres (a service)" in output
    assert "sudo apt-get install -y libxml2-dev (system packages)" in output
    assert "pip install codecov-uploader (uses a secret)" in output
    assert "python -m pip install --upgrade pip (updates the installer only)" in output
    # The report's environment line (and the bundle's recipe) names the workflow too.
    (env_line,) = [line for line in result.stdout.splitlines() if line.startswith("env ")]
    assert ".github/workflows/ci.yml (job test)" in env_line


def test_without_the_workflow_the_same_repository_is_an_environment_error(
    tmp_path: Path,
) -> None:
    project = ci_only_repository(tmp_path / "no_ci", workflow=None)
    result = fixwurx("fix", str(project), home=tmp_path / "home")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "No module named 'helperpkg'" in result.stderr
    assert "setup taken from" not in result.stderr


def test_a_workflow_whose_recipe_does_not_help_exits_2_naming_it(tmp_path: Path) -> None:
    broken = WORKFLOW.replace("--find-links vendor helperpkg", "--find-links vendor otherpkg")
    project = ci_only_repository(tmp_path / "wrong_ci", workflow=broken)
    result = fixwurx("fix", str(project), home=tmp_path / "home")
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("fixwurx: error:")]
    assert "No module named 'helperpkg'" in line
    assert "Tried: setup taken from .github/workflows/ci.yml (job test): " in line
    assert "otherpkg; env: HELPER_MODE=strict; skipped: services: postgres" in line


def test_a_tox_ini_recipe_builds_the_environment(tmp_path: Path, environment_cache: Path) -> None:
    project = ci_only_repository(tmp_path / "tox_only", workflow=None, tox=TOX)
    command = parse("pytest")
    request = EnvironmentRequest(cache_dir=environment_cache, probe=command.probe())
    messages: list[str] = []
    env = prepare(project, request, messages.append)
    assert env.sources == (
        "setup taken from tox.ini ([testenv]): "
        "pip install --no-index --find-links vendor helperpkg",
    )
    assert not any("did not collect" in n for n in env.notes)
    assert any("setup taken from tox.ini" in m for m in messages)


def test_the_recipe_is_part_of_the_environment_key(tmp_path: Path, environment_cache: Path) -> None:
    """The same repository with a different workflow recipe builds a different environment."""
    probe = parse("pytest").probe()
    request = EnvironmentRequest(cache_dir=environment_cache, probe=probe, scope="one repository")
    first = ci_only_repository(tmp_path / "one")
    env = prepare(first, request)
    changed = WORKFLOW.replace("HELPER_MODE: strict", "HELPER_MODE: lenient")
    second = ci_only_repository(tmp_path / "two", workflow=changed)
    again = prepare(second, request)
    assert detect(first).fingerprint == detect(second).fingerprint  # declared alike
    assert again.key != env.key, (env.notes, again.notes)
    assert "HELPER_MODE=lenient" in again.sources[0]


def test_the_ci_is_not_read_when_the_declared_files_give_a_working_environment(
    tmp_path: Path, environment_cache: Path
) -> None:
    project = ci_only_repository(tmp_path / "declared_ok")
    for test in (project / "tests").glob("test_*.py"):  # the tests need nothing undeclared
        test.write_text(test.read_text().replace("import helperpkg\n", ""))
    request = EnvironmentRequest(cache_dir=environment_cache, probe=parse("pytest").probe())
    messages: list[str] = []
    env = prepare(project, request, messages.append)
    assert env.sources == ()
    assert not any("setup taken from" in m for m in messages)


def test_the_users_own_setup_is_never_replaced_by_the_ci(
    tmp_path: Path, environment_cache: Path
) -> None:
    project = ci_only_repository(tmp_path / "own_setup")
    request = EnvironmentRequest(
        cache_dir=environment_cache, probe=parse("pytest").probe(), setup=("true",)
    )
    messages: list[str] = []
    env = prepare(project, request, messages.append)
    assert env.sources == ("setup commands",)
    assert any("did not collect" in n for n in env.notes)
    assert not any("setup taken from" in m for m in messages)
