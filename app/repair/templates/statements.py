"""Statements: delete one, move it past its neighbour, in or out of a block, repeat one, or
insert a missing one built from names in scope (insertions.py).

Moving in or out of a block is the indentation slip: a `return` inside the loop that should
follow it, or an `i += 1` left after the loop it should advance.

The coarsest template, with the lowest prior: a deletion is the easiest way to make a test
pass for the wrong reason, so the search penalizes it when picking.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from app.repair.templates import insertions
from app.repair.templates.base import COMPOUND, Mutation, ParsedFile

FAMILY = "statement"
PRIOR = 0.35
#: Nearby statements considered for insertion, nearest first.
MAX_INSERTIONS = 4
_INSERTABLE = (ast.Assign, ast.AugAssign, ast.Expr)
_JUMPS = (ast.Return, ast.Raise, ast.Break, ast.Continue)


def mutations(pf: ParsedFile, stmt: ast.stmt, nodes: list[ast.AST]) -> Iterator[Mutation]:
    """Delete, move up or down, insert a copy of a nearby simple statement or a missing one."""
    yield from insertions.mutations(pf, stmt, nodes)
    block = _block_of(pf, stmt)
    if block is None:
        return
    index = block.index(stmt)
    if isinstance(stmt, ast.For | ast.While):
        yield from _pull_into(pf, stmt, block[index + 1 : index + 2])
    if isinstance(stmt, COMPOUND):
        return
    if index == len(block) - 1:
        yield from _push_out(pf, stmt, len(block))
    yield _delete(pf, stmt, alone=len(block) == 1)
    if index > 0 and not isinstance(block[index - 1], COMPOUND):
        yield _swap(pf, block[index - 1], stmt, "move the statement up")
    if index + 1 < len(block) and not isinstance(block[index + 1], COMPOUND):
        yield _swap(pf, stmt, block[index + 1], "move the statement down")
    yield from _insert_nearby(pf, stmt)


def _pull_into(pf: ParsedFile, loop: ast.stmt, following: list[ast.stmt]) -> Iterator[Mutation]:
    """Indent the statement right after a loop into the loop's body."""
    if not following or isinstance(following[0], COMPOUND) or getattr(loop, "orelse", None):
        return
    nxt = following[0]
    start, end = _lines_span(pf, nxt)
    text = "".join(pf.indent_unit + line if line.strip() else line for line in _lines(pf, nxt))
    yield Mutation(start, end, text, "move the statement after the loop into it", 0.5)


def _push_out(pf: ParsedFile, stmt: ast.stmt, siblings: int) -> Iterator[Mutation]:
    """Dedent the last statement of a block so it runs after the block."""
    parent = pf.parents.get(stmt)
    if siblings < 2 or not isinstance(parent, ast.For | ast.While | ast.If | ast.With):
        return
    if parent.orelse if isinstance(parent, ast.For | ast.While | ast.If) else False:
        return
    unit = pf.indent_unit
    lines = _lines(pf, stmt)
    if not all(line.startswith(unit) or not line.strip() for line in lines):
        return
    start, end = _lines_span(pf, stmt)
    text = "".join(line[len(unit) :] if line.strip() else line for line in lines)
    yield Mutation(start, end, text, "move the statement out of its block", 0.6)


def _lines(pf: ParsedFile, stmt: ast.stmt) -> list[str]:
    return pf.lines[stmt.lineno - 1 : stmt.end_lineno or stmt.lineno]


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
    if function is None or isinstance(stmt, _JUMPS):
        return  # nothing after a jump would run
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
