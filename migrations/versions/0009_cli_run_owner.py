"""runs.owner: the process that runs a CLI run; CLI runs left running by older versions end

`fixwurx fix` runs its run in its own process, with no queue job. `owner` ("host:pid") lets a
later CLI call on the same host fail a run whose process is gone, so no CLI run stays
`running`. Older versions left CLI runs that ended in a bad-input error (exit 2) running for
good: those older than a day are failed here with a reason (a younger one may still be live).

Revision ID: 0009_cli_run_owner
Revises: 0008_rollback
Create Date: 2026-12-06 08:45:00
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_cli_run_owner"
down_revision: str | None = "0008_rollback"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: A CLI run started this long ago and still "running" was left behind by its process.
LEFT_BEHIND_AFTER = dt.timedelta(days=1)
REASON = "the fixwurx fix process ended without recording an end (before migration 0009)"


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("owner", sa.String(length=255), nullable=True))
    runs = sa.table(
        "runs",
        sa.column("kind", sa.String()),
        sa.column("status", sa.String()),
        sa.column("reason", sa.Text()),
        sa.column("started_at", sa.DateTime(timezone=True)),
        sa.column("finished_at", sa.DateTime(timezone=True)),
    )
    now = dt.datetime.now(dt.UTC)
    op.execute(
        runs.update()
        .where(
            runs.c.kind == "cli",
            runs.c.status == "running",
            runs.c.started_at < now - LEFT_BEHIND_AFTER,
        )
        .values(status="failed", reason=REASON, finished_at=now)
    )


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("owner")
