"""The Python interpreters installed on this machine, and which one a repository gets.

There is no network to download interpreters, so only installed ones count: the system's
(/usr/bin/python3.N, /usr/local/bin), pyenv's versions, uv's managed ones, and FixWurx's own
base interpreter. Each is asked its version once per process (these are the operator's
binaries, not repository code).
"""

from __future__ import annotations

import functools
import glob
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from app import defaults

#: Seconds to wait for an interpreter to print its version.
_QUERY_TIMEOUT_S = 10.0
_QUERY = "import sys; print('%d.%d.%d' % sys.version_info[:3]); print(sys.base_prefix)"


@dataclass(frozen=True)
class Interpreter:
    """One installed interpreter: its executable, version and installation prefix."""

    executable: str
    version: tuple[int, int, int]
    prefix: str

    @property
    def version_text(self) -> str:
        """ "3.11.7"."""
        return ".".join(str(p) for p in self.version)


def _patterns() -> list[str]:
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    uv_home = os.path.expanduser("~/.local/share/uv/python")
    return [
        "/usr/bin/python3.[0-9]*",
        "/usr/local/bin/python3.[0-9]*",
        f"{pyenv}/versions/*/bin/python3",
        f"{uv_home}/*/bin/python3",
        os.path.join(sys.base_prefix, "bin", "python3"),
    ]


@functools.cache
def installed() -> tuple[Interpreter, ...]:
    """Every usable interpreter, newest first, one per version."""
    seen: dict[tuple[int, int, int], Interpreter] = {}
    for pattern in _patterns():
        for path in sorted(glob.glob(pattern)):
            if path.endswith("-config") or not os.access(path, os.X_OK):
                continue
            found = _query(os.path.realpath(path))
            if found is not None and found.version[:2] >= defaults.ENV_MIN_PYTHON:
                seen.setdefault(found.version, found)
    return tuple(sorted(seen.values(), key=lambda i: i.version, reverse=True))


def _query(executable: str) -> Interpreter | None:
    try:
        done = subprocess.run(
            [executable, "-I", "-c", _QUERY],
            capture_output=True,
            text=True,
            timeout=_QUERY_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = done.stdout.split()
    if done.returncode != 0 or len(lines) != 2:
        return None
    parts = lines[0].split(".")
    version = (int(parts[0]), int(parts[1]), int(parts[2]))
    return Interpreter(executable, version, os.path.realpath(lines[1]))


def candidates(
    requested: str | None, requires_python: str | None, named: tuple[str, ...] = ()
) -> list[Interpreter]:
    """Interpreters to try: those matching `requested` ("3.11") if given, else those satisfying
    `requires_python` (an unparsable one is ignored rather than fatal). The versions the
    project `named` (newest first) come first, the newest it names leading; then the rest,
    newest first."""
    pool = list(installed())
    if requested:
        wanted = tuple(int(p) for p in requested.split("."))
        return [i for i in pool if i.version[: len(wanted)] == wanted]
    spec = _specifier(requires_python)
    if spec is not None:
        pool = [i for i in pool if spec.contains(i.version_text, prereleases=True)]
    order = {version: rank for rank, version in enumerate(named)}
    return sorted(pool, key=lambda i: order.get(f"{i.version[0]}.{i.version[1]}", len(order)))


def _specifier(text: str | None) -> SpecifierSet | None:
    if not text:
        return None
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def describe_installed() -> str:
    """ "3.13.0, 3.12.1, ..." for error messages."""
    return ", ".join(i.version_text for i in installed()) or "none"


def prefix_path(interpreter: Interpreter) -> Path:
    """The installation to mount read-only in test runs."""
    return Path(interpreter.prefix)
