"""Schema migrations: `fixwurx db upgrade` (and the Procfile's release step) run Alembic here.

The Alembic scripts live in the `migrations` package next to `app`, so this works from a
checkout and from an installed wheel alike, without depending on the current directory.
"""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config

from app.config import Settings


def alembic_config(database_url: str) -> Config:
    """An Alembic config for `database_url`, independent of the working directory."""
    import migrations

    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    # ConfigParser interpolation would treat a '%' in a password as a reference.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at `database_url` up to `revision` (default: the latest)."""
    command.upgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    """Raise when the models and the migrated database differ (a migration is missing)."""
    command.check(alembic_config(database_url))


@click.group("db")
def db() -> None:
    """Database schema commands (DATABASE_URL selects the database)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def upgrade_command(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    url = Settings.from_env().database_url
    upgrade(url, revision)
    click.echo(f"database is at {revision}")


@db.command("check")
def check_command() -> None:
    """Fail when app/models.py has changes no migration covers."""
    check(Settings.from_env().database_url)
    click.echo("no schema changes outside migrations")


@db.command("current")
def current_command() -> None:
    """Show the database's current revision."""
    command.current(alembic_config(Settings.from_env().database_url))


@db.command("prune")
@click.option(
    "--older-than",
    "older_than",
    default="90d",
    show_default=True,
    help="Age like 90d, 12w or 36h: older deliveries, model calls, stage and audit rows go.",
)
def prune_command(older_than: str) -> None:
    """Delete old bookkeeping rows; runs, candidates and merged fixes' bundles are kept."""
    from app.ops import retention

    try:
        age = retention.parse_age(older_than)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--older-than") from exc
    report = retention.prune(Settings.from_env().database_url, age)
    for table, count in report.deleted.items():
        click.echo(f"{table}: {count} deleted")
    click.echo(f"pruned {report.total} rows older than {report.cutoff.isoformat()}")
