"""Missing statements, built from names in scope: a collection update, a final `return`, a
statement repeated before the `return` that ends the function.

A missing line leaves no wrong token to mutate, so these templates read what the function
already has: a collection it creates but never fills (`seen = set()` with `if x in seen:` and
no `seen.add(x)`), a function that returns a value on some paths and falls off its end on
others (`sign(0)` returning None), and an update done inside a loop but not once more after it
(the last group of a grouping loop). Each inserted statement uses only names and literals the
function already contains. They belong to the statement family (statements.py yields them),
weighted above its deletions and moves: an insertion that the code argues for is the likelier
fix.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from app.repair.templates.base import FUNCTIONS, Mutation, ParsedFile
from app.repair.templates.guards import EMPTY_VALUES

#: Weights within the statement family (PRIOR 0.35), above a deletion's 0.5.
FILL_WEIGHT = 1.3
FINAL_RETURN_WEIGHT = 1.2
REPEAT_WEIGHT = 0.8
#: Constructors of empty collections and the method that adds one item to each.
ADDERS = {
    "set": "add", "list": "append", "deque": "append", "dict": None, "Counter": None,
}  # fmt: skip
#: Methods that change a collection: a collection none of them is ever called on is unfilled.
MUTATORS = frozenset(
    {"add", "append", "appendleft", "extend", "insert", "update", "setdefault", "pop", "remove"}
)
#: Values tried per inserted update (the loop variable first).
MAX_VALUES = 3
#: Values tried per missing final return.
MAX_RETURNS = 4
#: Statements before the final `return` that may be repeated after their loop.
MAX_REPEATS = 3


def mutations(pf: ParsedFile, stmt: ast.stmt, nodes: list[ast.AST]) -> Iterator[Mutation]:
    """Collection updates after the statement, a fall-through return, a repeat before return."""
    function = pf.function_of(stmt)
    if function is None or isinstance(stmt, (*FUNCTIONS, ast.ClassDef)):
        return
    yield from _fill_collection(pf, function, stmt)
    yield from _final_return(pf, function)
    if isinstance(stmt, ast.Return) and stmt in function.body:
        yield from _repeat_after_loop(pf, function, stmt)


def _own_statements(function: ast.AST) -> Iterator[ast.AST]:
    """Every node of `function`, nested functions and classes excluded."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, (*FUNCTIONS, ast.ClassDef, ast.Lambda)):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _collections(function: ast.AST) -> dict[str, str]:
    """Locals created empty (`x = set()`, `x: list[int] = []`), with the method that fills them."""
    found: dict[str, str] = {}
    for node in _own_statements(function):
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if not isinstance(target, ast.Name) or value is None:
            continue
        adder: str | None = None
        if isinstance(value, ast.List) and not value.elts:
            adder = "append"
        elif isinstance(value, ast.Call) and not value.args and not value.keywords:
            func = value.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            adder = ADDERS.get(name)
        if adder:
            found[target.id] = adder
    return found


def _fill_collection(pf: ParsedFile, function: ast.AST, stmt: ast.stmt) -> Iterator[Mutation]:
    """`seen.add(item)` after the statement, for a collection nothing ever adds to."""
    filled = {
        n.func.value.id
        for n in _own_statements(function)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and isinstance(n.func.value, ast.Name)
        and n.func.attr in MUTATORS
    }
    empty = {name: adder for name, adder in _collections(function).items() if name not in filled}
    if not empty or isinstance(stmt, ast.Return | ast.Raise | ast.Continue | ast.Break):
        return
    values = _values_near(pf, stmt)
    at = pf.line_start((stmt.end_lineno or stmt.lineno) + 1)
    indent = pf.indent_of(stmt)
    for name, adder in empty.items():
        for value in [v for v in values if v != name][:MAX_VALUES]:
            text = f"{indent}{name}.{adder}({value})\n"
            yield Mutation(at, at, text, f"add the missing `{name}.{adder}({value})`", FILL_WEIGHT)


