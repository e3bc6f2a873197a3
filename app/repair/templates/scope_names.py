"""Which names are visible at a point, and how each is used: the vocabulary of name templates.

"Compatible use" keeps replacements sensible: a called name is swapped for another function,
a value for another value, an attribute for another attribute seen on the same object.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import lru_cache

from app.repair.local_names import unread
from app.repair.templates.base import FUNCTIONS, ParsedFile


@dataclass
class Scope:
    """Names visible inside one function (or the module), nearest first."""

    locals: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    globals: list[str] = field(default_factory=list)
    callables: list[str] = field(default_factory=list)

    def values(self) -> list[str]:
        """Names that hold data, locals and parameters before module globals."""
        return _unique(self.params + self.locals + self.globals)


def scope_at(pf: ParsedFile, node: ast.AST) -> Scope:
    """The scope of the function around `node` (module scope outside any function)."""
    scope = Scope()
    module_values, module_callables = _module_names(pf.tree)
    scope.globals = [n for n in module_values if n not in module_callables]
    scope.callables = module_callables
    function = pf.function_of(node)
    while function is not None:
        scope.params += _params(function)
        scope.locals += _assigned(function)
        function = pf.function_of(function)
    scope.params = _unique(scope.params)
    scope.locals = [n for n in _unique(scope.locals) if n not in scope.params]
    return scope


def _params(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    args = function.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every += [a for a in (args.vararg, args.kwarg) if a is not None]
    return [a.arg for a in every if a.arg not in ("self", "cls")]


def _assigned(function: ast.AST) -> list[str]:
    found: list[str] = []
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop(0)
        if isinstance(node, (*FUNCTIONS, ast.ClassDef, ast.Lambda, ast.comprehension)):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.append(node.id)
        stack.extend(ast.iter_child_nodes(node))
    return found


def _module_names(tree: ast.Module) -> tuple[list[str], list[str]]:
    values: list[str] = []
    callables: list[str] = []
    for node in tree.body:
        if isinstance(node, (*FUNCTIONS, ast.ClassDef)):
            callables.append(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            callables += [(a.asname or a.name).split(".")[0] for a in node.names]
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            values += [t.id for t in targets if isinstance(t, ast.Name)]
    return _unique(values), _unique(callables)


def attributes_on(pf: ParsedFile, base: str) -> tuple[list[str], list[str]]:
    """Attribute names seen on `base` in the file: (read as values, called as methods)."""
    return _attribute_index(pf).get(base, ([], []))


@lru_cache(maxsize=32)
def _attribute_index(pf: ParsedFile) -> dict[str, tuple[list[str], list[str]]]:
    """Every attribute base's (values, methods), built in one walk per file."""
    index: dict[str, tuple[list[str], list[str]]] = {}
    for node in ast.walk(pf.tree):
        if isinstance(node, ast.Attribute):
            values, methods = index.setdefault(pf.segment(node.value), ([], []))
            parent = pf.parents.get(node)
            called = isinstance(parent, ast.Call) and parent.func is node
            target = methods if called else values
            if node.attr not in target:
                target.append(node.attr)
    return index


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def unread_locals(pf: ParsedFile, node: ast.AST) -> set[str]:
    """Locals of the function around `node` that are assigned but never read.

    Computing a value and never using it is how many bugs look from the outside: the code
    that should read it reads something else (`scaled = ...; return values`).
    """
    function = pf.function_of(node)
    return set() if function is None else unread(function)
