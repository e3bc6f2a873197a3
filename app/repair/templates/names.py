"""Variable and attribute replacement: another in-scope name of compatible use.

`total / count` where `len(items)` was meant is out of reach, but `width` for `height`,
`self.low` for `self.high` and `i` for `j` are the everyday cases.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from app.repair.templates.base import Mutation, ParsedFile
from app.repair.templates.scope_names import attributes_on, scope_at

FAMILY = "name_replacement"
PRIOR = 0.6
#: Alternatives tried per name: the nearest (locals, then parameters, then globals) first.
MAX_PER_SITE = 8


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
            options = [n for n in pool if n != node.id][:MAX_PER_SITE]
            for name in options:
                weight = 0.8 if name in local else 0.5
                yield pf.replace(node, name, f"`{node.id}` -> `{name}`", weight)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            yield from _attribute(pf, node)


def _is_called(pf: ParsedFile, node: ast.AST) -> bool:
    parent = pf.parents.get(node)
    return isinstance(parent, ast.Call) and parent.func is node


def _attribute(pf: ParsedFile, node: ast.Attribute) -> Iterator[Mutation]:
    values, methods = attributes_on(pf, pf.segment(node.value))
    pool = methods if _is_called(pf, node) else values
    start = pf.span(node)[1] - len(node.attr)
    for name in [n for n in pool if n != node.attr][:MAX_PER_SITE]:
        yield Mutation(start, start + len(node.attr), name, f"`.{node.attr}` -> `.{name}`", 0.7)
