"""repositories.config_error: why the repo config was last rejected, for the dashboard

A job that reads an invalid `.github/fixwurx.yml` stores the error on the repository and a job
that reads a valid one clears it, so the repositories page shows the config error as of the last
read. Sweeper actions are audit rows (no schema change).

Revision ID: 0006_operator_records
Revises: 0005_dashboard_indexes
Create Date: 2026-12-01 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_operator_records"
down_revision: str | None = "0005_dashboard_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("repositories") as batch:
        batch.add_column(sa.Column("config_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("config_error_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("repositories") as batch:
        batch.drop_column("config_error_at")
        batch.drop_column("config_error")
