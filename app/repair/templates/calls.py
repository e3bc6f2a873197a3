"""Calls: swap a builtin or method for its twin (min/max, any/all, ...) or unwrap a call.

Twins are pairs programmers confuse because they share a signature; unwrapping removes a
conversion or wrapper that should not be there (`int(x)` where `x` was wanted).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from app.repair.templates.base import Mutation, ParsedFile

FAMILY = "call"
PRIOR = 0.6
#: Twins are opposites by design, so a twin swap that passes is seldom right by accident:
#: it ranks with the best operator swaps.
TWIN_WEIGHT = 1.3

#: Functions with the same signature and opposite or neighbouring meaning.
BUILTIN_TWINS: dict[str, tuple[str, ...]] = {
    "min": ("max",), "max": ("min",), "any": ("all",), "all": ("any",),
    "int": ("round", "float"), "round": ("int",), "float": ("int",),
    "sorted": ("reversed", "list"), "reversed": ("sorted",),
    "floor": ("ceil",), "ceil": ("floor",), "isinstance": ("issubclass",),
}  # fmt: skip
#: Methods with the same signature that are easily confused.
METHOD_TWINS: dict[str, tuple[str, ...]] = {
    "floor": ("ceil",), "ceil": ("floor",), "lower": ("upper",), "upper": ("lower",),
    "strip": ("lstrip", "rstrip"), "lstrip": ("strip", "rstrip"), "rstrip": ("strip", "lstrip"),
    "startswith": ("endswith",), "endswith": ("startswith",), "find": ("rfind",),
    "rfind": ("find",), "index": ("rindex",), "rindex": ("index",), "split": ("rsplit",),
    "rsplit": ("split",), "append": ("extend",), "extend": ("append",),
    "remove": ("discard",), "keys": ("values", "items"), "values": ("keys", "items"),
    "items": ("keys", "values"), "insert": ("append",), "pop": ("popleft",),
    "popleft": ("pop",), "appendleft": ("append",), "get": ("pop",), "min": ("max",),
    "max": ("min",), "argmin": ("argmax",), "argmax": ("argmin",),
}  # fmt: skip


def mutations(pf: ParsedFile, stmt: ast.stmt, nodes: list[ast.AST]) -> Iterator[Mutation]:
    """Twin swaps and unwraps for every call of the statement."""
    for node in nodes:
        if not isinstance(node, ast.Call):
            continue
        yield from _twins(pf, node)
        yield from _unwrap(pf, node)
        yield from _drop_argument(pf, node)
        yield from _get_default(pf, node)


def _twins(pf: ParsedFile, call: ast.Call) -> Iterator[Mutation]:
    func = call.func
    if isinstance(func, ast.Name):
        for twin in BUILTIN_TWINS.get(func.id, ()):
            yield pf.replace(func, twin, f"`{func.id}()` -> `{twin}()`", TWIN_WEIGHT)
    elif isinstance(func, ast.Attribute):
        start = pf.span(func)[1] - len(func.attr)
        for twin in METHOD_TWINS.get(func.attr, ()):
            end = start + len(func.attr)
            yield Mutation(start, end, twin, f"`.{func.attr}()` -> `.{twin}()`", TWIN_WEIGHT)


def _unwrap(pf: ParsedFile, call: ast.Call) -> Iterator[Mutation]:
    if len(call.args) == 1 and not call.keywords and not isinstance(call.args[0], ast.Starred):
        inner = call.args[0]
        yield pf.replace(call, pf.operand(inner), f"unwrap `{_name(call)}(...)`", 0.5)
    elif not call.args and not call.keywords and isinstance(call.func, ast.Attribute):
        base = call.func.value
        yield pf.replace(call, pf.segment(base), f"drop the call `.{call.func.attr}()`", 0.3)


def _name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "call")


def _drop_argument(pf: ParsedFile, call: ast.Call) -> Iterator[Mutation]:
    """Drop the last positional or a keyword argument: `split(",")` where `split()` was meant."""
    if call.keywords and all(k.arg is not None for k in call.keywords):
        for keyword in call.keywords:
            kept = [pf.segment(k) for k in call.keywords if k is not keyword]
            args = [pf.segment(a) for a in call.args] + kept
            text = f"{pf.segment(call.func)}({', '.join(args)})"
            yield pf.replace(call, text, f"drop the argument `{keyword.arg}=`", 0.3)
    if call.args and not call.keywords and not isinstance(call.args[-1], ast.Starred):
        if len(call.args) == 1 and isinstance(call.func, ast.Name):
            return  # `f(x)` -> `f()` is rarely a fix; unwrapping covers it
        kept_args = ", ".join(pf.segment(a) for a in call.args[:-1])
        text = f"{pf.segment(call.func)}({kept_args})"
        yield pf.replace(call, text, "drop the last argument", 0.3)


def _get_default(pf: ParsedFile, call: ast.Call) -> Iterator[Mutation]:
    """`counts.get(word) + 1` fails on a missing key: give `.get` the empty default."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "get" and len(call.args) == 1):
        return
    if call.keywords:
        return
    key = pf.segment(call.args[0])
    for default, weight in (("0", 0.7), ("[]", 0.5), ('""', 0.4), ("{}", 0.3)):
        text = f"{pf.segment(func)}({key}, {default})"
        yield pf.replace(call, text, f"default `.get(..., {default})`", weight)
