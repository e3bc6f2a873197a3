"""Off-by-one: integer literals, indexes, slice bounds and range() bounds moved by one.

Also drops an explicit `+ 1` / `- 1`, the other half of most fencepost mistakes, and moves by
one the value assigned to a loop's bound (`lo = mid` in a `while lo < hi:` that then never
ends: `lo = mid + 1`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from app.repair.templates.base import Mutation, ParsedFile

FAMILY = "off_by_one"
#: Operators that bind at least as tightly as `+`: `e + 1` needs no parentheses around them.
_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow)
PRIOR = 0.9


def mutations(pf: ParsedFile, stmt: ast.stmt, nodes: list[ast.AST]) -> Iterator[Mutation]:
    """±1 on every bound-like expression of the statement."""
    for node in nodes:
        if _is_int(node):
            yield from _literal(pf, node)  # type: ignore[arg-type]
        elif isinstance(node, ast.Subscript):
            yield from _index(pf, node)
        elif isinstance(node, ast.Call) and _called(node) == "range":
            for arg in node.args:
                if not _is_int(arg):
                    yield from _shift(pf, arg, "range bound", 0.8)
        elif isinstance(node, ast.BinOp) and _plus_minus_one(node):
            yield pf.replace(node, pf.segment(node.left), f"drop `{pf.segment(node)}`'s ±1", 0.8)
    if isinstance(stmt, ast.Assign) and _bounds_a_loop(pf, stmt):
        yield from _shift(pf, stmt.value, "loop bound", 0.8)


def _bounds_a_loop(pf: ParsedFile, stmt: ast.Assign) -> bool:
    """`lo = mid` inside a `while` whose test reads `lo`, with a plain name or attribute value."""
    if len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name):
        return False
    if not isinstance(stmt.value, ast.Name | ast.Attribute | ast.BinOp):
        return False
    loop = pf.enclosing_loop(stmt)
    if not isinstance(loop, ast.While):
        return False
    target = stmt.targets[0].id
    return any(isinstance(n, ast.Name) and n.id == target for n in ast.walk(loop.test))


def _is_int(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int


def _called(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else ""


def _plus_minus_one(node: ast.BinOp) -> bool:
    right = node.right
    return (
        isinstance(node.op, ast.Add | ast.Sub)
        and isinstance(right, ast.Constant)
        and right.value == 1
        and type(right.value) is int
    )


def _literal(pf: ParsedFile, node: ast.Constant) -> Iterator[Mutation]:
    value = int(node.value)  # type: ignore[arg-type]
    for new in (value + 1, value - 1):
        if new >= 0:
            yield pf.replace(node, str(new), f"{value} -> {new}", 0.6)


def _index(pf: ParsedFile, node: ast.Subscript) -> Iterator[Mutation]:
    index = node.slice
    if isinstance(index, ast.Slice):
        for bound in (index.lower, index.upper):
            if bound is not None and not _is_int(bound) and not _is_negative_int(bound):
                yield from _shift(pf, bound, "slice bound", 0.8)
    elif not isinstance(index, ast.Constant | ast.Tuple | ast.UnaryOp):
        yield from _shift(pf, index, "index", 0.7)


def _is_negative_int(node: ast.AST) -> bool:
    return isinstance(node, ast.UnaryOp) and _is_int(node.operand)


def _shift(pf: ParsedFile, node: ast.expr, what: str, weight: float) -> Iterator[Mutation]:
    if isinstance(node, ast.BinOp) and _plus_minus_one(node):
        return  # the ±1 is dropped by the BinOp rule; adding another gives ±2
    arithmetic = isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC)
    text = pf.segment(node) if arithmetic else pf.operand(node)
    for sign in ("+", "-"):
        yield pf.replace(node, f"{text} {sign} 1", f"{what} `{pf.segment(node)}` {sign} 1", weight)
