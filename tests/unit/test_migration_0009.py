"""Migration 0009 ends the CLI runs older versions left running for good, and only those."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import create_engine, text

from app.ops import migrate
from tests.unit.test_migrations import empty_database

__all__ = ["empty_database"]


def test_old_stuck_cli_runs_fail_and_live_ones_and_app_runs_are_kept(empty_database: str) -> None:
    migrate.upgrade(empty_database, "0008_rollback")
    now = dt.datetime.now(dt.UTC)
    rows = [
        (1, "cli", now - dt.timedelta(days=3)),  # exited 2 under an older version
        (2, "cli", now - dt.timedelta(minutes=5)),  # may still be live
        (3, "issue", now - dt.timedelta(days=3)),  # the sweeper's business, not this one's
    ]
    engine = create_engine(empty_database)
    with engine.begin() as conn:
        for run_id, kind, started in rows:
            conn.execute(
                text(
                    "INSERT INTO runs (id, kind, trigger, status, state, resumes, created_at, "
                    "started_at) VALUES (:id, :kind, 't', 'running', '{}', 0, :at, :at)"
                ),
                {"id": run_id, "kind": kind, "at": started},
            )
    migrate.upgrade(empty_database)
    with engine.connect() as conn:
        got = dict(conn.execute(text("SELECT id, status FROM runs ORDER BY id")).all())
        reason = conn.execute(text("SELECT reason FROM runs WHERE id = 1")).scalar()
    engine.dispose()
    assert got == {1: "failed", 2: "running", 3: "running"}
    assert "before migration 0009" in str(reason)
