"""The expand/contract rule for migrations (docs/deployment.md, "Releases and migrations").

The release step migrates before the new pods roll out, and `/readyz` keeps the old pods ready
on a schema newer than theirs. That is only safe when the previous release's code works on the
new schema, so a migration's `upgrade()` may only expand: add tables, nullable columns (or with
a server default), indexes; relax constraints. What removes or reshapes something old code uses
(drop or rename a table or column, make a column NOT NULL, change its type) is a *contract*
migration: it goes in a later release than the code that stopped using it, and says so with a
module-level `contract = "<why it is safe: the release that stopped using it>"`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

VERSIONS = Path(__file__).resolve().parents[3] / "migrations" / "versions"
#: Written before the rule; 0004 moved a JSON key into a column in one step.
GRANDFATHERED = {f"000{n}" for n in range(1, 9)}
CONTRACTING_CALLS = {"drop_table", "drop_column", "rename_table"}
CONTRACTING_ALTER_KEYWORDS = {"new_column_name", "type_"}


def violations(source: str) -> list[str]:
    """The contracting operations in `upgrade()`, unless the module declares `contract`."""
    tree = ast.parse(source)
    for node in tree.body:
        declares = isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "contract" for t in node.targets
        )
        if declares and isinstance(node.value, ast.Constant) and str(node.value.value).strip():
            return []
    upgrade = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "upgrade"), None
    )
    if upgrade is None:
        return []
    found = []
    for call in (n for n in ast.walk(upgrade) if isinstance(n, ast.Call)):
        name = call.func.attr if isinstance(call.func, ast.Attribute) else ""
        keywords = {k.arg: k.value for k in call.keywords if k.arg}
        if name in CONTRACTING_CALLS:
            found.append(f"line {call.lineno}: {name}")
        elif name == "alter_column":
            nullable = keywords.get("nullable")
            if isinstance(nullable, ast.Constant) and nullable.value is False:
                found.append(f"line {call.lineno}: alter_column(nullable=False)")
            for key in CONTRACTING_ALTER_KEYWORDS & set(keywords):
                found.append(f"line {call.lineno}: alter_column({key}=...)")
        elif name == "Column":
            nullable = keywords.get("nullable")
            not_null = isinstance(nullable, ast.Constant) and nullable.value is False
            if not_null and "server_default" not in keywords and not _in_create(upgrade, call):
                found.append(f"line {call.lineno}: NOT NULL column without server_default")
    return found


def _in_create(upgrade: ast.FunctionDef, column: ast.Call) -> bool:
    """Whether `column` is a column of a new table (`op.create_table`): no old code uses it."""
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "create_table"
        and column in node.args
        for node in ast.walk(upgrade)
    )


def test_every_migration_only_expands_or_declares_its_contract() -> None:
    paths = sorted(VERSIONS.glob("[0-9]*.py"))
    assert len(paths) >= len(GRANDFATHERED)
    broken = {
        p.name: found
        for p in paths
        if p.name[:4] not in GRANDFATHERED and (found := violations(p.read_text()))
    }
    assert broken == {}, (
        "these migrations contract the schema in the release that migrates it; the previous "
        "release's pods would break (docs/deployment.md, expand/contract)"
    )


EXPAND = """
def upgrade():
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("tries", sa.Integer(), nullable=False, server_default="0"))
    op.create_table("t", sa.Column("id", sa.Integer(), nullable=False))
    op.create_index("ix", "runs", ["note"])
"""


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ('    op.drop_column("runs", "note")', "drop_column"),
        ('    op.drop_table("runs")', "drop_table"),
        ('    op.rename_table("runs", "jobs")', "rename_table"),
        ('    op.alter_column("runs", "note", nullable=False)', "nullable=False"),
        ('    op.alter_column("runs", "note", new_column_name="memo")', "new_column_name"),
        ('    op.alter_column("runs", "note", type_=sa.Integer())', "type_"),
        ('    op.add_column("runs", sa.Column("x", sa.Text(), nullable=False))', "NOT NULL"),
    ],
)
def test_the_rule_refuses_contracting_steps_unless_declared(body: str, why: str) -> None:
    assert violations(EXPAND) == []
    found = violations(EXPAND + body + "\n")
    assert len(found) == 1 and why in found[0], found
    declared = 'contract = "release 0.9 stopped reading runs.note"\n' + EXPAND + body + "\n"
    assert violations(declared) == []
