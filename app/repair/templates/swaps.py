"""Swapping arguments and operands: `f(b, a)` for `f(a, b)`, `b - a` for `a - b`.

Also the two branches of a conditional expression, which is the same slip one level up.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from app.repair.templates.base import Mutation, ParsedFile

FAMILY = "argument_swap"
PRIOR = 0.6
#: Operators whose operands do not commute, so swapping them changes the result.
NON_COMMUTATIVE = (ast.Sub, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift)


def mutations(pf: ParsedFile, stmt: ast.stmt, nodes: list[ast.AST]) -> Iterator[Mutation]:
    """Pairwise swaps of positional arguments, non-commutative operands and ternary branches."""
    for node in nodes:
        if isinstance(node, ast.Call):
            yield from _arguments(pf, node)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, NON_COMMUTATIVE):
            yield _exchange(pf, node.left, node.right, "swap operands", 0.6)
        elif isinstance(node, ast.IfExp):
            yield _exchange(pf, node.body, node.orelse, "swap conditional branches", 0.6)


def _arguments(pf: ParsedFile, call: ast.Call) -> Iterator[Mutation]:
    args = [a for a in call.args if not isinstance(a, ast.Starred)]
    if len(args) != len(call.args) or len(args) < 2:
        return
    pairs = [(i, i + 1) for i in range(len(args) - 1)]
    if len(args) > 2:
        pairs.append((0, len(args) - 1))
    for i, j in pairs:
        weight = 0.8 if len(args) == 2 else 0.6
        what = f"swap arguments {i + 1} and {j + 1}"
        yield _exchange(pf, args[i], args[j], what, weight, wrap=False)


def _exchange(
    pf: ParsedFile, first: ast.expr, second: ast.expr, what: str, weight: float, wrap: bool = True
) -> Mutation:
    """One mutation spanning both nodes, with their texts exchanged and the middle kept.

    Operands are parenthesized unless atoms (`a - (b + c)` must not become `b + c - a`);
    call arguments are whole expressions already and need no parentheses.
    """
    text_of = pf.operand if wrap else pf.segment
    a_start, a_end = pf.span(first)
    b_start, b_end = pf.span(second)
    text = text_of(second) + pf.text[a_end:b_start] + text_of(first)
    return Mutation(a_start, b_end, text, what, weight)
