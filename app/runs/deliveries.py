"""Recording triggers (web process): one delivery, its runs, in the caller's transaction.

The generic path works on SQLite and PostgreSQL; `record_one_fast` is PostgreSQL's one-statement
hot path. A delivery id is unique in the database; the web tier's Redis mark (`mark_key`) is only
a fast path in front of that guarantee.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import Base, Delivery, Installation, Repository, Run, utcnow

log = logging.getLogger(__name__)

#: The Core tables behind the hot-path inserts.
RUNS = Base.metadata.tables["runs"]
DELIVERIES = Base.metadata.tables["deliveries"]
#: Prefix of a delivery's Redis mark (webhooks/dedupe.py sets it; delivery recovery clears it).
MARK_PREFIX = "fixwurx:delivery:"


def mark_key(delivery_id: str) -> str:
    """The Redis key of a delivery's mark."""
    return MARK_PREFIX + delivery_id


@dataclass(frozen=True)
class RunRequest:
    """What a webhook handler asks for: one run. Plain data, so handlers stay pure."""

    kind: str  # issue | ci | command | merge
    trigger: str  # "<event>.<action>"
    repository_id: int
    repository_full_name: str
    installation_id: int
    account_login: str
    default_branch: str = "main"
    issue_number: int | None = None
    pr_number: int | None = None
    command: str | None = None
    command_args: str | None = None
    head_sha: str | None = None
    branch: str | None = None
    requested_by: str | None = None


@dataclass(frozen=True)
class RecordedDelivery:
    """The outcome of recording one delivery."""

    run_ids: list[int] = field(default_factory=list)
    duplicate: bool = False
    ignored_reason: str | None = None


def record_delivery(
    session: Session | Connection,
    delivery_id: str,
    event: str,
    action: str | None,
    requests: Sequence[RunRequest],
    job_id: Callable[[int], str],
) -> RecordedDelivery:
    """Insert one run per request and the delivery, in the caller's transaction.

    A redelivery finds its delivery id taken (INSERT ... ON CONFLICT DO NOTHING inserts no row):
    the session's transaction is rolled back, so the runs just inserted vanish with it, and the
    result says `duplicate`. Conflict handling without exceptions or savepoints keeps the
    common path to a handful of statements, which matters at hundreds of deliveries a second.
    Requests for repositories FixWurx was removed from, or whose installation is suspended or
    deleted, are dropped.
    """
    allowed = [r for r in requests if _installed(session, r)]
    if requests and not allowed:
        if not _insert_delivery(session, delivery_id, event, action, [], "ignored"):
            session.rollback()
            return RecordedDelivery(duplicate=True)
        return RecordedDelivery(ignored_reason="repository not installed")
    run_ids = _insert_runs(session, allowed, delivery_id)
    if not _insert_delivery(session, delivery_id, event, action, [job_id(i) for i in run_ids]):
        session.rollback()
        return RecordedDelivery(duplicate=True)
    return RecordedDelivery(run_ids=run_ids)


def _insert_runs(
    session: Session | Connection, requests: Sequence[RunRequest], delivery_id: str
) -> list[int]:
    if not requests:
        return []
    rows = [_run_values(r, delivery_id) for r in requests]
    # The table, not the ORM class: Core skips the ORM's bulk-insert machinery (a third of the
    # request's CPU time at load).
    statement = insert(RUNS).returning(Run.id, sort_by_parameter_order=True)
    return [int(i) for i in session.scalars(statement, rows)]


def _insert_delivery(
    session: Session | Connection,
    delivery_id: str,
    event: str,
    action: str | None,
    job_ids: list[str],
    outcome: str = "queued",
) -> bool:
    """True when the delivery row was inserted, False when the id was already recorded."""
    values = {
        "delivery_id": delivery_id,
        "event": event,
        "action": action,
        "outcome": outcome,
        "job_ids": job_ids,
        "received_at": utcnow(),
    }
    statement = (
        _dialect_insert(session)(DELIVERIES)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["delivery_id"])
        .returning(Delivery.id)
    )
    return session.scalar(statement) is not None


def _run_values(request: RunRequest, delivery_id: str) -> dict[str, Any]:
    return {
        "repository_id": request.repository_id,
        "kind": request.kind,
        "trigger": request.trigger,
        "issue_number": request.issue_number,
        "pr_number": request.pr_number,
        "command": request.command,
        "command_args": request.command_args,
        "head_sha": request.head_sha,
        "branch": request.branch,
        "requested_by": request.requested_by,
        "delivery_id": delivery_id,
        "status": "queued",
        "state": {},
        "created_at": utcnow(),
    }


