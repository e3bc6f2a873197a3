"""dashboard_sign_ins: the used one-time sign-in links of `fixwurx dashboard login`

A sign-in link is signed with SECRET_KEY and expires by itself; its nonce is stored when it is
used, so the same link cannot sign anyone in twice.

Revision ID: 0010_dashboard_sign_ins
Revises: 0009_cli_run_owner
Create Date: 2026-12-06 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_dashboard_sign_ins"
down_revision: str | None = "0009_cli_run_owner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dashboard_sign_ins",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("login", sa.String(length=255), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_dashboard_sign_ins")),
    )


def downgrade() -> None:
    op.drop_table("dashboard_sign_ins")
