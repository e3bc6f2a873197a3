"""Which Python versions a project says it supports, and whether a failure is the interpreter's.

A project names its versions in its classifiers (`Programming Language :: Python :: 3.11`), its
tox `envlist` (`py38,py311`) and its CI matrix (`python-version: ["3.9", "3.12"]`). The newest
version it names is the one its maintainers test on, so it comes first, before the newest the
machine has (every one of 20 popular repositories got Python 3.13 before, issue 25). And a
build or a collection that fails for a reason no other interpreter changes (a package that does
not exist, an import nobody declared) must not be retried on three older Pythons.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

#: `Programming Language :: Python :: 3.11`
_CLASSIFIER = re.compile(r"Programming Language :: Python :: (3\.\d{1,2})\b")
#: `py311` in a tox envlist, `3.11` in a workflow's python-version matrix (quoted or not).
_TOX_ENV = re.compile(r"(?<![\w.])py3(\d{1,2})(?![\w.])")
_MATRIX = re.compile(r"python(?:-version|_version|)\s*:\s*\[?([^\]\n]{1,400})")
_VERSION = re.compile(r"(?<![\d.])3\.(\d{1,2})(?![\d])")
#: Standard modules that newer Pythons removed: a project that imports one needs an older one.
REMOVED_MODULES = frozenset(
    {
        "imp",
        "distutils",
        "asynchat",
        "asyncore",
        "smtpd",
        "cgi",
        "cgitb",
        "crypt",
        "imghdr",
        "mailcap",
        "nntplib",
        "pipes",
        "sndhdr",
        "spwd",
        "sunau",
        "telnetlib",
        "uu",
        "xdrlib",
        "audioop",
        "chunk",
        "msilib",
        "nis",
        "ossaudiodev",
        "lib2to3",
    }
)
#: Words in a failure that point at the interpreter rather than the project.
_INTERPRETER_SIGNS = re.compile(
    r"SyntaxError|invalid syntax|requires-python|Requires-Python|python_requires"
    r"|the current Python version|No matching distribution|only has wheels|unsupported Python"
    r"|cannot import name '[^']{1,80}' from 'collections'"
)
_MISSING_MODULE = re.compile(r"No module named '([\w.]{1,120})'")


def named_versions(files: dict[str, str]) -> tuple[str, ...]:
    """The `3.N` versions a project names, newest first, from its files' texts by name."""
    found: set[int] = set()
    for name, text in files.items():
        text = text[:200_000]
        if name.endswith(".yml") or name.endswith(".yaml"):
            for line in _MATRIX.findall(text):
                found.update(int(m) for m in _VERSION.findall(line))
        elif name == "tox.ini":
            found.update(int(m) for m in _TOX_ENV.findall(text))
        else:
            found.update(int(m.split(".")[1]) for m in _CLASSIFIER.findall(text))
    return tuple(f"3.{minor}" for minor in sorted(found, reverse=True))


def depends_on_interpreter(problem: str) -> bool:
    """Would another Python plausibly change this build or collection failure?"""
    text = problem[-20_000:]
    if _INTERPRETER_SIGNS.search(text):
        return True
    return any(m.split(".")[0] in REMOVED_MODULES for m in _MISSING_MODULE.findall(text))


def project_files(root: Path, read: Callable[[Path, str], str | None]) -> dict[str, str]:
    """The texts `named_versions` reads; `read(root, name)` is the caller's bounded reader
    (None for a file that is absent, a link or too large)."""
    names = ["pyproject.toml", "setup.cfg", "setup.py", "tox.ini"]
    workflows = root / ".github" / "workflows"
    if workflows.is_dir() and not workflows.is_symlink():
        names += sorted(
            f".github/workflows/{p.name}"
            for p in workflows.iterdir()
            if p.suffix in (".yml", ".yaml")
        )[:20]
    texts = {}
    for name in names:
        text = read(root, name)
        if text is not None:
            texts[name] = text
    return texts
