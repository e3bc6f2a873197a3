"""Variable and attribute replacement: another in-scope name of compatible use.

`total / count` where `len(items)` was meant is out of reach, but `width` for `height`,
`self.low` for `self.high` and `i` for `j` are the everyday cases.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from app.repair.templates.base import MAX_WEIGHT, Mutation, ParsedFile
from app.repair.templates.scope_names import attributes_on, scope_at, unread_locals

FAMILY = "name_replacement"
PRIOR = 0.6
#: Alternatives tried per name: the nearest (locals, then parameters, then globals) first.
MAX_PER_SITE = 8
#: Weight of a replacement the code itself argues for (a broken pairing, a doubled operand):
#: above 1, so it outranks generic mutations of higher-prior families on the same line.
ANOMALY_WEIGHT = MAX_WEIGHT


def mutations(pf: ParsedFile, stmt: ast.stmt, nodes: list[ast.AST]) -> Iterator[Mutation]:
    """For each name read by the statement, the other names it might have meant."""
    scope = scope_at(pf, stmt)
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            called = _is_called(pf, node)
            if called and node.id not in scope.callables:
                continue  # a builtin or an import: no sibling of compatible use is known
            pool = scope.callables if called else scope.values()
            local = set(scope.params + scope.locals)
            partners = _index_partners(pf, node) | unread_locals(pf, node)
            ordered = sorted(pool, key=lambda n: n not in partners)  # stable: partners first
            options = [n for n in ordered if n != node.id][:MAX_PER_SITE]
            for name in options:
                weight = 0.7 if name in local else 0.45
                if name in partners or _duplicate_operand(pf, node):
                    weight = ANOMALY_WEIGHT
                yield pf.replace(node, name, f"`{node.id}` -> `{name}`", weight)
            yield from _missing_self(pf, node)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            yield from _attribute(pf, node)


def _missing_self(pf: ParsedFile, node: ast.Name) -> Iterator[Mutation]:
    """`count` inside a method where `self.count` exists: the forgotten `self.`."""
    function = pf.function_of(node)
    if function is None or not function.args.args or function.args.args[0].arg != "self":
        return
    values, methods = attributes_on(pf, "self")
    if node.id in (methods if _is_called(pf, node) else values):
        yield pf.replace(node, f"self.{node.id}", f"`{node.id}` -> `self.{node.id}`", 0.9)


def _is_called(pf: ParsedFile, node: ast.AST) -> bool:
    parent = pf.parents.get(node)
    return isinstance(parent, ast.Call) and parent.func is node


def _attribute(pf: ParsedFile, node: ast.Attribute) -> Iterator[Mutation]:
    values, methods = attributes_on(pf, pf.segment(node.value))
    pool = methods if _is_called(pf, node) else values
    start = pf.span(node)[1] - len(node.attr)
    weight = ANOMALY_WEIGHT if _duplicate_operand(pf, node) else 0.7
    for name in [n for n in pool if n != node.attr][:MAX_PER_SITE]:
        what = f"`.{node.attr}` -> `.{name}`"
        yield Mutation(start, start + len(node.attr), name, what, weight)


def _index_partners(pf: ParsedFile, node: ast.Name) -> set[str]:
    """For `left[j]`: the sequences `j` indexes elsewhere in the function, when never `left`.

    Copy-paste slips break a pairing the rest of the code keeps (`right[j]` everywhere else).
    """
    subscript = pf.parents.get(node)
    if not isinstance(subscript, ast.Subscript) or subscript.value is not node:
        return set()
    indexes = {n.id for n in ast.walk(subscript.slice) if isinstance(n, ast.Name)}
    function = pf.function_of(node)
    if not indexes or function is None:
        return set()
    bases: set[str] = set()
    for other in ast.walk(function):
        if isinstance(other, ast.Subscript) and other is not subscript:
            used = {n.id for n in ast.walk(other.slice) if isinstance(n, ast.Name)}
            if used & indexes and isinstance(other.value, ast.Name):
                bases.add(other.value.id)
    return set() if node.id in bases else bases


def _duplicate_operand(pf: ParsedFile, node: ast.expr) -> bool:
    """`self.width * self.width`: the same operand twice is often a slip for a sibling."""
    parent = pf.parents.get(node)
    if not isinstance(parent, ast.BinOp | ast.Compare):
        return False
    operands = [parent.left, parent.right] if isinstance(parent, ast.BinOp) else []
    if isinstance(parent, ast.Compare):
        operands = [parent.left, *parent.comparators]
    texts = [pf.segment(o) for o in operands]
    return texts.count(pf.segment(node)) > 1
