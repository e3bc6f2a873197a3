"""Which Pythons a project names, and whether a failure is the interpreter's (issue 25)."""

from __future__ import annotations

import pytest

from app.environments.interpreters import candidates, installed
from app.environments.support import depends_on_interpreter, named_versions


def test_versions_named_in_classifiers_tox_and_the_ci_matrix_newest_first() -> None:
    files = {
        "setup.py": "classifiers=['Programming Language :: Python :: 3.8',\n"
        "'Programming Language :: Python :: 3.10', 'Programming Language :: Python :: 3']",
        "tox.ini": "[tox]\nenvlist = py39, py311-django, lint\n",
        ".github/workflows/ci.yml": "jobs:\n  t:\n    strategy:\n      matrix:\n"
        "        python-version: ['3.9', \"3.12\", pypy-3.10]\n",
    }
    assert named_versions(files) == ("3.12", "3.11", "3.10", "3.9", "3.8")


def test_nothing_named_gives_nothing() -> None:
    assert named_versions({"pyproject.toml": "[project]\nname = 'x'\n"}) == ()


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ("ModuleNotFoundError: No module named 'imp'", True),
        ("No module named 'distutils.core'", True),
        ("SyntaxError: invalid syntax", True),
        ("Because the current Python version (3.13.0) does not satisfy Python>=3.6,<3.10", True),
        ("ModuleNotFoundError: No module named 'dateutil'", False),
        ("No solution found when resolving dependencies: no version of python-dateutil>=99", False),
        ("setup step 1 `make` failed (exit 2)", False),
    ],
)
def test_which_failures_another_python_could_change(problem: str, expected: bool) -> None:
    assert depends_on_interpreter(problem) is expected


def test_the_newest_named_version_comes_before_the_newest_installed() -> None:
    versions = {i.version[:2] for i in installed()}
    if not {(3, 11), (3, 12)} <= versions:
        pytest.skip("needs Python 3.11 and 3.12 installed (pyenv on the CI machine has both)")
    pool = [i.version for i in candidates(None, None, ("3.11", "3.9"))]
    named = [v for v in pool if v[:2] in ((3, 11), (3, 9))]
    assert pool[0][:2] == (3, 11)
    assert pool[: len(named)] == named  # the named versions lead, 3.11 before 3.9
    rest = pool[len(named) :]
    assert rest == sorted(rest, reverse=True)
    assert candidates(None, ">=3.12", ("3.11",))[0].version[:2] >= (3, 12)  # requires-python wins
