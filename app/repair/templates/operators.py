"""Operator replacement: arithmetic, comparison, boolean and augmented-assignment operators.

The commonest one-token bugs: `<` for `<=`, `+` for `-`, `and` for `or`, `+=` for `-=`.
Only the operator token is rewritten.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from app.repair.templates.base import Mutation, ParsedFile, find_token

FAMILY = "operator_replacement"
PRIOR = 1.0

SYMBOLS: dict[type, str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
    ast.Mod: "%", ast.Pow: "**", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^",
    ast.LShift: "<<", ast.RShift: ">>", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
    ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not",
    ast.In: "in", ast.NotIn: "not in", ast.And: "and", ast.Or: "or",
}  # fmt: skip
#: Pairs whose swap negates a test outright rather than moving a boundary.
INVERSIONS = ({ast.Eq, ast.NotEq}, {ast.Is, ast.IsNot}, {ast.In, ast.NotIn})
#: For each operator, the likely intended ones, with how likely (boundary slips first).
ALTERNATIVES: dict[type, tuple[tuple[type, float], ...]] = {
    ast.Add: ((ast.Sub, 1.0), (ast.Mult, 0.5)),
    ast.Sub: ((ast.Add, 1.0), (ast.FloorDiv, 0.2)),
    ast.Mult: ((ast.Div, 0.6), (ast.Add, 0.5), (ast.FloorDiv, 0.4), (ast.Pow, 0.3)),
    ast.Div: ((ast.FloorDiv, 0.9), (ast.Mult, 0.6)),
    ast.FloorDiv: ((ast.Div, 0.9), (ast.Mod, 0.5), (ast.Mult, 0.3)),
    ast.Mod: ((ast.FloorDiv, 0.6),),
    ast.Pow: ((ast.Mult, 0.6),),
    ast.BitAnd: ((ast.BitOr, 0.5), (ast.BitXor, 0.4)),
    ast.BitOr: ((ast.BitAnd, 0.5), (ast.BitXor, 0.4)),
    ast.BitXor: ((ast.BitAnd, 0.5), (ast.BitOr, 0.5)),
    ast.LShift: ((ast.RShift, 0.5),),
    ast.RShift: ((ast.LShift, 0.5),),
    ast.Lt: ((ast.LtE, 1.0), (ast.Gt, 0.6), (ast.GtE, 0.4), (ast.NotEq, 0.2)),
    ast.LtE: ((ast.Lt, 1.0), (ast.GtE, 0.5), (ast.Gt, 0.4), (ast.Eq, 0.2)),
    ast.Gt: ((ast.GtE, 1.0), (ast.Lt, 0.6), (ast.LtE, 0.4), (ast.NotEq, 0.2)),
    ast.GtE: ((ast.Gt, 1.0), (ast.LtE, 0.5), (ast.Lt, 0.4), (ast.Eq, 0.2)),
    ast.Eq: ((ast.NotEq, 0.6), (ast.LtE, 0.3), (ast.GtE, 0.3)),
    ast.NotEq: ((ast.Eq, 0.6),),
    ast.Is: ((ast.IsNot, 0.6),),
    ast.IsNot: ((ast.Is, 0.6),),
    ast.In: ((ast.NotIn, 0.6),),
    ast.NotIn: ((ast.In, 0.6),),
    ast.And: ((ast.Or, 0.8),),
    ast.Or: ((ast.And, 0.8),),
}


def mutations(pf: ParsedFile, stmt: ast.stmt, nodes: list[ast.AST]) -> Iterator[Mutation]:
    """Every operator alternative for the operators of the statement."""
    for node in nodes:
        if isinstance(node, ast.BinOp):
            yield from _swap(pf, node.op, pf.span(node.left)[1], pf.span(node.right)[0])
        elif isinstance(node, ast.Compare):
            left = node.left
            for op, right in zip(node.ops, node.comparators, strict=True):
                yield from _swap(pf, op, pf.span(left)[1], pf.span(right)[0])
                left = right
        elif isinstance(node, ast.BoolOp):
            for before, after in zip(node.values, node.values[1:], strict=False):
                yield from _swap(pf, node.op, pf.span(before)[1], pf.span(after)[0])
    if isinstance(stmt, ast.AugAssign):
        yield from _augmented(pf, stmt)


def _swap(pf: ParsedFile, op: ast.AST, start: int, end: int) -> Iterator[Mutation]:
    symbol = SYMBOLS.get(type(op))
    found = find_token(pf.text, start, end, symbol) if symbol else None
    if found is None:
        return
    for alternative, weight in ALTERNATIVES.get(type(op), ()):
        new = SYMBOLS[alternative]
        inverts = {type(op), alternative} in INVERSIONS
        yield Mutation(found[0], found[1], new, f"`{symbol}` -> `{new}`", weight, inverts=inverts)


def _augmented(pf: ParsedFile, stmt: ast.AugAssign) -> Iterator[Mutation]:
    symbol = SYMBOLS.get(type(stmt.op))
    found = find_token(pf.text, pf.span(stmt.target)[1], pf.span(stmt.value)[0], f"{symbol}=")
    if symbol is None or found is None:
        return
    for alternative, weight in ALTERNATIVES.get(type(stmt.op), ()):
        new = SYMBOLS[alternative] + "="
        yield Mutation(found[0], found[1], new, f"`{symbol}=` -> `{new}`", weight)
    yield Mutation(found[0], found[1], "=", f"`{symbol}=` -> `=`", 0.4)