#: PostgreSQL hot path: one statement records a single-run delivery. It checks the repository,
#: draws the run id, inserts the delivery (a redelivery conflicts and inserts nothing, which in
#: turn inserts no run) and the run. One round trip and no ORM: at 500 deliveries a second on
#: two cores the generic path's per-statement overhead is most of the request's CPU time.
#: Columns must match app/models.py; tests run both paths against the migrated schema.
_PG_RECORD_ONE = """
WITH st AS (
    SELECT r.active AND NOT i.suspended AND i.deleted_at IS NULL AS ok
    FROM repositories r JOIN installations i ON i.id = r.installation_id
    WHERE r.id = %(repository_id)s AND r.full_name = %(repository_full_name)s
), ids AS (
    SELECT nextval(pg_get_serial_sequence('runs', 'id')) AS id FROM st WHERE st.ok
), d AS (
    INSERT INTO deliveries (delivery_id, event, action, outcome, job_ids, received_at)
    SELECT %(delivery_id)s, %(event)s, %(action)s, 'queued',
           json_build_array(%(job_prefix)s || ids.id), %(now)s
    FROM ids
    ON CONFLICT (delivery_id) DO NOTHING
    RETURNING id
), r AS (
    INSERT INTO runs (id, repository_id, kind, trigger, issue_number, pr_number, command,
                      command_args, head_sha, branch, requested_by, delivery_id, status, state,
                      created_at)
    SELECT ids.id, %(repository_id)s, %(kind)s, %(trigger)s, %(issue_number)s, %(pr_number)s,
           %(command)s, %(command_args)s, %(head_sha)s, %(branch)s, %(requested_by)s,
           %(delivery_id)s, 'queued', '{}'::json, %(now)s
    FROM ids, d
    RETURNING id
)
SELECT (SELECT ok FROM st), (SELECT id FROM r)
"""


def record_one_fast(
    execute_one: Callable[[str, dict[str, Any]], Any],
    delivery_id: str,
    event: str,
    action: str | None,
    request: RunRequest,
    job_prefix: str,
) -> RecordedDelivery | None:
    """Record a one-run delivery in a single PostgreSQL statement; None means "use the generic
    path" (a repository that is unknown, not installed, or renamed since we stored its name).

    `execute_one(sql, params) -> first row` runs the statement in autocommit on PostgreSQL (the
    web tier's per-thread connections, `webhooks.hotpath.HotConnections.execute_one`).
    """
    params = {
        **_run_values(request, delivery_id),
        "repository_full_name": request.repository_full_name,
        "event": event,
        "action": action,
        "job_prefix": job_prefix,
        "now": utcnow(),
    }
    return _recorded(execute_one(_PG_RECORD_ONE, params))


def _recorded(row: Any) -> RecordedDelivery | None:
    ok, run_id = row or (None, None)
    if not ok:
        return None
    if run_id is None:
        return RecordedDelivery(duplicate=True)
    return RecordedDelivery(run_ids=[int(run_id)])


def delivery_job_ids(session: Session | Connection, delivery_id: str) -> list[str] | None:
    """The job ids recorded for a delivery, or None when it was never recorded."""
    found = session.scalar(select(Delivery.job_ids).where(Delivery.delivery_id == delivery_id))
    return None if found is None else [str(j) for j in found]


_PG_JOB_IDS = "SELECT job_ids FROM deliveries WHERE delivery_id = %(delivery_id)s"


def delivery_job_ids_fast(
    execute_one: Callable[[str, dict[str, Any]], Any], delivery_id: str
) -> list[str] | None:
    """`delivery_job_ids` as one autocommit statement on the web tier's PostgreSQL connection.

    A copy that raced the first delivery of its id asks this after the unique index made it
    wait; the pooled session it replaces cost a check-out, a pre-ping round trip and the ORM.
    """
    row = execute_one(_PG_JOB_IDS, {"delivery_id": delivery_id})
    return None if row is None else [str(j) for j in row[0]]


def _installed(session: Session | Connection, request: RunRequest) -> bool:
    """False when we recorded a removal or suspension; unknown repositories are recorded now.

    The payload's `installation` is the authority for a repository we have never heard of (the
    App may have been installed before this database existed); only an explicit removal,
    suspension or uninstall that we recorded stops it.
    """
    row = session.execute(
        select(
            Repository.active, Repository.full_name, Installation.suspended, Installation.deleted_at
        )
        .join(Installation, Repository.installation_id == Installation.id)
        .where(Repository.id == request.repository_id)
    ).first()
    if row is None:
        _ensure_repository(session, request)
        return _installation_usable(session, request.installation_id)
    active, full_name, suspended, deleted_at = row
    if full_name != request.repository_full_name:  # renamed: jobs call GitHub by the name
        session.execute(
            update(Repository)
            .where(Repository.id == request.repository_id)
            .values(full_name=request.repository_full_name)
        )
    return bool(active) and not suspended and deleted_at is None


def _installation_usable(session: Session | Connection, installation_id: int) -> bool:
    row = session.execute(
        select(Installation.suspended, Installation.deleted_at).where(
            Installation.id == installation_id
        )
    ).first()
    return row is not None and not row[0] and row[1] is None


def _ensure_repository(session: Session | Connection, request: RunRequest) -> None:
    _insert_ignoring_conflicts(
        session,
        Installation,
        {
            "id": request.installation_id,
            "account_login": request.account_login,
            "account_type": "User",
            "suspended": False,
            "created_at": utcnow(),
        },
    )
    _insert_ignoring_conflicts(
        session,
        Repository,
        {
            "id": request.repository_id,
            "installation_id": request.installation_id,
            "full_name": request.repository_full_name,
            "default_branch": request.default_branch,
            "active": True,
        },
    )


def _insert_ignoring_conflicts(
    session: Session | Connection, model: Any, values: dict[str, Any]
) -> None:
    # Two deliveries for a new repository may race; INSERT ... ON CONFLICT DO NOTHING lets both
    # proceed without aborting either transaction.
    statement = _dialect_insert(session)(model.__table__).values(**values)
    session.execute(statement.on_conflict_do_nothing())


def _dialect_insert(session: Session | Connection) -> Any:
    # ON CONFLICT is not portable SQL; both supported databases have it under the same API.
    bind = session.get_bind() if isinstance(session, Session) else session
    dialect = bind.dialect.name
    return postgresql.insert if dialect == "postgresql" else sqlite.insert
