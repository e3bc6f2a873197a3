"""Signs that a plausible patch passes for the wrong reason, independent of who wrote it.

A fix that leaves a computed local or a parameter unused (`ranked = sorted(...)` followed by
`return orders[:n]`, or `key=lambda item: counts[n]`) has most likely bypassed the computation
the test was about, not repaired it.
The search's pick charges such patches like deletions.
"""

from __future__ import annotations

import ast

from app import pysource
from app.repair.candidates import Candidate
from app.repair.local_names import unread


def dead_locals(source: str) -> set[tuple[str, str]]:
    """(function, name) pairs assigned in (or passed to) a function but never read there."""
    tree = pysource.parse_text(source)
    if tree is None:
        return set()
    found: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            owner = getattr(node, "name", f"<lambda:{node.lineno}>")
            found |= {(owner, n) for n in unread(node, _params(node))}
    return found


def _params(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """Parameter names, without `self`/`cls`: a parameter the body stops reading is orphaned."""
    args = function.args
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return {a.arg for a in every if a is not None and a.arg not in ("self", "cls")}


def orphans(candidate: Candidate) -> set[tuple[str, str]]:
    """Locals the candidate leaves unused that the original code read."""
    new: set[tuple[str, str]] = set()
    for edit in candidate.edits:
        if edit.path.endswith(".py"):
            new |= dead_locals(edit.after) - dead_locals(edit.before)
    return new
