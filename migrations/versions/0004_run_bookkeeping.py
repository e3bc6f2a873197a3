"""runs.resumes: the lifecycle's resume count, in its own column instead of inside `runs.state`

`runs.state` is the repair chain's state (the planner's `RunState`); the sweeper counted resumes
in a `_resumes` key of the same JSON, and every stage the chain recorded overwrote the whole
document, so the counter went back to its old value and `MAX_RESUMES` never fired. The count now
lives in a column only `app/runs` writes. Existing counters move over; downgrade moves them back.

Revision ID: 0004_run_bookkeeping
Revises: 0003
Create Date: 2026-12-01 11:20:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004_run_bookkeeping"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The key the old sweeper kept its counter under in `runs.state`.
OLD_KEY = "_resumes"

_runs = sa.table(
    "runs",
    sa.column("id", sa.Integer),
    sa.column("state", sa.JSON),
    sa.column("resumes", sa.Integer),
)


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("resumes", sa.Integer(), nullable=False, server_default="0"))
    bind = op.get_bind()
    for run_id, state in bind.execute(sa.select(_runs.c.id, _runs.c.state)).all():
        if isinstance(state, dict) and OLD_KEY in state:
            rest: dict[str, Any] = {k: v for k, v in state.items() if k != OLD_KEY}
            bind.execute(
                _runs.update()
                .where(_runs.c.id == run_id)
                .values(state=rest, resumes=int(state[OLD_KEY] or 0))
            )


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(_runs.c.id, _runs.c.state, _runs.c.resumes).where(_runs.c.resumes > 0)
    ).all()
    for run_id, state, resumes in rows:
        merged = {**(state if isinstance(state, dict) else {}), OLD_KEY: resumes}
        bind.execute(_runs.update().where(_runs.c.id == run_id).values(state=merged))
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("resumes")
