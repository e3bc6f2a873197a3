"""rollback outcomes and call rungs: what became of a revert, who reverted a fix, which rung paid

`rollback_decisions.revert_outcome` / `revert_closed_at`: the revert pull request was merged (a
human confirmed the decision) or closed unmerged (rejected). `pull_requests.reverted_by_sha` /
`reverted_at`: a default-branch commit reverted this fix ("This reverts commit <merge>"), so a
decision not to revert can be counted as a miss. `llm_calls.rung`: the escalation rung (model,
agent) whose candidate search made the call, for the dashboard's cost per resolved issue.

Revision ID: 0011_rollback_outcomes_and_rungs
Revises: 0010_dashboard_sign_ins
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_rollback_outcomes_and_rungs"
down_revision: str | None = "0010_dashboard_sign_ins"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rollback_decisions") as batch:
        batch.add_column(sa.Column("revert_outcome", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column("revert_closed_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("pull_requests") as batch:
        batch.add_column(sa.Column("reverted_by_sha", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("reverted_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("llm_calls") as batch:
        batch.add_column(sa.Column("rung", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("llm_calls") as batch:
        batch.drop_column("rung")
    with op.batch_alter_table("pull_requests") as batch:
        batch.drop_column("reverted_at")
        batch.drop_column("reverted_by_sha")
    with op.batch_alter_table("rollback_decisions") as batch:
        batch.drop_column("revert_closed_at")
        batch.drop_column("revert_outcome")
