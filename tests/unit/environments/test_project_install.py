"""The project itself is installed into its environment, and install lines run in its copy
(issue 25): its metadata, entry points and pytest plugin exist, while its code still comes from
the copy under test."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from app.environments import EnvironmentBuildError, EnvironmentRequest, prepare
from app.testing.testcmd import parse
from app.testing.testrun import run_tests

pytestmark = pytest.mark.slow

PYPROJECT = """[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "plugged"
version = "1.2.3"

[project.optional-dependencies]
test = ["termcolor"]

[project.entry-points.pytest11]
plugged = "plugged.plugin"

[project.entry-points."plugged.things"]
first = "plugged:VALUE"

[tool.setuptools]
packages = ["plugged"]
"""
TESTS = """import importlib.metadata

import termcolor

import plugged


def test_metadata():
    assert importlib.metadata.version("plugged") == "1.2.3"


def test_entry_points():
    names = [e.name for e in importlib.metadata.entry_points(group="plugged.things")]
    assert names == ["first"]


def test_own_plugin_fixture(plugged_fixture):
    assert plugged_fixture == 42


def test_code_comes_from_the_copy_under_test():
    assert plugged.VALUE == "edited"
    assert termcolor
"""


def _repo(root: Path) -> Path:
    files = {
        "pyproject.toml": PYPROJECT,
        "requirements-test.txt": "-e .[test]\n",
        "plugged/__init__.py": 'VALUE = "original"\n',
        "plugged/plugin.py": "import pytest\n\n\n@pytest.fixture\n"
        "def plugged_fixture():\n    return 42\n",
        "tests/test_plugged.py": TESTS,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_project_is_installed_and_its_requirements_file_resolves_in_its_copy(
    tmp_path: Path, environment_cache: Path
) -> None:
    root = _repo(tmp_path / "repo")
    command = parse("pytest -q")
    environment = prepare(root, EnvironmentRequest(cache_dir=environment_cache))
    assert not [n for n in environment.notes if "could not" in n], environment.notes
    (root / "plugged" / "__init__.py").write_text('VALUE = "edited"\n')  # a candidate's edit
    run = run_tests(root, command.in_environment(environment), timeout=120)
    assert {o.test_id.split("::")[1]: o.outcome for o in run.outcomes} == {
        "test_metadata": "passed",
        "test_entry_points": "passed",
        "test_own_plugin_fixture": "passed",
        "test_code_comes_from_the_copy_under_test": "passed",
    }, run.output[-2000:]


def test_a_version_taken_from_git_builds_because_the_copy_keeps_its_git(
    tmp_path: Path, environment_cache: Path
) -> None:
    root = tmp_path / "scm"
    (root / "scm_pkg").mkdir(parents=True)
    (root / "scm_pkg" / "__init__.py").write_text("")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64", "setuptools-scm>=8"]\n'
        'build-backend = "setuptools.build_meta"\n[project]\nname = "scm-pkg"\n'
        'dynamic = ["version"]\n[tool.setuptools_scm]\n[tool.setuptools]\npackages = ["scm_pkg"]\n'
    )
    (root / "tests").mkdir()
    (root / "tests" / "test_v.py").write_text(
        "import importlib.metadata\n\n\ndef test_v():\n"
        "    assert importlib.metadata.version('scm-pkg') == '4.5.6'\n"
    )
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "x"], ["tag", "v4.5.6"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *argv], cwd=root, check=True
        )
    environment = prepare(root, EnvironmentRequest(cache_dir=environment_cache))
    run = run_tests(root, parse("pytest -q").in_environment(environment), timeout=120)
    assert [o.outcome for o in run.outcomes] == ["passed"], run.output[-2000:]


def test_code_that_imports_pkg_resources_gets_setuptools(
    tmp_path: Path, environment_cache: Path
) -> None:
    root = tmp_path / "old"
    (root / "tests").mkdir(parents=True)
    (root / "old.py").write_text("import pkg_resources\n\nVERSION = 1\n")
    (root / "tests" / "test_old.py").write_text("import old\n\n\ndef test_it():\n    assert old\n")
    environment = prepare(root, EnvironmentRequest(cache_dir=environment_cache, python="3.12"))
    assert "setuptools" in environment.tools_added
    run = run_tests(root, parse("pytest -q").in_environment(environment), timeout=120)
    assert [o.outcome for o in run.outcomes] == ["passed"], run.output[-2000:]


def test_a_dependency_that_cannot_exist_is_an_error_with_uvs_reason_on_one_interpreter(
    tmp_path: Path, environment_cache: Path
) -> None:
    root = tmp_path / "dateutil"
    (root / "tests").mkdir(parents=True)
    (root / "requirements.txt").write_text("python-dateutil>=99\n")
    (root / "tests" / "test_d.py").write_text("import dateutil\n\n\ndef test_d():\n    pass\n")
    said: list[str] = []
    command = parse("pytest -q")
    request = EnvironmentRequest(cache_dir=environment_cache, probe=command.probe())
    with pytest.raises(EnvironmentBuildError) as raised:
        prepare(root, request, said.append)
    message = str(raised.value)
    assert "cannot be installed" in message and "python-dateutil>=99" in message
    assert "dateutil" in message and ("no version" in message or "No solution" in message)
    assert sum(1 for s in said if s.startswith("building a Python")) == 1  # no ladder


def test_a_pyproject_that_does_not_parse_is_reported_before_any_interpreter_is_tried(
    tmp_path: Path, environment_cache: Path
) -> None:
    root = tmp_path / "broken"
    (root / "tests").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project\nname = 'x'\n")
    said: list[str] = []
    with pytest.raises(EnvironmentBuildError, match=r"pyproject\.toml does not parse"):
        prepare(root, EnvironmentRequest(cache_dir=environment_cache), said.append)
    assert said == []


def test_an_interpreter_older_than_fixwurxs_coverage_still_gets_an_environment(
    tmp_path: Path, environment_cache: Path
) -> None:
    """A project that names Python 3.8 gets 3.8: coverage falls back to a version that installs
    there (the same data-file schema), where it used to fail the build and cost the ladder."""
    from app.environments.interpreters import installed

    if not any(i.version[:2] == (3, 8) for i in installed()):
        pytest.skip("needs Python 3.8 installed (pyenv on the CI machine has it)")
    root = tmp_path / "old"
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_it.py").write_text("def test_it():\n    assert True\n")
    environment = prepare(root, EnvironmentRequest(cache_dir=environment_cache, python="3.8"))
    assert environment.python_version.startswith("3.8")
    assert "coverage" in environment.tools_added
    assert any("coverage>=6" in note for note in environment.notes), environment.notes


def test_a_version_file_the_build_writes_reaches_every_work_copy(
    tmp_path: Path, environment_cache: Path
) -> None:
    """humanize's `from ._version import __version__`: hatch-vcs (here setuptools-scm) writes
    the file at install time, into FixWurx's build copy, never into the checkout (issue 25)."""
    root = tmp_path / "versioned"
    (root / "scm_pkg").mkdir(parents=True)
    (root / "scm_pkg" / "__init__.py").write_text("from ._version import __version__\n")
    (root / ".gitignore").write_text("scm_pkg/_version.py\n")
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64", "setuptools-scm>=8"]\n'
        'build-backend = "setuptools.build_meta"\n[project]\nname = "scm-pkg"\n'
        'dynamic = ["version"]\n[tool.setuptools_scm]\nversion_file = "scm_pkg/_version.py"\n'
        '[tool.setuptools]\npackages = ["scm_pkg"]\n'
    )
    (root / "tests").mkdir()
    (root / "tests" / "test_v.py").write_text(
        "import scm_pkg\n\n\ndef test_v():\n    assert scm_pkg.__version__ == '7.8.9'\n"
    )
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "x"], ["tag", "v7.8.9"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *argv], cwd=root, check=True
        )
    said: list[str] = []
    environment = prepare(root, EnvironmentRequest(cache_dir=environment_cache), said.append)
    assert "wrote scm_pkg/_version.py, which the project's build generates" in said
    run = run_tests(root, parse("pytest -q").in_environment(environment), timeout=120)
    assert [o.outcome for o in run.outcomes] == ["passed"], run.output[-2000:]
    # A second work copy reuses the environment and gets the file too; one that has it keeps it.
    (root / "scm_pkg" / "_version.py").unlink()
    again = prepare(root, EnvironmentRequest(cache_dir=environment_cache))
    assert again.reused and (root / "scm_pkg" / "_version.py").is_file()
    (root / "scm_pkg" / "_version.py").write_text("__version__ = 'mine'\n")
    prepare(root, EnvironmentRequest(cache_dir=environment_cache))
    assert (root / "scm_pkg" / "_version.py").read_text() == "__version__ = 'mine'\n"


