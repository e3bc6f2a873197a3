"""Where a new test file must go for the repository's own test configuration to collect it.

A reproduction test written at the repository root is never collected when pytest's `testpaths`
names a folder (common), and a name outside `python_files` is never collected either: the run
then reported "the snippet runs without error" about a test that never ran (issue 25). So the
file goes into the first configured test folder under a name the configured patterns match.
The configuration files are the repository's: read through `app.workfiles`, size-bounded.
"""

from __future__ import annotations

import configparser
import fnmatch
import tomllib
from pathlib import Path, PurePosixPath

from app import workfiles

#: The reproduction file's name stem, and its name under pytest's default patterns.
REPRO_STEM = "fixwurx_issue_repro"
DEFAULT_NAME = f"test_{REPRO_STEM}.py"
#: A configuration file larger than this is not read (it is no ordinary configuration).
CONFIG_LIMIT = 512 * 1024
#: pytest's ini-style files and the section holding its options, in pytest's own order.
_INI_FILES = (("pytest.ini", "pytest"), ("tox.ini", "pytest"), ("setup.cfg", "tool:pytest"))


def repro_location(root: Path) -> str:
    """The repository-relative path for a reproduction test that the suite will collect."""
    options = pytest_options(root)
    folder = next((p for p in options.get("testpaths", ()) if _is_folder(root, p)), "")
    name = _file_name(options.get("python_files", ()))
    return str(PurePosixPath(folder) / name) if folder else name


def pytest_options(root: Path) -> dict[str, tuple[str, ...]]:
    """`testpaths` and `python_files` from the first pytest configuration that declares any."""
    for name, section in _INI_FILES:
        found = _ini_options(root, name, section)
        if found is not None:
            return found
    return _pyproject_options(root) or {}


def _ini_options(root: Path, name: str, section: str) -> dict[str, tuple[str, ...]] | None:
    text = _read(root, name)
    if text is None:
        return None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    if not parser.has_section(section):
        return None
    return {key: tuple(parser.get(section, key, fallback="").split()) for key in _KEYS}


def _pyproject_options(root: Path) -> dict[str, tuple[str, ...]] | None:
    text = _read(root, "pyproject.toml")
    if text is None:
        return None
    try:
        table = tomllib.loads(text).get("tool", {}).get("pytest", {}).get("ini_options")
    except tomllib.TOMLDecodeError:
        return None
    if not isinstance(table, dict):
        return None
    return {key: _strings(table.get(key)) for key in _KEYS}


_KEYS = ("testpaths", "python_files")


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _file_name(patterns: tuple[str, ...]) -> str:
    """A name the configured `python_files` patterns match (pytest's defaults when none)."""
    if not patterns or any(fnmatch.fnmatch(DEFAULT_NAME, p) for p in patterns):
        return DEFAULT_NAME
    for pattern in patterns:
        if pattern.endswith(".py") and pattern.count("*") == 1 and "/" not in pattern:
            return pattern.replace("*", REPRO_STEM)
    return DEFAULT_NAME


def _is_folder(root: Path, path: str) -> bool:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or any(c in path for c in "*?["):
        return False
    # A folder the copy holds itself: a link (even to a folder inside) is never written through.
    exists = workfiles.exists(root, path) and not workfiles.is_file(root, path)
    return exists and not workfiles.is_link(root, path)


def _read(root: Path, name: str) -> str | None:
    if not workfiles.is_file(root, name):
        return None
    try:
        if workfiles.resolve(root, name).stat().st_size > CONFIG_LIMIT:
            return None
        return workfiles.read_text(root, name, errors="replace")
    except OSError:
        return None
