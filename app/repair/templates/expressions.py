"""Sub-expressions: replace one with another in-scope expression of the same kind, or drop a term.

Name replacement swaps one identifier; many real slips are one level up. The code that should
be there is usually written elsewhere in the same function, on the same object: `stack[-1]`
where the line above says `stack.pop()`, `other.end` where `self.end` was meant (another object
the file reads the same attribute from), `1 + dist(...)` where a match costs nothing (a
constant term that should not be there). The vocabulary is the function's own expressions, so
the candidates stay few and read like the surrounding code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from app.repair.templates.base import Mutation, ParsedFile
from app.repair.templates.scope_names import attributes_on

FAMILY = "expression"
PRIOR = 0.55
#: Sibling expressions tried per site, the nearest lines first.
MAX_SIBLINGS = 4
#: Other objects tried per attribute read.
MAX_BASES = 3
#: Expression kinds that may stand in for each other when rooted at the same name.
_ROOTED = (ast.Subscript, ast.Call, ast.Attribute)
#: Operators whose constant term can be a slip on its own (`1 + f(x)`, `2 * n`).
_TERM_OPS = (ast.Add, ast.Sub, ast.Mult)


def mutations(pf: ParsedFile, stmt: ast.stmt, nodes: list[ast.AST]) -> Iterator[Mutation]:
    """Siblings on the same object, another object with the same attribute, dropped terms."""
    for node in nodes:
        if isinstance(node, _ROOTED) and _loads(node):
            yield from _siblings(pf, stmt, node)
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            yield from _other_base(pf, node)
        if isinstance(node, ast.BinOp) and isinstance(node.op, _TERM_OPS):
            yield from _drop_constant_term(pf, node)


def _loads(node: ast.AST) -> bool:
    return getattr(node, "ctx", ast.Load()).__class__ is ast.Load


def _root(node: ast.AST) -> str | None:
    """The name an expression hangs off: `stack` for `stack[-1]`, `stack.pop()`, `stack.top`."""
    while isinstance(node, ast.Subscript | ast.Attribute | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _siblings(pf: ParsedFile, stmt: ast.stmt, node: ast.expr) -> Iterator[Mutation]:
    """Other expressions of the function rooted at the same name, of a compatible kind."""
    root = _root(node)
    function = pf.function_of(stmt)
    if root is None or function is None:
        return
    if _part_of_bigger(pf, node, root):
        return  # a part of a bigger expression on the same object: its top is the site
    own = pf.segment(node)
    found: dict[str, int] = {}
    for other in ast.walk(function):
        if not isinstance(other, _ROOTED) or other is node or not _loads(other):
            continue
        if _root(other) != root or _inside(pf, other, stmt):
            continue
        if _part_of_bigger(pf, other, root):
            continue  # only whole expressions, not the `stack.pop` of `stack.pop()`
        text = pf.segment(other)
        if text != own and "\n" not in text:
            distance = abs(getattr(other, "lineno", 0) - stmt.lineno)
            found[text] = min(distance, found.get(text, distance))
    for text in sorted(found, key=lambda t: found[t])[:MAX_SIBLINGS]:
        yield pf.replace(node, text, f"`{own}` -> `{text}`", 0.6)


def _part_of_bigger(pf: ParsedFile, node: ast.AST, root: str) -> bool:
    """`stack.pop` in `stack.pop()`, `xs[0]` in `xs[0].name`: not a whole expression (an
    argument of a call is one, though)."""
    outer = pf.parents.get(node)
    if not isinstance(outer, _ROOTED) or _root(outer) != root:
        return False
    return not (isinstance(outer, ast.Call) and outer.func is not node)


def _inside(pf: ParsedFile, node: ast.AST, stmt: ast.stmt) -> bool:
    current: ast.AST | None = node
    while current is not None and not isinstance(current, ast.stmt):
        current = pf.parents.get(current)
    return current is stmt


def _other_base(pf: ParsedFile, node: ast.Attribute) -> Iterator[Mutation]:
    """`other.end` -> `self.end`: another object the file reads the same attribute from."""
    if not isinstance(node.value, ast.Name):
        return
    own = node.value.id
    function = pf.function_of(node)
    if function is None:
        return
    names = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    names += [n.id for n in ast.walk(function) if isinstance(n, ast.Name)]
    bases = [b for b in dict.fromkeys(names) if b != own and node.attr in attributes_on(pf, b)[0]]
    for base in bases[:MAX_BASES]:
        yield pf.replace(node.value, base, f"`{own}.{node.attr}` -> `{base}.{node.attr}`", 0.7)


def _drop_constant_term(pf: ParsedFile, node: ast.BinOp) -> Iterator[Mutation]:
    """`1 + f(x)` -> `f(x)`; the right-hand `± 1` is off-by-one's, so only other constants."""
    left, right = node.left, node.right
    if _number(left) and not _number(right):
        kept, dropped = right, left
    elif _number(right) and not _number(left) and right.value != 1:  # type: ignore[attr-defined]
        kept, dropped = left, right
    else:
        return
    text = pf.segment(kept) if isinstance(pf.parents.get(node), ast.stmt) else pf.operand(kept)
    yield pf.replace(node, text, f"drop the term `{pf.segment(dropped)}`", 0.5)


def _number(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
    )
