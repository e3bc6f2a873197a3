"""`/readyz` during a rolling release: the release step has already migrated the database one
revision ahead of the pods still running, and they must stay ready (expand/contract,
docs/deployment.md). A database behind the code stays 503."""

from __future__ import annotations

import shutil
from pathlib import Path

from alembic import command

from app import create_app
from app.ops import migrate
from app.ops.health import migration_heads

NEXT = '''"""A newer release's migration: expand only (a nullable column)."""

import sqlalchemy as sa
from alembic import op

revision = "9999_next_release"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("next_release_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("next_release_note")
'''


def _newer_scripts(tmp_path: Path) -> Path:
    """This code's migrations plus one more, as the next release would ship them."""
    import migrations

    scripts = tmp_path / "next_migrations"
    shutil.copytree(Path(migrations.__file__).parent, scripts)
    (head,) = migration_heads()
    (scripts / "versions" / "9999_next_release.py").write_text(NEXT.format(head=head))
    return scripts


def _readyz(url: str, redis_url: str) -> tuple[int, dict[str, object]]:
    reply = create_app({"DATABASE_URL": url, "REDIS_URL": redis_url}).test_client().get("/readyz")
    return reply.status_code, reply.get_json()


def test_readyz_stays_ready_when_the_schema_is_one_revision_ahead(
    tmp_path: Path, redis_url: str
) -> None:
    url = f"sqlite:///{tmp_path / 'ahead.sqlite3'}"
    config = migrate.alembic_config(url)
    config.set_main_option("script_location", str(_newer_scripts(tmp_path)))
    command.upgrade(config, "head")  # the next release's release step
    status, body = _readyz(url, redis_url)
    assert status == 200, body
    assert body["checks"] == {"database": "ok", "redis": "ok", "migrations": "ok"}


def test_readyz_is_unavailable_when_the_schema_is_one_revision_behind(
    tmp_path: Path, redis_url: str
) -> None:
    from alembic.script import ScriptDirectory

    url = f"sqlite:///{tmp_path / 'behind.sqlite3'}"
    scripts = ScriptDirectory.from_config(migrate.alembic_config(url))
    (head,) = migration_heads()
    previous = scripts.get_revision(head).down_revision
    assert isinstance(previous, str)
    migrate.upgrade(url, previous)
    status, body = _readyz(url, redis_url)
    assert status == 503 and body["down"] == ["migrations"], body
    migrate.upgrade(url)
    assert _readyz(url, redis_url)[0] == 200