SPEEDUPS_C = """#include <Python.h>

static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", "", -1, methods};
PyMODINIT_FUNC PyInit__speedups(void) { return PyModule_Create(&module); }
"""


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no C compiler to build the extension")
def test_an_extension_module_the_install_compiles_reaches_every_work_copy(
    tmp_path: Path, environment_cache: Path
) -> None:
    """markupsafe's `_speedups`: the editable install compiles it into FixWurx's build copy,
    never into the checkout, so the tests of the C speedups skipped (issue 25)."""
    root = tmp_path / "speedy"
    (root / "speedy").mkdir(parents=True)
    (root / "speedy" / "__init__.py").write_text("")
    (root / "speedy" / "_speedups.c").write_text(SPEEDUPS_C)
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=64"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "speedy"\nversion = "1.0"\n'
    )
    (root / "setup.py").write_text(
        "from setuptools import Extension, setup\n\n"
        'setup(packages=["speedy"], '
        'ext_modules=[Extension("speedy._speedups", ["speedy/_speedups.c"])])\n'
    )
    (root / "tests").mkdir()
    (root / "tests" / "test_s.py").write_text(
        "from speedy import _speedups\n\n\ndef test_s():\n    assert _speedups.answer() == 42\n"
    )
    said: list[str] = []
    environment = prepare(root, EnvironmentRequest(cache_dir=environment_cache), said.append)
    placed = [s for s in said if s.startswith("placed speedy/_speedups.")]
    assert placed and placed[0].endswith(".so, the extension module the project's install compiled")
    run = run_tests(root, parse("pytest -q").in_environment(environment), timeout=120)
    assert [o.outcome for o in run.outcomes] == ["passed"], run.output[-2000:]
    # A second work copy reuses the environment and gets the module; one that has it keeps it.
    (built,) = list((root / "speedy").glob("_speedups*.so"))
    built.unlink()
    again = prepare(root, EnvironmentRequest(cache_dir=environment_cache))
    assert again.reused and built.is_file()
    built.write_bytes(b"mine")
    prepare(root, EnvironmentRequest(cache_dir=environment_cache))
    assert built.read_bytes() == b"mine"
