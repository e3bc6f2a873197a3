"""Literals and return values: flip a boolean, swap a string for a sibling, return the result.

Return-value fixes cover the bare `return` (or `return None`) that should return a computed
local, a `return` of the wrong local, and a function that forgot its final `return`; a base
case (a `return` under an `if`) that returns a name where 0 or 1 was meant, or the other way
round; and a constant `return True` that should test the state the function built
(`return depth == 0`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from app.repair.templates.base import FUNCTIONS, MAX_WEIGHT, Mutation, ParsedFile
from app.repair.templates.scope_names import scope_at, unread_locals

FAMILY = "literal_or_return"
PRIOR = 0.5
#: Sibling strings tried per string literal.
MAX_STRING_SIBLINGS = 5
#: Sibling numbers tried per numeric literal.
MAX_NUMBER_SIBLINGS = 5
#: Locals tried per return fix.
MAX_RETURN_NAMES = 5
#: The identities of + and *: what a recursion's base case returns far more often than not.
BASE_VALUES = ("0", "1")
#: Locals tried per `return True`/`return False` turned into a test of the function's state.
MAX_STATE_NAMES = 3


def mutations(pf: ParsedFile, stmt: ast.stmt, nodes: list[ast.AST]) -> Iterator[Mutation]:
    """Literal changes on the statement, then return fixes."""
    for node in nodes:
        if isinstance(node, ast.Constant):
            yield from _literal(pf, node)
    if isinstance(stmt, ast.Return):
        yield from _return(pf, stmt)
        yield from _base_case(pf, stmt)
        yield from _boolean_result(pf, stmt)
    yield from _missing_return(pf, stmt)


def _literal(pf: ParsedFile, node: ast.Constant) -> Iterator[Mutation]:
    value = node.value
    if isinstance(value, bool):
        yield pf.replace(node, str(not value), f"{value} -> {not value}", 1.0)
    elif isinstance(value, int | float):
        if value:
            yield pf.replace(node, repr(-value), f"{value} -> {-value}", 0.3)
        for sibling in _sibling_numbers(pf, node):
            yield pf.replace(node, repr(sibling), f"{value!r} -> {sibling!r}", 0.4)
    elif isinstance(value, str) and not isinstance(pf.parents.get(node), ast.JoinedStr | ast.Expr):
        for word in _sibling_strings(pf, node):
            yield pf.replace(node, repr(word), f"{value!r} -> {word!r}", 0.4)


def _sibling_numbers(pf: ParsedFile, node: ast.Constant) -> list[int | float]:
    """Other numeric literals of the module (a constant typed wrong is often used correctly
    elsewhere), skipping the trivial ones that off-by-one already covers."""
    own = node.value
    found: list[int | float] = []
    for other in ast.walk(pf.tree):
        value = other.value if isinstance(other, ast.Constant) else None
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if numeric and isinstance(own, int | float) and abs(value - own) > 1:  # type: ignore[operator]
            found.append(value)  # type: ignore[arg-type]
    return list(dict.fromkeys(found))[:MAX_NUMBER_SIBLINGS]


def _sibling_strings(pf: ParsedFile, node: ast.Constant) -> list[str]:
    """Other short string literals of the same function, then the module: keys, separators."""
    owners = [pf.function_of(node), pf.tree]
    found = []
    for other in (n for owner in owners if owner is not None for n in ast.walk(owner)):
        if (
            isinstance(other, ast.Constant)
            and isinstance(other.value, str)
            and other.value != node.value
            and len(other.value) <= 40
            and not isinstance(pf.parents.get(other), ast.JoinedStr | ast.Expr)
        ):
            found.append(other.value)
    return list(dict.fromkeys(found))[:MAX_STRING_SIBLINGS]


def _return(pf: ParsedFile, stmt: ast.Return) -> Iterator[Mutation]:
    scope = scope_at(pf, stmt)
    current = pf.segment(stmt.value) if stmt.value is not None else "None"
    options = [n for n in scope.locals + scope.params if n != current][:MAX_RETURN_NAMES]
    unread = unread_locals(pf, stmt)
    for name in options:
        weight = 0.7 if current == "None" else 0.4
        if name in unread:
            weight = MAX_WEIGHT  # a computed, never-used local is what this should return
        yield pf.replace(stmt, f"return {name}", f"return `{name}` instead of `{current}`", weight)


def _missing_return(pf: ParsedFile, stmt: ast.stmt) -> Iterator[Mutation]:
    """The statement ends a function that never returns a value: return a local after it."""
    function = pf.function_of(stmt)
    if function is None or function.body[-1] is not stmt or isinstance(stmt, ast.Return):
        return
    if any(isinstance(n, ast.Return) and n.value is not None for n in _own_walk(function)):
        return
    scope = scope_at(pf, stmt)
    at = pf.line_start((stmt.end_lineno or stmt.lineno) + 1)
    for name in scope.locals[:MAX_RETURN_NAMES]:
        text = f"{pf.indent_of(stmt)}return {name}\n"
        yield Mutation(at, at, text, f"add the missing `return {name}`", 0.7)


def _own_walk(function: ast.AST) -> Iterator[ast.AST]:
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, (*FUNCTIONS, ast.Lambda, ast.ClassDef)):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _base_case(pf: ParsedFile, stmt: ast.Return) -> Iterator[Mutation]:
    """A `return` directly under an `if`: the identities 0 and 1 for a returned name or number
    (`return base` for `return 1`); the names the `if` tests for a returned number
    (`if n < 2: return 1` for `return n`)."""
    branch = pf.parents.get(stmt)
    value = stmt.value
    if not isinstance(branch, ast.If) or stmt not in branch.body or value is None:
        return
    number = isinstance(value, ast.Constant) and type(value.value) in (int, float)
    if not (number or isinstance(value, ast.Name)):
        return
    function = pf.function_of(stmt)
    recursive = function is not None and any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == function.name
        for n in ast.walk(function)
    )
    weight = 0.8 if recursive else 0.45
    own = pf.segment(value)
    options = [v for v in BASE_VALUES if v != own]
    if number:
        tested = [n.id for n in ast.walk(branch.test) if isinstance(n, ast.Name)]
        options += [n for n in dict.fromkeys(tested) if n != own]
    for option in options:
        yield pf.replace(value, option, f"base case returns `{option}`, not `{own}`", weight)


def _boolean_result(pf: ParsedFile, stmt: ast.Return) -> Iterator[Mutation]:
    """`return True` at the end of a scan that should test what the scan counted or built."""
    value = stmt.value
    if not (isinstance(value, ast.Constant) and isinstance(value.value, bool)):
        return
    function = pf.function_of(stmt)
    if function is None:
        return
    counters, others = _state_names(function, stmt.lineno)
    tests: list[str] = []
    for name in counters:
        tests.append(f"{name} == 0" if value.value else f"{name} != 0")
    for name in others:
        tests.append(f"not {name}" if value.value else f"bool({name})")
    for test in tests[: 2 * MAX_STATE_NAMES]:
        yield pf.replace(value, test, f"return `{test}`, not `{value.value}`", 0.6)


def _state_names(function: ast.AST, before: int) -> tuple[list[str], list[str]]:
    """Locals assigned before line `before`, nearest first: (counted with numbers, the rest)."""
    numeric: dict[str, int] = {}
    other: dict[str, int] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            numeric[node.target.id] = max(numeric.get(node.target.id, 0), node.lineno)
        elif isinstance(node, ast.Assign) and node.lineno < before:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    is_number = isinstance(node.value, ast.Constant) and type(node.value.value) in (
                        int,
                        float,
                    )
                    bucket = numeric if is_number else other
                    bucket[target.id] = max(bucket.get(target.id, 0), node.lineno)
    other = {n: line for n, line in other.items() if n not in numeric}
    nearest = sorted(numeric, key=lambda n: -numeric[n])[:MAX_STATE_NAMES]
    rest = sorted(other, key=lambda n: -other[n])[:MAX_STATE_NAMES]
    return nearest, rest
