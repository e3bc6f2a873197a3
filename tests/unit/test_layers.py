"""The layers of ARCHITECTURE.md, checked on the import statements themselves.

A small AST walk rather than import-linter: the rules are a few lines each, and this test names
the offending file and line when one breaks. Imports inside functions count too: a deferred
import is still a dependency.

The rules:
- `app` never imports `webhooks` or `workers`;
- every package under `app/` has a rank, and imports only packages of a lower rank (so no
  import runs back up, and no two packages import each other);
- the core (the modules directly under `app/`) imports no package of `app`; only the entry
  modules (`__init__`: the app factory, `cli`: the command map, `__main__`) sit above everything;
- `app/github` is GitHub's edge: it opens no database session.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Inside `app`, a package may import only packages of a strictly lower rank (and the core).
#: Equal ranks are siblings that never import each other.
RANKS = {
    "sandbox": 0,
    "runs": 0,  # the run row's one owner: the chain and everything above record through it
    "environments": 1,
    "testing": 2,
    "repair": 3,
    "github": 3,  # GitHub's edge: reads JUnit reports (testing), knows nothing of the chain
    "agents": 4,
    "chain": 5,
    "ops": 6,  # health, metrics, migrations, retention, delivery recovery: above the core
    "flows": 7,  # the App's flows: chain + github + runs
    "commands": 8,  # the fixwurx command's operator subcommands and terminal helpers
    "local": 9,
    "dashboard": 9,
    "onboarding": 9,  # fixwurx setup and forward: the manifest flow, the webhook forwarder
}
#: Modules directly under app/ that sit on top (they wire packages together), not in the core.
ENTRY_MODULES = {"__init__", "__main__", "cli"}
#: What opening a database session looks like in an import.
SESSION_IMPORTS = {"app.db", "sqlalchemy.orm.Session", "sqlalchemy.orm.sessionmaker"}


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


def _package(module: str, root: Path = ROOT) -> str | None:
    """`app.repair.search` -> `repair`; None for a module directly under app (the core)."""
    parts = module.split(".")
    if parts[0] != "app" or (len(parts) < 3 and not (root / "app" / parts[-1]).is_dir()):
        return None
    name = parts[1] if len(parts) > 1 else None
    return name if name and (root / "app" / name).is_dir() else None


def _app_files(root: Path = ROOT) -> Iterator[tuple[str, Path]]:
    """(package, file) for every module of app; the package is "" for the core, and the
    module's own name for an entry module."""
    for path in sorted((root / "app").rglob("*.py")):
        rel = path.relative_to(root / "app").parts
        if len(rel) > 1:
            yield rel[0], path
        else:
            yield (path.stem if path.stem in ENTRY_MODULES else ""), path


def _violations(root: Path = ROOT) -> Iterator[str]:
    for own, path in _app_files(root):
        for line, module in _imports(path):
            where = f"{path.relative_to(root)}:{line} imports {module}"
            if module.split(".")[0] in {"webhooks", "workers"}:
                yield f"{where}: app never imports webhooks or workers"
            if own == "github" and module in SESSION_IMPORTS:
                yield f"{where}: app/github is GitHub's edge and opens no database session"
            other = _package(module, root)
            if other is None or other == own or own in ENTRY_MODULES:
                continue
            if own == "":
                yield f"{where}: a core module imports no package of app"
            elif own not in RANKS or other not in RANKS:
                yield f"{where}: every package of app needs a rank in test_layers.RANKS"
            elif RANKS[other] >= RANKS[own]:
                yield f"{where}: {own} (rank {RANKS[own]}) may not import {other} (rank {RANKS[other]})"


def test_dependencies_point_one_way() -> None:
    assert list(_violations()) == []


def test_every_package_has_a_rank() -> None:
    packages = {p.name for p in (ROOT / "app").iterdir() if (p / "__init__.py").is_file()}
    assert packages - set(RANKS) == set()


def test_the_rules_catch_a_violation(tmp_path: Path) -> None:
    """The walk sees a deferred import of a higher layer (the rule cannot pass vacuously)."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from app.chain import planner\n    from app import runs\n")
    found = [m for _, m in _imports(sample)]
    assert "app.chain" in found and "app.runs" in found
    assert _package("app.chain.planner") == "chain"
    assert _package("app.runs") == "runs"
    assert _package("app.config") is None


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "app" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for package in {"chain", "github", "flows", "runs"}:
        (tmp_path / "app" / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / "app" / package / "__init__.py").touch()
    return tmp_path


def test_each_rule_names_its_breach(tmp_path: Path) -> None:
    """An upward import, a core module importing a package, a session in app/github and an
    import of the workers are each reported, with file and line; the entry modules may wire."""
    root = _tree(
        tmp_path,
        {
            "chain/up.py": "from app.flows import job\n",
            "config.py": "\nfrom app.runs import lifecycle\n",
            "github/rows.py": "def f():\n    from app.db import session_scope\n",
            "github/orm.py": "from sqlalchemy.orm import Session\n",
            "flows/x.py": "import workers.jobs\n",
            "cli.py": "from app.flows import flow\n",
            "__init__.py": "from app import runs\n",
        },
    )
    found = "\n".join(_violations(root))
    assert "app/chain/up.py:1 imports app.flows: chain (rank 5) may not import flows" in found
    assert "app/config.py:2 imports app.runs.lifecycle: a core module imports no package" in found
    assert "app/github/rows.py:2 imports app.db: app/github is GitHub's edge" in found
    assert "app/github/orm.py:1 imports sqlalchemy.orm.Session: app/github" in found
    assert "app/flows/x.py:1 imports workers.jobs: app never imports webhooks or workers" in found
    assert "app/cli.py" not in found and "app/__init__.py" not in found
