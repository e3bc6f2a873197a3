"""Which names a function assigns and which it reads: the one walk behind "unread local" checks.

Two places ask it: the name templates (a value computed and never used is often what a buggy
line should have read) and the patch-quality check (a patch must not orphan a local the
original code read).
"""

from __future__ import annotations

import ast


def stored_and_loaded(function: ast.AST) -> tuple[set[str], set[str]]:
    """(names assigned, names read) anywhere inside `function`, nested scopes included.

    A name declared `global` or `nonlocal` counts as read: storing to it is an effect outside
    the function, never a dead assignment.
    """
    stored: set[str] = set()
    loaded: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Name):
            (stored if isinstance(node.ctx, ast.Store) else loaded).add(node.id)
        elif isinstance(node, ast.Global | ast.Nonlocal):
            loaded.update(node.names)
    return stored, loaded


def unread(function: ast.AST, extra_stored: set[str] | None = None) -> set[str]:
    """Names assigned in `function` (plus `extra_stored`) and never read there; `_`-names are
    deliberate throwaways and never reported."""
    stored, loaded = stored_and_loaded(function)
    stored |= extra_stored or set()
    return {n for n in stored - loaded if not n.startswith("_")}
