"""What a repository declares, read statically: every place real projects keep it (issue 25)."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

from app.environments.detect import (
    detect,
    poetry_requirement,
    requirement_files,
    tox_requirement,
)


def _repo(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_test_requirements_are_found_where_projects_keep_them_and_python2_files_are_not(
    tmp_path: Path,
) -> None:
    names = [
        "requirements.txt",
        "test_requirements.txt",
        "requirements-test.txt",
        "dev-requirements.txt",
        "requirements-py2.txt",
        "requirements_py27.txt",
        "tests/requirements.txt",
        "test/requirements-dev.txt",
        "requirements/base.txt",
        "tests/data.txt",
    ]
    root = _repo(tmp_path, {n: "six\n" for n in names})
    assert requirement_files(root) == [
        "dev-requirements.txt",
        "requirements-test.txt",
        "requirements.txt",
        "test_requirements.txt",
        "requirements/base.txt",
        "tests/requirements.txt",
        "test/requirements-dev.txt",
    ]


def test_flit_metadata_requires_and_its_test_extra(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "pyproject.toml": '[tool.flit.metadata]\nmodule = "m"\nrequires = ["requests>=2"]\n'
            '[tool.flit.metadata.requires-extra]\ntest = ["pytest-mock"]\ndoc = ["sphinx"]\n'
        },
    )
    declared = detect(root)
    assert declared.requirements == ("requests>=2", "pytest-mock")
    assert declared.sources == ("pyproject.toml",)


def test_poetry_tables_become_pep_508_requirements(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "pyproject.toml": "[tool.poetry.dependencies]\n"
            'python = "^3.8"\nclick = "^8.0.1"\nattrs = {version = "~21.2", extras = ["tests"]}\n'
            'local = {path = "../local"}\n'
            '[tool.poetry.group.test.dependencies]\npytest = "*"\n'
            '[tool.poetry.group.docs.dependencies]\nsphinx = "*"\n'
        },
    )
    assert detect(root).requirements == (
        "click>=8.0.1,<9",
        "attrs[tests]>=21.2,<21.3",
        "pytest",
    )
    for requirement in detect(root).requirements:
        Requirement(requirement)  # every one parses


@pytest.mark.parametrize(
    ("name", "spec", "expected"),
    [
        ("six", "1.16.0", "six==1.16.0"),
        ("a", "^0.2.3", "a>=0.2.3,<0.3"),
        ("a", "^0.0.3", "a>=0.0.3,<0.0.4"),
        ("a", ">=1,<3", "a>=1,<3"),
        ("a", {"version": "*", "python": "<3.8"}, "a; (python_version < '3.8')"),
        ("python", "^3.8", ""),
        ("a", {"git": "https://x/y.git"}, ""),
    ],
)
def test_poetry_constraints(name: str, spec: object, expected: str) -> None:
    assert poetry_requirement(name, spec) == expected


@pytest.mark.parametrize(
    ("line", "expected_on_311"),
    [
        ("pytest>=7", True),
        ("py3: pycurl", True),
        ("py311: pycurl", True),
        ("py27: pycurl", False),
        ("!py27: pycurl", True),
        ("py3-django: pycurl", None),  # a non-Python factor: another tox environment
        ("cdh,hdp: pycurl>=1", None),
    ],
)
def test_tox_factor_lines_become_markers_or_are_left_out(
    line: str, expected_on_311: bool | None
) -> None:
    requirement = tox_requirement(line)
    if expected_on_311 is None:
        assert requirement == ""
        return
    parsed = Requirement(requirement)
    marker = parsed.marker or Marker("python_version >= '0'")
    assert marker.evaluate({"python_version": "3.11"}) is expected_on_311


def test_setup_py_that_builds_its_keywords_in_code(tmp_path: Path) -> None:
    root = _repo(
        tmp_path,
        {
            "setup.py": "from setuptools import setup\n"
            "base = ['colorama', 'six']\n"
            "tests = [*base, 'mock']\n"
            "tests += ['pytest']\n"
            "kwargs = dict(name='x', install_requires=base, tests_require=tests)\n"
            "setup(**kwargs)\n"
        },
    )
    assert detect(root).requirements == ("colorama", "six", "mock", "pytest")


_LEGACY_TOX = '''[project]
name = "demo"

[tool.tox]
legacy_tox_ini = """
[tox]
envlist = py3

[core]
deps =
    pytest
    pytest-asyncio

[testenv]
deps =
    {[core]deps}
    py3: rich
    keras: keras
    {env:EXTRA}
"""
'''


def test_tox_configuration_inside_pyproject_is_read_with_its_section_references(
    tmp_path: Path,
) -> None:
    """tqdm keeps tox's ini text in pyproject (`legacy_tox_ini`) and its test tools in a
    `[core]` section that `[testenv]` names as `{[core]deps}`: without both, pytest-asyncio
    (needed by its `--asyncio-mode` addopts) is missing and pytest stops with a usage error."""
    declared = detect(_repo(tmp_path, {"pyproject.toml": _LEGACY_TOX}))
    assert "pyproject.toml ([tool.tox] legacy_tox_ini)" in declared.sources
    assert "pytest-asyncio" in declared.requirements
    assert "rich; ((python_version >= '3' and python_version < '4'))" in declared.requirements
    assert not [r for r in declared.requirements if "keras" in r or "{" in r]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("pyproject.toml", '[tool.tox.env_run_base]\ndeps = ["pytest-asyncio", 3]\n'),
        ("tox.toml", '[env_run_base]\ndeps = ["pytest-asyncio"]\n'),
    ],
)
def test_tox_4_native_toml_deps_are_read(tmp_path: Path, name: str, text: str) -> None:
    declared = detect(_repo(tmp_path, {name: text}))
    assert "pytest-asyncio" in declared.requirements
    assert [s for s in declared.sources if "tox" in s]


def test_a_tox_section_reference_that_names_itself_stops(tmp_path: Path) -> None:
    text = "[testenv]\ndeps =\n    {[testenv]deps}\n    six\n"
    declared = detect(_repo(tmp_path, {"tox.ini": text}))
    assert declared.requirements == ("six",)
    assert declared.sources == ("tox.ini",)
