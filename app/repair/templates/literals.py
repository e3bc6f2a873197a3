"""Literals and return values: flip a boolean, swap a string for a sibling, return the result.

Return-value fixes cover the bare `return` (or `return None`) that should return a computed
local, a `return` of the wrong local, and a function that forgot its final `return`.
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


def mutations(pf: ParsedFile, stmt: ast.stmt, nodes: list[ast.AST]) -> Iterator[Mutation]:
    """Literal changes on the statement, then return fixes."""
    for node in nodes:
        if isinstance(node, ast.Constant):
            yield from _literal(pf, node)
    if isinstance(stmt, ast.Return):
        yield from _return(pf, stmt)
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
