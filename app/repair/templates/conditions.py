"""Conditions: negate a test, drop a clause, and give loops a condition or progress.

`while True:` that never ends gets a condition built from names in scope (`while lo < hi:`);
a `while i < n:` whose body never changes `i` gets `i += 1` at the end of the body. Both turn
a hang into a test verdict.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import replace

from app.repair.templates.base import ATOMS, Mutation, ParsedFile
from app.repair.templates.scope_names import scope_at

FAMILY = "condition"
PRIOR = 0.7
#: Conditions synthesized per `while True:`: name pairs grow fast.
MAX_LOOP_CONDITIONS = 24
_SIMPLE_INVERSES = (ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq, ast.In, ast.NotIn,
                    ast.Is, ast.IsNot)  # fmt: skip


def mutations(pf: ParsedFile, stmt: ast.stmt, nodes: list[ast.AST]) -> Iterator[Mutation]:
    """Negations and clause drops for every test of the statement, and loop repairs."""
    for test in _tests(stmt, nodes):
        yield from _negate(pf, test)
        if isinstance(test, ast.BoolOp):
            yield from _drop_clauses(pf, test)
    if isinstance(stmt, ast.While):
        if isinstance(stmt.test, ast.Constant) and stmt.test.value:
            yield from _loop_conditions(pf, stmt)
        else:
            yield from _loop_progress(pf, stmt)


def _tests(stmt: ast.stmt, nodes: list[ast.AST]) -> list[ast.expr]:
    tests: list[ast.expr] = []
    if isinstance(stmt, ast.If | ast.While | ast.Assert):
        tests.append(stmt.test)
    if isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.Compare | ast.BoolOp):
        tests.append(stmt.value)
    for node in nodes:
        if isinstance(node, ast.IfExp):
            tests.append(node.test)
        elif isinstance(node, ast.comprehension):
            tests.extend(node.ifs)
    return tests


def _negate(pf: ParsedFile, test: ast.expr) -> Iterator[Mutation]:
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        yield _inverting(pf.replace(test, pf.segment(test.operand), "drop `not`", 1.0))
    elif isinstance(test, ast.Constant):
        return
    elif isinstance(test, ast.Compare) and len(test.ops) == 1:
        if not isinstance(test.ops[0], _SIMPLE_INVERSES):
            yield _inverting(
                pf.replace(test, f"not {pf.operand(test)}", "negate the condition", 0.8)
            )
    else:
        text = pf.segment(test) if isinstance(test, ATOMS) else f"({pf.segment(test)})"
        yield _inverting(pf.replace(test, f"not {text}", "negate the condition", 0.8))


def _inverting(mutation: Mutation) -> Mutation:
    return replace(mutation, inverts=True)


def _drop_clauses(pf: ParsedFile, test: ast.BoolOp) -> Iterator[Mutation]:
    for index in range(len(test.values)):
        kept = [pf.operand(v) for i, v in enumerate(test.values) if i != index]
        joiner = " and " if isinstance(test.op, ast.And) else " or "
        dropped = pf.segment(test.values[index])
        yield _inverting(pf.replace(test, joiner.join(kept), f"drop clause `{dropped}`", 0.5))


def _loop_conditions(pf: ParsedFile, loop: ast.While) -> Iterator[Mutation]:
    """`while True:` -> a condition over names bound before the loop: what the body changes
    first (`lo`), compared with what else it reads (`hi`)."""
    bound = _bound_before(pf, loop)
    changed = [n for n in _assigned_in(loop.body) if n in bound]
    read = [n for n in _read_in(loop.body) if n in bound]
    count = 0
    for name in changed:
        for option in (name, f"not {name}"):
            yield pf.replace(loop.test, option, f"loop condition `{option}`", 0.6)
        for other in [r for r in read if r != name]:
            for op, weight in (("<", 0.7), ("<=", 0.6), (">", 0.5), (">=", 0.4), ("!=", 0.3)):
                if count >= MAX_LOOP_CONDITIONS:
                    return
                count += 1
                condition = f"{name} {op} {other}"
                yield pf.replace(loop.test, condition, f"loop condition `{condition}`", weight)


def _bound_before(pf: ParsedFile, loop: ast.While) -> set[str]:
    """Parameters, and names assigned by statements that end before the loop starts."""
    function = pf.function_of(loop)
    scope = scope_at(pf, loop)
    bound = set(scope.params) | set(scope.globals)
    if function is None:
        return bound
    stores = (n for n in ast.walk(function) if isinstance(n, ast.Name))
    bound |= {n.id for n in stores if isinstance(n.ctx, ast.Store) and n.lineno < loop.lineno}
    return bound


def _loop_progress(pf: ParsedFile, loop: ast.While) -> Iterator[Mutation]:
    """`while i < n:` with no change to `i` in the body: step `i` at the end of the body."""
    changed = set(_assigned_in(loop.body))
    test = loop.test
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return
    pairs = ((test.left, test.ops[0], "+="), (test.comparators[0], test.ops[0], "-="))
    for side, op, step in pairs:
        if not isinstance(side, ast.Name) or side.id in changed:
            continue
        if isinstance(op, ast.Gt | ast.GtE):
            step = "-=" if step == "+=" else "+="
        last = loop.body[-1]
        indent = pf.indent_of(last)
        at = pf.line_start((last.end_lineno or last.lineno) + 1)
        text = f"{indent}{side.id} {step} 1\n"
        yield Mutation(at, at, text, f"step `{side.id} {step} 1` in the loop", 0.8)


def _assigned_in(body: list[ast.stmt]) -> list[str]:
    found: list[str] = []
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                found.append(node.id)
            elif isinstance(node, ast.Call) and _method_of_name(node):
                found.append(node.func.value.id)  # type: ignore[attr-defined]  # `xs.pop()`
    return list(dict.fromkeys(found))


def _read_in(body: list[ast.stmt]) -> list[str]:
    found = [
        node.id
        for stmt in body
        for node in ast.walk(stmt)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    ]
    return list(dict.fromkeys(found))


def _method_of_name(call: ast.Call) -> bool:
    """`xs.pop()`: a method call on a plain name, which may change what the name holds."""
    return isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
