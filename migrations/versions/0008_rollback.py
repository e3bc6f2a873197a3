"""Rollback decisions and the merge time of FixWurx's pull requests

`rollback_decisions` holds one row per failing default-branch commit inside a merged fix's
watch window: the attribution's verdict, its evidence and what FixWurx did (a revert pull
request, a comment, nothing). The unique (repository, failing commit) pair is what makes a
redelivered failure or a resumed worker find the decision instead of making a second one.
`pull_requests.merged_at` starts the watch window (`rollback_window_hours`).

Revision ID: 0008_rollback
Revises: 0005_dashboard_indexes
Create Date: 2026-12-01 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_rollback"
down_revision: str | None = "0007_ci_results"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pull_requests") as batch:
        batch.add_column(sa.Column("merged_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "rollback_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repository_id", sa.BigInteger(), nullable=False),
        sa.Column("pr_number", sa.Integer(), nullable=False),
        sa.Column("merge_sha", sa.String(length=64), nullable=False),
        sa.Column("failing_sha", sa.String(length=64), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("revert_pr_number", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_rollback_decisions_repository_id_repositories"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_rollback_decisions_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollback_decisions")),
        sa.UniqueConstraint(
            "repository_id", "failing_sha", name=op.f("uq_rollback_decisions_repository_id")
        ),
    )
    op.create_index(
        op.f("ix_rollback_decisions_repository_id"), "rollback_decisions", ["repository_id"]
    )
    op.create_index(op.f("ix_rollback_decisions_created_at"), "rollback_decisions", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rollback_decisions_created_at"), table_name="rollback_decisions")
    op.drop_index(op.f("ix_rollback_decisions_repository_id"), table_name="rollback_decisions")
    op.drop_table("rollback_decisions")
    with op.batch_alter_table("pull_requests") as batch:
        batch.drop_column("merged_at")
