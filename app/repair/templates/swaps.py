"""Swapping arguments and operands: `f(b, a)` for `f(a, b)`, `b - a` for `a - b`.

Also the two branches of a conditional expression and two items of a tuple that is returned
or assigned (`return hi, lo`), which are the same slip one level up; and the order of a
concatenation (`result + digit` for `digit + result`, `a + "-" + b` for `b + "-" + a`):
`+` commutes for numbers but not for strings and lists, so its operands are swapped only
where the code shows a sequence (a string literal or f-string, a `str()` call, a chain of
three or more terms) or an accumulation (`x = x + e`, the append-or-prepend choice).
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
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            yield from _concatenation(pf, stmt, node)
        elif isinstance(node, ast.IfExp):
            yield _exchange(pf, node.body, node.orelse, "swap conditional branches", 0.6)
        elif isinstance(node, ast.Tuple) and isinstance(node.ctx, ast.Load):
            yield from _tuple_items(pf, stmt, node)


def _concatenation(pf: ParsedFile, stmt: ast.stmt, node: ast.BinOp) -> Iterator[Mutation]:
    """Swap the first and last terms of a `+` chain, only at the chain's top node."""
    parent = pf.parents.get(node)
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Add) and parent.left is node:
        return  # an inner link of a longer chain: the top node swaps the whole chain's ends
    terms = _add_terms(node)
    sequence = len(terms) > 2 or any(_looks_like_text(t) for t in terms)
    accumulates = (
        isinstance(stmt, ast.Assign)
        and stmt.value is node
        and any(pf.segment(t) == pf.segment(terms[0]) for t in stmt.targets)
    )
    if not (sequence or accumulates):
        return
    weight = 0.7 if accumulates or any(_looks_like_text(t) for t in terms) else 0.4
    yield _exchange(pf, terms[0], terms[-1], "reverse the order of the concatenation", weight)


def _add_terms(node: ast.expr) -> list[ast.expr]:
    """`a + b + c` parses as `(a + b) + c`: its terms, left to right."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [*_add_terms(node.left), node.right]
    return [node]


def _looks_like_text(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str | bytes)
    if isinstance(node, ast.JoinedStr | ast.List):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id
        in (
            "str",
            "repr",
            "list",
        )
    )


def _tuple_items(pf: ParsedFile, stmt: ast.stmt, node: ast.Tuple) -> Iterator[Mutation]:
    """`return hi, lo` for `return lo, hi`: only a tuple that is the returned or assigned value."""
    if getattr(stmt, "value", None) is not node or not isinstance(stmt, ast.Return | ast.Assign):
        return
    items = [e for e in node.elts if not isinstance(e, ast.Starred)]
    if len(items) != len(node.elts) or not 2 <= len(items) <= 4:
        return
    for i in range(len(items) - 1):
        yield _exchange(pf, items[i], items[i + 1], f"swap items {i + 1} and {i + 2}", 0.5)


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
