"""Which of the project's functions a failing test calls by name, and which the issue names.

Spectrum scores tie often: every line a test runs through a small function gets the same
Ochiai score as the helpers that function calls. The test's own source breaks such ties: the
functions it calls by name are the behaviour it checks, so their lines are likelier to hold the
fault than the plumbing under them. An issue's text does the same from the other side: the
identifiers a reporter quotes (`parse_header`, `Config.load`, `utils/dates.py`) name the code
they saw misbehave.

Names are resolved statically (nothing runs): a test file's own imports tell which module's
`match` a test means when a hundred modules define one; a name the test file does not import
counts only when few source files define it. A helper function of the test file that the test
calls is followed one level, since suites often wrap the call under test in one.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app import pysource, workfiles
from app.repair.coverage_scope import imported_sources
from app.repair.scope import in_scope

#: A name the test does not import counts only when at most this many source files define it.
MAX_UNIMPORTED_DEFINITIONS = 3
#: How deep the test file's own helper functions are followed.
HELPER_DEPTH = 2
#: Identifiers in an issue: `dotted.names`, snake_case, CamelCase, and words called with "()".
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_PATH = re.compile(r"[A-Za-z0-9_./-]+\.py\b")
#: Ordinary words an issue uses that are also common function names.
_TOO_COMMON = frozenset({"self", "cls", "init", "main", "test", "run", "get", "set", "call"})


@dataclass(frozen=True)
class Definition:
    """A function of the project: where it is and the lines of its statements."""

    path: str
    name: str
    lines: tuple[int, ...]


def definitions(root: Path, ignore: Sequence[str] = ()) -> dict[str, list[Definition]]:
    """Every function and method of the in-scope source files, by name (a scan budget bounds
    the files parsed). A class is indexed too, by its name, with its `__init__`'s lines."""
    index: dict[str, list[Definition]] = {}
    budget = pysource.ScanBudget()
    for rel in sorted(workfiles.walk_files(root, ".py")):
        path = rel.as_posix()
        if not in_scope(path, root, ignore):
            continue
        tree = budget.parse_file(root, path)
        for definition in _definitions_in(tree, path) if tree is not None else ():
            index.setdefault(definition.name, []).append(definition)
    return index


def _definitions_in(tree: ast.Module, path: str) -> Iterator[Definition]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield Definition(path, node.name, statement_lines(node))
        elif isinstance(node, ast.ClassDef):
            init = next(
                (n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"),
                None,
            )
            if init is not None:
                yield Definition(path, node.name, statement_lines(init))


def statement_lines(function: ast.AST) -> tuple[int, ...]:
    """Start lines of the statements inside `function` (not its own `def` line)."""
    lines = {n.lineno for n in ast.walk(function) if isinstance(n, ast.stmt) and n is not function}
    return tuple(sorted(lines))


def called_by_tests(
    root: Path, test_ids: Iterable[str], index: dict[str, list[Definition]]
) -> dict[str, list[Definition]]:
    """For each failing test, the project functions its body calls by name (resolved through
    the test file's imports); keyed by the test's short name."""
    found: dict[str, list[Definition]] = {}
    for test_id in test_ids:
        path, _, rest = test_id.partition("::")
        if not rest or not in_root(path):
            continue
        tree = pysource.parse_file(root, path)
        function = _test_function(tree, rest) if tree is not None else None
        if tree is None or function is None:
            continue
        names = _called_names(function, _module_functions(tree), HELPER_DEPTH)
        imported = imported_sources(root, path)
        chosen = [d for name in sorted(names) for d in resolve(name, index, imported)]
        if chosen:
            found[rest.rsplit("::", 1)[-1]] = chosen
    return found


def in_root(path: str) -> bool:
    """A relative path that stays inside the work copy (a test id is repository output)."""
    posix = PurePosixPath(path)
    return bool(path) and not posix.is_absolute() and ".." not in posix.parts


def resolve(name: str, index: dict[str, list[Definition]], imported: set[str]) -> list[Definition]:
    """The definitions `name` most likely means: those in an imported module, else the few."""
    candidates = index.get(name, [])
    mine = [d for d in candidates if d.path in imported]
    if mine:
        return mine
    paths = {d.path for d in candidates}
    return candidates if len(paths) <= MAX_UNIMPORTED_DEFINITIONS else []


def _test_function(tree: ast.Module, qualname: str) -> ast.AST | None:
    """The test's function from `Class::name[params]` (nested classes too)."""
    parts = qualname.split("[", 1)[0].split("::")
    scope: list[ast.stmt] = tree.body
    found: ast.AST | None = None
    for part in parts:
        found = next(
            (
                n
                for n in scope
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                and n.name == part
            ),
            None,
        )
        if found is None:
            return None
        scope = found.body
    return found if isinstance(found, ast.FunctionDef | ast.AsyncFunctionDef) else None


def _module_functions(tree: ast.Module) -> dict[str, ast.AST]:
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def _called_names(function: ast.AST, helpers: dict[str, ast.AST], depth: int) -> set[str]:
    """Names called in `function` (`f(...)`, `obj.f(...)`), through the file's own helpers."""
    names: set[str] = set()
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name):
            name = node.func.id
        elif isinstance(node.func, ast.Attribute):
            name = node.func.attr
        else:
            continue
        helper = helpers.get(name)
        if helper is not None and helper is not function:
            if depth > 1:
                names |= _called_names(helper, helpers, depth - 1)
            continue  # a helper of the test file is not project code
        names.add(name)
    return names


def issue_identifiers(text: str) -> tuple[set[str], set[str]]:
    """(names, file paths) an issue's text mentions that could be code.

    A plain word is too common to say anything ("the parser fails"), so a name counts when it
    looks like code: written with an underscore, an inner capital or a dot, quoted in
    backticks, or followed by "(".
    """
    names: set[str] = set()
    quoted = " ".join(re.findall(r"`([^`\n]{1,200})`", text))
    for match in _IDENTIFIER.finditer(text):
        token = match.group(0)
        called = text[match.end() : match.end() + 1] == "("
        code_like = "_" in token.strip("_") or "." in token or _inner_capital(token)
        if code_like or called:
            names.update(part for part in token.split(".") if part)
    for match in _IDENTIFIER.finditer(quoted):
        names.update(part for part in match.group(0).split(".") if part)
    names = {n for n in names if len(n) > 2 and n.lower() not in _TOO_COMMON}
    paths = {p.removeprefix("./") for p in _PATH.findall(text)}
    return names - {"py"}, {p for p in paths if in_root(p)}


def _inner_capital(token: str) -> bool:
    return any(c.isupper() for c in token[1:]) and any(c.islower() for c in token)
