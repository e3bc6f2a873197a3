"""Statements: delete one, move it past its neighbour, or repeat a nearby one after it.

The coarsest template, with the lowest prior: a deletion is the easiest way to make a test
pass for the wrong reason, so the search penalizes it when picking.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from app.repair.templates.base import COMPOUND, Mutation, ParsedFile

FAMILY = "statement"
PRIOR = 0.35
#: Nearby statements considered for insertion, nearest first.
MAX_INSERTIONS = 4
_INSERTABLE = (ast.Assign, ast.AugAssign, ast.Expr)


def mutations(pf: ParsedFile, stmt: ast.stmt, nodes: list[ast.AST]) -> Iterator[Mutation]:
    """Delete, move up or down, and insert a copy of a nearby simple statement."""
    block = _block_of(pf, stmt)
    if block is None or isinstance(stmt, COMPOUND):
        return
    index = block.index(stmt)
    yield _delete(pf, stmt, alone=len(block) == 1)
    if index > 0 and not isinstance(block[index - 1], COMPOUND):
        yield _swap(pf, block[index - 1], stmt, "move the statement up")
    if index + 1 < len(block) and not isinstance(block[index + 1], COMPOUND):
        yield _swap(pf, stmt, block[index + 1], "move the statement down")
    yield from _insert_nearby(pf, stmt)


def _block_of(pf: ParsedFile, stmt: ast.stmt) -> list[ast.stmt] | None:
    parent = pf.parents.get(stmt)
    for name in ("body", "orelse", "finalbody"):
        block = getattr(parent, name, None)
        if isinstance(block, list) and stmt in block:
            return block
    return None


def _lines_span(pf: ParsedFile, stmt: ast.stmt) -> tuple[int, int]:
    return pf.line_start(stmt.lineno), pf.line_start((stmt.end_lineno or stmt.lineno) + 1)


def _delete(pf: ParsedFile, stmt: ast.stmt, alone: bool) -> Mutation:
    start, end = _lines_span(pf, stmt)
    text = f"{pf.indent_of(stmt)}pass\n" if alone else ""
    first = pf.lines[stmt.lineno - 1].strip()
    return Mutation(start, end, text, f"delete `{first}`", 0.5, deletion=True)


def _swap(pf: ParsedFile, first: ast.stmt, second: ast.stmt, what: str) -> Mutation:
    a_start, a_end = _lines_span(pf, first)
    b_start, b_end = _lines_span(pf, second)
    text = pf.text[b_start:b_end] + pf.text[a_end:b_start] + pf.text[a_start:a_end]
    return Mutation(a_start, b_end, text, what, 0.6)


def _insert_nearby(pf: ParsedFile, stmt: ast.stmt) -> Iterator[Mutation]:
    function = pf.function_of(stmt)
    if function is None:
        return
    own = pf.segment(stmt)
    nearby = [
        s
        for s in ast.walk(function)
        if isinstance(s, _INSERTABLE)
        and s is not stmt
        and s.lineno == s.end_lineno
        and not _is_docstring(s)
        and pf.segment(s) != own
    ]
    nearby.sort(key=lambda s: abs(s.lineno - stmt.lineno))
    at = _lines_span(pf, stmt)[1]
    for other in nearby[:MAX_INSERTIONS]:
        text = f"{pf.indent_of(stmt)}{pf.segment(other)}\n"
        yield Mutation(at, at, text, f"repeat `{pf.segment(other)}` here", 0.3)


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