def _values_near(pf: ParsedFile, stmt: ast.stmt) -> list[str]:
    """Names a missing update would record: the enclosing loop's targets, then the statement's."""
    found: list[str] = []
    loop = pf.enclosing_loop(stmt)
    if isinstance(loop, ast.For):
        found += [n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)]
    found += [
        n.id for n in ast.walk(stmt) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    ]
    return list(dict.fromkeys(found))


def _final_return(
    pf: ParsedFile, function: ast.FunctionDef | ast.AsyncFunctionDef
) -> Iterator[Mutation]:
    """A function that returns values on some paths and can fall off its end: return there too."""
    last = function.body[-1]
    if isinstance(last, ast.Return | ast.Raise) or _always_exits(last):
        return
    returned = [n.value for n in _own_statements(function) if isinstance(n, ast.Return) and n.value]
    if not returned or any(
        isinstance(n, ast.Yield | ast.YieldFrom) for n in _own_statements(function)
    ):
        return
    options = _return_values(pf, function, returned)
    at = pf.line_start((last.end_lineno or last.lineno) + 1)
    indent = pf.indent_of(function.body[0])
    for value in options[:MAX_RETURNS]:
        text = f"{indent}return {value}\n"
        what = f"return `{value}` where the function falls off its end"
        yield Mutation(at, at, text, what, FINAL_RETURN_WEIGHT)


def _always_exits(stmt: ast.stmt) -> bool:
    """An if/else whose every branch ends in a return or raise: nothing falls through it."""
    if isinstance(stmt, ast.Return | ast.Raise):
        return True
    if isinstance(stmt, ast.If):
        return bool(stmt.orelse) and _always_exits(stmt.body[-1]) and _always_exits(stmt.orelse[-1])
    return False


def _return_values(
    pf: ParsedFile, function: ast.FunctionDef | ast.AsyncFunctionDef, returned: list[ast.expr]
) -> list[str]:
    """The declared type's empty value, then the neutral literals of the returned kind."""
    options: list[str] = []
    if function.returns is not None:
        head = ast.unparse(function.returns).split("[", 1)[0].split("|", 1)[0].strip()
        empty = EMPTY_VALUES.get(head.rsplit(".", 1)[-1])
        if empty:
            options.append(empty)
    kinds = {type(r.value) for r in returned if isinstance(r, ast.Constant)}
    signed = any(isinstance(r, ast.UnaryOp) for r in returned)
    if int in kinds or signed:
        options.append("0")
    if bool in kinds:
        options += ["False", "True"]
    # Not `None`: falling off the end returns it already, so `return None` changes nothing.
    return [o for o in dict.fromkeys(options) if o != "None"]


def _repeat_after_loop(
    pf: ParsedFile, function: ast.FunctionDef | ast.AsyncFunctionDef, ret: ast.Return
) -> Iterator[Mutation]:
    """Repeat, just before the final `return`, an update the preceding loop makes to the
    returned collection (`out.append(current)`): the last group is never flushed."""
    index = function.body.index(ret)
    loop = function.body[index - 1] if index else None
    if not isinstance(loop, ast.For | ast.While) or not isinstance(ret.value, ast.Name):
        return
    name = ret.value.id
    updates = [
        n
        for n in ast.walk(loop)
        if isinstance(n, ast.Expr)
        and isinstance(n.value, ast.Call)
        and isinstance(n.value.func, ast.Attribute)
        and isinstance(n.value.func.value, ast.Name)
        and n.value.func.value.id == name
        and n.lineno == n.end_lineno
    ]
    at = pf.line_start(ret.lineno)
    seen: set[str] = set()
    for update in updates[:MAX_REPEATS]:
        text = pf.segment(update)
        if text in seen:
            continue
        seen.add(text)
        mutation = f"{pf.indent_of(ret)}{text}\n"
        yield Mutation(at, at, mutation, f"repeat `{text}` after the loop", REPEAT_WEIGHT)
