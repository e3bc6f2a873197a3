"""The layers of ARCHITECTURE.md, checked on the import statements themselves.

A small AST walk rather than import-linter: the rules are four lines each, and this test names
the offending file and line when one breaks. Imports inside functions count too: a deferred
import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Inside `app`, a package may import only packages of a lower rank (and the core modules).
RANKS = {"sandbox": 0, "environments": 1, "testing": 2, "repair": 3, "agents": 4, "chain": 5}
#: Packages at the top: they may import any ranked package, never each other's callers.
TOP = {"github", "local", "dashboard"}


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:  # `from app import runs` imports app.runs
                yield node.lineno, f"{node.module}.{alias.name}"


def _package(module: str) -> str | None:
    """`app.repair.search` -> `repair`; None for a module directly under app (the core)."""
    parts = module.split(".")
    if parts[0] != "app" or (len(parts) < 3 and not (ROOT / "app" / parts[-1]).is_dir()):
        return None
    name = parts[1] if len(parts) > 1 else None
    return name if name and (ROOT / "app" / name).is_dir() else None


def _app_files() -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / "app").rglob("*.py")):
        rel = path.relative_to(ROOT / "app").parts
        yield (rel[0] if len(rel) > 1 else ""), path


def _violations() -> Iterator[str]:
    edges: dict[tuple[str, str], str] = {}
    for own, path in _app_files():
        for line, module in _imports(path):
            where = f"{path.relative_to(ROOT)}:{line} imports {module}"
            top = module.split(".")[0]
            if top in {"webhooks", "workers"}:
                yield f"{where}: app never imports webhooks or workers"
            other = _package(module)
            if not own or other is None or other == own:
                continue
            edges.setdefault((own, other), where)
            if own in RANKS and other in RANKS and RANKS[other] > RANKS[own]:
                yield f"{where}: {own} sits below {other}"
            if own in RANKS and other in TOP:
                yield f"{where}: {own} may not import the top layer ({other})"
    for (a, b), where in edges.items():
        if (b, a) in edges and a < b:
            yield f"{where} and {edges[(b, a)]}: packages {a} and {b} import each other"


def test_dependencies_point_one_way() -> None:
    assert list(_violations()) == []


def test_the_rules_catch_a_violation(tmp_path: Path) -> None:
    """The walk sees a deferred import of a higher layer (the rule cannot pass vacuously)."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from app.chain import planner\n    from app import runs\n")
    found = [m for _, m in _imports(sample)]
    assert "app.chain" in found and "app.runs" in found
    assert _package("app.chain.planner") == "chain"
    assert _package("app.runs") == "runs"
    assert _package("app.config") is None
