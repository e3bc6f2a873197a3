"""A run's lifecycle in the worker: claim, heartbeat, finish, requeue.

Every state change is a single conditional UPDATE (`... WHERE status = 'queued'`), so two workers
that receive the same job cannot both claim it, and a late heartbeat from a worker that was
given up on cannot resurrect a run.

Statuses: queued -> running -> fixed | not_fixed | failed | stopped | done. `done` is for runs
that finish without a verdict (status, help, explain replies).
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update

from app.db import session_scope
from app.models import Run, utcnow

log = logging.getLogger(__name__)

#: Terminal statuses a run may finish with.
FINAL_STATUSES = frozenset({"fixed", "not_fixed", "failed", "stopped", "done"})
#: A running run whose heartbeat is older than this is presumed to have lost its worker. Workers
#: beat every `HEARTBEAT_INTERVAL_S`; three missed beats is long enough to ride out a GC pause or
#: a slow database, short enough that a user waits minutes, not hours.
HEARTBEAT_INTERVAL_S = 15.0
STALE_AFTER_S = 3 * HEARTBEAT_INTERVAL_S
#: A queued run with no job after this long was committed while Redis was unreachable.
ENQUEUE_GRACE_S = 30.0
#: RQ job states that mean "a job will still run this": anything else is lost.
LIVE_JOB_STATES = frozenset({"queued", "scheduled", "deferred", "started"})


def claim(database_url: str, run_id: int) -> bool:
    """Mark a queued run running; False when it is not queued (already claimed or finished)."""
    now = utcnow()
    with session_scope(database_url) as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "queued")
            .values(status="running", started_at=now, heartbeat_at=now, reason=None)
        )
        return _changed(result)


def heartbeat(database_url: str, run_id: int) -> bool:
    """Record that the worker holding this run is alive; False when the run is no longer ours."""
    with session_scope(database_url) as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "running")
            .values(heartbeat_at=utcnow())
        )
        return _changed(result)


def finish(database_url: str, run_id: int, status: str, reason: str | None = None) -> bool:
    """Finish a running run with a final status; False when it was not running."""
    if status not in FINAL_STATUSES:
        raise ValueError(f"status {status!r} is not final; use one of {sorted(FINAL_STATUSES)}")
    with session_scope(database_url) as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "running")
            .values(status=status, reason=reason, finished_at=utcnow())
        )
        return _changed(result)


def requeue(database_url: str, run_id: int, reason: str) -> bool:
    """Put a running run back to queued (a retry is coming); False when it was not running."""
    with session_scope(database_url) as session:
        result = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == "running")
            .values(status="queued", reason=reason, heartbeat_at=None)
        )
        return _changed(result)


def status_of(database_url: str, run_id: int) -> str | None:
    """The run's current status, or None when there is no such run."""
    with session_scope(database_url) as session:
        return session.scalar(select(Run.status).where(Run.id == run_id))


def _changed(result: Any) -> bool:
    return bool(result.rowcount == 1)
