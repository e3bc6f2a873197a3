"""Which tests the coverage run measures: on a large suite, the target tests and their neighbours.

Spectrum localization needs the failing tests' lines and, for contrast, passing tests that run
the same code. On a suite of a few dozen files the whole suite under coverage is cheap and
gives the best contrast; on a large one it can take longer than the whole repair. There the
run is narrowed to the target tests' files plus the test files that import the more specific
of the repository modules the target files import (read statically; nothing is executed: a
module nearly every test imports is skipped, see `_specific_neighbours`), and time-boxed:
when it runs out, localization falls back to the tracebacks, as it does when coverage cannot
run at all.
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from app import pysource, workfiles
from app.repair.scope import in_scope
from app.workfiles import NOT_REPOSITORY_CODE

#: A suite with at most this many test files runs whole under coverage.
SMALL_SUITE_FILES = 40
#: At most this many other test files join the targets' own (see `_specific_neighbours`).
MAX_NEIGHBOURS = 20
#: Seconds a narrowed coverage run may take at most.
TIME_BOX_S = 120.0
#: File names that hold tests (pytest's defaults).
TEST_FILE_PATTERNS = ("test_*.py", "*_test.py")
#: Directories whose test files are not the repository's suite.
SKIPPED_DIRS = NOT_REPOSITORY_CODE
#: Where a repository's importable code may live, relative to its root.
IMPORT_ROOTS = ("", "src")


def coverage_selection(root: Path, targets: Sequence[str]) -> tuple[str, ...]:
    """Test files to run under coverage; () means the whole suite."""
    if not targets:
        return ()
    tests = test_files(root)
    if len(tests) <= SMALL_SUITE_FILES:
        return ()
    target_files = {t.split("::", 1)[0] for t in targets}
    budget = pysource.ScanBudget()  # a suite of 50,000 files is read only up to the budget
    touched: set[str] = set()
    for path in target_files:
        touched |= imported_sources(root, path, budget)
    if not touched:
        return tuple(sorted(target_files))
    sharers: dict[str, set[str]] = {module: set() for module in touched}
    for path in tests:
        if path not in target_files:
            for module in imported_sources(root, path, budget) & touched:
                sharers[module].add(path)
    return tuple(sorted(target_files | _specific_neighbours(sharers)))


def _specific_neighbours(sharers: dict[str, set[str]]) -> set[str]:
    """The test files of the touched modules that few test files import, rarest first.

    A module most of the suite imports (the project's base types, its package root) says
    nothing about which tests exercise the bug's code, and taking its importers would run the
    whole suite under coverage, past the time box: so modules are taken from the least
    imported up, while their importers together stay within MAX_NEIGHBOURS.
    """
    chosen: set[str] = set()
    for module in sorted(sharers, key=lambda m: (len(sharers[m]), m)):
        if len(chosen | sharers[module]) > MAX_NEIGHBOURS:
            break
        chosen |= sharers[module]
    return chosen


def test_files(root: Path) -> list[str]:
    """Repository-relative test files (links are never followed)."""
    found = []
    for path in workfiles.walk_files(root, ".py"):
        named = any(fnmatch.fnmatch(path.name, pattern) for pattern in TEST_FILE_PATTERNS)
        if named and not SKIPPED_DIRS & set(path.parts):
            found.append(path.as_posix())
    return sorted(found)


def imported_sources(root: Path, path: str, budget: pysource.ScanBudget | None = None) -> set[str]:
    """The repository's own source files that module `path` imports (absolute imports, and
    relative ones resolved against its package); an unreadable, huge or unparsed file (once
    `budget` is spent) imports nothing."""
    tree = (budget or pysource.ScanBudget()).parse_file(root, path)
    if tree is None:
        return set()
    package = PurePosixPath(path).parent.parts
    found: set[str] = set()
    for name in _imported_names(tree, package):
        found |= _sources(root, name)
    return found


def _imported_names(tree: ast.AST, package: tuple[str, ...]) -> Iterable[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                kept = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                base = ".".join([*kept, base] if base else kept)
            if base:
                yield base
                yield from (f"{base}.{alias.name}" for alias in node.names)


def _sources(root: Path, dotted: str) -> set[str]:
    parts = dotted.split(".")
    found: set[str] = set()
    for top in IMPORT_ROOTS:
        stem = "/".join([top, *parts] if top else parts)
        for candidate in (f"{stem}.py", f"{stem}/__init__.py"):
            if workfiles.is_file(root, candidate) and in_scope(candidate, root):
                found.add(candidate)
    return found
