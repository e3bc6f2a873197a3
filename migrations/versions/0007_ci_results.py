"""CI watches and CI results: the repository's own CI as FixWurx's second verifier (issue 13)

`ci_watches` holds one row per fix commit FixWurx pushed and waits on (its check run, canary run,
the sweeper's deadline); `ci_results` holds what each CI suite said about it, as evidence
entries tied to the bundle hash.

Revision ID: 0007_ci_results
Revises: 0006_operator_records
Create Date: 2026-12-01 13:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_ci_results"
down_revision: str | None = "0006_operator_records"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ci_watches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repository_id", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("pr_number", sa.Integer(), nullable=True),
        sa.Column("issue_number", sa.Integer(), nullable=True),
        sa.Column("branch", sa.String(length=255), nullable=False),
        sa.Column("head_sha", sa.String(length=64), nullable=False),
        sa.Column("base_sha", sa.String(length=64), nullable=False),
        sa.Column("bundle_hash", sa.String(length=80), nullable=False),
        sa.Column("parent_bundle_hash", sa.String(length=80), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("check_run_id", sa.BigInteger(), nullable=True),
        sa.Column("canary_run_id", sa.BigInteger(), nullable=True),
        sa.Column("canary_nonce", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("acting_run_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("deadline", Timestamp, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("finished_at", Timestamp, nullable=True),
        sa.ForeignKeyConstraint(
            ["repository_id"],
            ["repositories.id"],
            name=op.f("fk_ci_watches_repository_id_repositories"),
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_ci_watches_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ci_watches")),
        sa.UniqueConstraint("repository_id", "head_sha", name=op.f("uq_ci_watches_repository_id")),
    )
    op.create_index(op.f("ix_ci_watches_repository_id"), "ci_watches", ["repository_id"])
    op.create_index(op.f("ix_ci_watches_state"), "ci_watches", ["state"])
    op.create_table(
        "ci_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("watch_id", sa.Integer(), nullable=False),
        sa.Column("bundle_hash", sa.String(length=80), nullable=False),
        sa.Column("head_sha", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("conclusion", sa.String(length=32), nullable=False),
        sa.Column("blamed", sa.Boolean(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("failing", sa.JSON(), nullable=False),
        sa.Column("excerpt", sa.Text(), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["watch_id"], ["ci_watches.id"], name=op.f("fk_ci_results_watch_id_ci_watches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ci_results")),
    )
    op.create_index(op.f("ix_ci_results_watch_id"), "ci_results", ["watch_id"])
    op.create_index(op.f("ix_ci_results_bundle_hash"), "ci_results", ["bundle_hash"])


def downgrade() -> None:
    op.drop_table("ci_results")
    op.drop_table("ci_watches")
