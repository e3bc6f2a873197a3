"""Guards: insert `if <bad input>: return/continue` before a statement that trips on it.

Three kinds: None (`x is None`), empty or zero (`not x`, which also stops a division by zero)
and bounds (`i >= len(xs)`). The fallback value is taken from what the function already
returns elsewhere, or `continue` inside a loop: the code's own vocabulary.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from app.repair.templates.base import FUNCTIONS, Mutation, ParsedFile

FAMILY = "guard"
PRIOR = 0.45
#: The empty value of common return annotations.
EMPTY_VALUES = {
    "str": '""', "int": "0", "float": "0.0", "bool": "False", "list": "[]", "List": "[]",
    "dict": "{}", "Dict": "{}", "set": "set()", "tuple": "()", "Sequence": "[]",
}  # fmt: skip
#: Return values tried per guard: the function's own literal returns first, then None.
MAX_FALLBACKS = 3


def mutations(pf: ParsedFile, stmt: ast.stmt, nodes: list[ast.AST]) -> Iterator[Mutation]:
    """Guards for the names the statement dereferences, divides by or indexes with."""
    function = pf.function_of(stmt)
    if function is None or isinstance(stmt, (*FUNCTIONS, ast.ClassDef)):
        return
    exits = _exits(pf, stmt, function)
    for condition, weight in _conditions(pf, nodes):
        for exit_text, exit_weight in exits:
            yield _insert(pf, stmt, condition, exit_text, weight * exit_weight)
    yield from _mutable_defaults(pf, function, nodes)


def _conditions(pf: ParsedFile, nodes: list[ast.AST]) -> Iterator[tuple[str, float]]:
    seen: set[str] = set()
    for node in nodes:
        for condition, weight in _for_node(pf, node):
            if condition not in seen:
                seen.add(condition)
                yield condition, weight


def _for_node(pf: ParsedFile, node: ast.AST) -> Iterator[tuple[str, float]]:
    if isinstance(node, ast.Attribute | ast.Subscript) and _guardable(node.value):
        base = pf.segment(node.value)
        yield f"{base} is None", 0.7
        yield f"not {base}", 0.6
    if isinstance(node, ast.Subscript) and _guardable(node.value):
        index = node.slice
        if _guardable(index):
            seq, idx = pf.segment(node.value), pf.segment(index)
            yield f"{idx} >= len({seq})", 0.6
            yield f"not 0 <= {idx} < len({seq})", 0.4
    divisor = _divisor(node)
    if divisor is not None:
        yield _zero_test(pf, divisor), 0.7
    if isinstance(node, ast.Call) and _guardable_call_arg(node):
        arg = pf.segment(node.args[0])
        yield f"not {arg}", 0.6
        yield f"{arg} is None", 0.5


def _zero_test(pf: ParsedFile, divisor: ast.expr) -> str:
    """`len(xs)` is zero exactly when `xs` is empty: say it the idiomatic way."""
    if isinstance(divisor, ast.Call) and divisor.args and isinstance(divisor.args[0], ast.Name):
        return f"not {divisor.args[0].id}"
    return f"{pf.segment(divisor)} == 0"


def _divisor(node: ast.AST) -> ast.expr | None:
    """The guardable right operand of a division or modulo."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod):
        return node.right if _guardable(node.right) else None
    return None


def _guardable(node: ast.AST) -> bool:
    return isinstance(node, ast.Name | ast.Attribute) or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len"
    )


def _guardable_call_arg(call: ast.Call) -> bool:
    """`max(xs)`, `min(xs)`, `next(it)` fail on empty input."""
    named = isinstance(call.func, ast.Name) and call.func.id in ("max", "min", "next", "iter")
    return named and len(call.args) == 1 and isinstance(call.args[0], ast.Name)


def _exits(pf: ParsedFile, stmt: ast.stmt, function: ast.AST) -> list[tuple[str, float]]:
    exits: list[tuple[str, float]] = []
    if pf.enclosing_loop(stmt) is not None:
        exits.append(("continue", 0.9))
    values: list[str] = _annotated_default(function)
    for node in ast.walk(function):
        literal = ast.Constant | ast.List | ast.Dict | ast.Tuple
        if isinstance(node, ast.Return) and isinstance(node.value, literal) and node is not stmt:
            values.append(pf.segment(node.value))
    values = list(dict.fromkeys([*values, "None"]))[:MAX_FALLBACKS]
    exits += [(f"return {v}" if v != "None" else "return None", 0.8) for v in values]
    if isinstance(stmt, ast.Return) and stmt.value is not None and "return 0" not in dict(exits):
        exits.append(("return 0", 0.4))
    return exits


def _annotated_default(function: ast.AST) -> list[str]:
    """The empty value of the declared return type: `-> float` suggests `return 0.0`."""
    returns = getattr(function, "returns", None)
    if returns is None:
        return []
    head = ast.unparse(returns).split("[", 1)[0].split("|", 1)[0].strip()
    default = EMPTY_VALUES.get(head.rsplit(".", 1)[-1])
    return [default] if default else []


def _mutable_defaults(
    pf: ParsedFile, function: ast.FunctionDef | ast.AsyncFunctionDef, nodes: list[ast.AST]
) -> Iterator[Mutation]:
    """`def f(x, seen=[])` shares one list between calls: default to None, build it per call."""
    used = {n.id for n in nodes if isinstance(n, ast.Name)}
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    pairs = list(
        zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True)
    )
    pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d]
    body = function.body
    first = body[1] if len(body) > 1 and _is_docstring(body[0]) else body[0]
    for arg, default in pairs:
        if arg.arg not in used or not isinstance(default, ast.List | ast.Dict | ast.Set):
            continue
        empty = pf.segment(default)
        indent = pf.indent_of(first)
        at = pf.line_start(first.lineno)
        guard = f"{indent}if {arg.arg} is None:\n{indent}{pf.indent_unit}{arg.arg} = {empty}\n"
        start, end = pf.span(default)
        text = pf.text[:start] + "None" + pf.text[end:at] + guard
        yield Mutation(start, at, text[start:], f"default `{arg.arg}` to None, not `{empty}`", 0.9)


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)


def _insert(pf: ParsedFile, stmt: ast.stmt, condition: str, exit_text: str, w: float) -> Mutation:
    indent = pf.indent_of(stmt)
    at = pf.line_start(stmt.lineno)
    text = f"{indent}if {condition}:\n{indent}{pf.indent_unit}{exit_text}\n"
    return Mutation(at, at, text, f"guard `if {condition}: {exit_text}`", w)
