"""Indexes for the dashboard's aggregates and for retention's deletes

The overview groups runs by day over a time window (runs.created_at), the repositories page
counts runs by repository and status (an index-only scan on PostgreSQL), a run's page and the
median time to a pull request join pull_requests on run_id and filter on created_at, and
`fixwurx db prune` deletes deliveries and stage rows by age. benchmarks/dashboard.py measures the
pages with 100,000 runs and 1,000,000 candidates.

Revision ID: 0005_dashboard_indexes
Revises: 0004_run_bookkeeping
Create Date: 2026-12-01 11:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_dashboard_indexes"
down_revision: str | None = "0004_run_bookkeeping"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_runs_created_at", "runs", ["created_at"]),
    ("ix_runs_repository_id_status", "runs", ["repository_id", "status"]),
    ("ix_pull_requests_run_id", "pull_requests", ["run_id"]),
    ("ix_pull_requests_created_at", "pull_requests", ["created_at"]),
    ("ix_deliveries_received_at", "deliveries", ["received_at"]),
    ("ix_stage_runs_started_at", "stage_runs", ["started_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
