"""From a verified, parsed delivery to committed rows and queued jobs.

Order matters: route (pure) -> dedupe -> one database transaction (delivery + runs, or the
installation change) -> commit -> enqueue. Enqueueing strictly after the commit means a worker
never sees a run id that does not exist yet; if Redis is down at that point the runs stay
`queued` in the database and the sweeper enqueues them later, so nothing is lost.

On PostgreSQL a delivery's commit does not wait for its WAL to reach the disk
(`synchronous_commit = off`, for these transactions only) unless `sync_commit` is set
(`DELIVERY_SYNC_COMMIT`). The commit is still atomic and at once visible to workers; what it gives
up is surviving a crash of the database server or its machine in the ~0.6 s (3 x
`wal_writer_delay`) before the WAL writer flushes it. In exchange an acknowledgement no longer
waits on the disk: on the benchmark host a single flush stalled for 70-800 ms several times a
minute under load, and every commit queued behind it (benchmarks/README.md, "Disk flushes").
A delivery lost that way was answered 202 without a row here; `fixwurx deliveries recover`
(app/ops/recovery.py) finds it in GitHub's delivery log and has GitHub send it again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from redis.exceptions import RedisError
from sqlalchemy import text

from app.db import get_engine, session_scope
from app.runs import (
    RecordedDelivery,
    RunRequest,
    delivery_job_ids,
    delivery_job_ids_fast,
    record_delivery,
    record_one_fast,
)
from app.runs import record_installation as apply_installation
from webhooks import dedupe
from webhooks.hotpath import HotConnections
from webhooks.router import RouteResult
from workers.enqueue_script import Execute, ScriptJob, enqueue_with_mark
from workers.queues import JOB_ID_PREFIX, job_id

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    """What the view answers with."""

    jobs: list[str] = field(default_factory=list)
    duplicate: bool = False
    ignored: str | None = None


def accept(
    database_url: str,
    redis: Execute,
    delivery_id: str,
    event: str,
    action: str | None,
    outcome: RouteResult,
    sync_commit: bool = False,
) -> Accepted:
    """Record `outcome` once per delivery id and enqueue its runs; idempotent on redelivery.

    `sync_commit`: answer only once the delivery's commit is on disk (see the module docstring).
    """
    if outcome.ignored:
        return Accepted(ignored=outcome.ignored)
    known = dedupe.seen_jobs(redis, delivery_id)
    if known is not None:
        return Accepted(jobs=known, duplicate=True)
    try:
        recorded = _record(database_url, delivery_id, event, action, outcome, sync_commit)
    except BaseException:
        dedupe.forget(redis, delivery_id)
        raise
    if recorded.duplicate:
        return Accepted(jobs=_jobs_of(database_url, delivery_id, sync_commit), duplicate=True)
    if recorded.ignored_reason:
        return Accepted(ignored=recorded.ignored_reason)
    jobs = _enqueue(redis, delivery_id, list(zip(recorded.run_ids, outcome.runs, strict=True)))
    return Accepted(jobs=jobs)


def _record(
    database_url: str,
    delivery_id: str,
    event: str,
    action: str | None,
    outcome: RouteResult,
    sync_commit: bool,
) -> RecordedDelivery:
    if outcome.installation is not None:
        # The change first, so the repositories it adds are installed when its runs (config
        # reads) are checked; a redelivery rolls the whole transaction back.
        with session_scope(database_url) as session:
            apply_installation(session, outcome.installation)
            return record_delivery(session, delivery_id, event, action, outcome.runs, job_id)
    execute_one = _hot_statement(database_url, sync_commit)
    if execute_one is not None and len(outcome.runs) == 1:
        fast = record_one_fast(
            execute_one, delivery_id, event, action, outcome.runs[0], JOB_ID_PREFIX
        )
        if fast is not None:
            return fast
    with get_engine(database_url).connect() as conn:
        if not sync_commit and conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL synchronous_commit = off"))
        recorded = record_delivery(conn, delivery_id, event, action, outcome.runs, job_id)
        conn.commit()
    return recorded


_hot: dict[tuple[int, bool], HotConnections] = {}
_hot_lock = threading.Lock()
#: The hot connections' server setting when a commit need not wait for the disk.
_NO_FLUSH_WAIT = {"synchronous_commit": "off"}


def _hot_statement(database_url: str, sync_commit: bool) -> Execute | None:
    """`execute_one` on this thread's hot PostgreSQL connection; None for another database,
    whose deliveries take the generic, pooled path."""
    engine = get_engine(database_url)
    if engine.dialect.name != "postgresql":
        return None
    hot = _hot.get((id(engine), sync_commit))
    if hot is None:
        settings = None if sync_commit else _NO_FLUSH_WAIT
        with _hot_lock:
            hot = _hot.setdefault((id(engine), sync_commit), HotConnections(engine, settings))
    return hot.execute_one


def _jobs_of(database_url: str, delivery_id: str, sync_commit: bool) -> list[str]:
    # A new statement: it sees the first delivery that committed while this one waited.
    execute_one = _hot_statement(database_url, sync_commit)
    if execute_one is not None:
        return delivery_job_ids_fast(execute_one, delivery_id) or []
    with session_scope(database_url) as session:
        return delivery_job_ids(session, delivery_id) or []


def _enqueue(redis: Execute, delivery_id: str, pairs: list[tuple[int, RunRequest]]) -> list[str]:
    # One round trip: every job of the delivery, and the mark that short-circuits redeliveries.
    jobs = [ScriptJob(run_id, request.kind, request.command) for run_id, request in pairs]
    ids = [job_id(run_id) for run_id, _ in pairs]
    try:
        return enqueue_with_mark(
            redis, jobs, dedupe.key(delivery_id), dedupe.done_value(ids), dedupe.DONE_TTL_S
        )
    except RedisError as exc:
        # The runs are committed as `queued`; the sweeper enqueues them once Redis is back.
        log.warning("could not enqueue %s (%s); the sweeper will", ids, exc)
    return ids
