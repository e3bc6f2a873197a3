"""Retention: delete the bookkeeping rows older than a cut-off, keep what a fix's history needs.

Every table that grows with use has a rule (the cut-off is `RETENTION_DAYS`, 90 by default, or
`--older-than`):

| table | what goes once older than the cut-off |
|---|---|
| `deliveries` | every row (`received_at`) |
| `llm_calls` | every row (`created_at`) |
| `stage_runs` | every row (`started_at`) |
| `audit_log` | every row (`at`) |
| `ci_results` | every row (`created_at`) whose bundle no merged or open pull request names |
| `ci_watches` | finished watches (`created_at`) with no CI result left and no kept bundle |
| `rollback_decisions` | finished ones (`created_at`, never `pending`), never younger than |
| | `MIN_DECISION_DAYS` (past the largest rollback window: one rollback per fix holds) |
| `candidates` | the diff and description of the ones not chosen (`created_at`); the row, |
| | its verdict and its lineage stay for the dashboard |
| `patch_bundles` | bundles (`created_at`) that no merged or open pull request names |

Kept whatever their age: runs and attempts (the dashboard's history and every fix's lineage),
pull requests, installations and repositories, remembered fixes, and the bundle (and its CI
evidence) of every merged or still open fix, so a merged change can always be traced.

Each rule works in batches of `BATCH` rows, one short transaction each, so a first prune of a
large database never holds a long transaction or locks a whole table.

`fixwurx db prune --older-than 90d` runs it by hand; every worker runs it once a day
(`RETENTION_DAYS`, 0 turns it off), and a Redis lock makes one worker per day do it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, exists, select, update

from app.config import Settings
from app.db import session_scope
from app.models import (
    AuditLog,
    CandidateRecord,
    CiResult,
    CiWatch,
    Delivery,
    LlmCall,
    PatchBundleRecord,
    PullRequest,
    RollbackDecision,
    StageRun,
    utcnow,
)

#: `--older-than` values: a number and a unit (h hours, d days, w weeks).
AGE_PATTERN = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": dt.timedelta(hours=1), "d": dt.timedelta(days=1), "w": dt.timedelta(weeks=1)}
#: Redis key that lets one worker a day prune; it expires after `DAILY_S`.
DAILY_LOCK_KEY = "fixwurx:retention:daily"
DAILY_S = 24 * 3600
#: Pull-request states whose bundle is kept whatever its age.
KEPT_BUNDLE_STATES = ("merged", "open")


def parse_age(value: str) -> dt.timedelta:
    """`90d` -> 90 days; raises ValueError naming the accepted forms."""
    match = AGE_PATTERN.match(value)
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(f"{value!r} is not an age like 90d, 12w or 36h (a positive number)")
    return int(match.group(1)) * _UNITS[match.group(2)]


@dataclass
class PruneReport:
    """Rows deleted, by table."""

    cutoff: dt.datetime
    deleted: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


#: Rows deleted (or emptied) per transaction.
BATCH = 1000
#: Rollback decisions are kept at least this long: more than `rollback_window_hours`' largest
#: value (720 h), so the "one rollback per fix" guard always sees the earlier revert.
MIN_DECISION_DAYS = 31
#: CI watch states that are over (a waiting or acting watch is still in use).
_FINISHED_WATCHES = ("success", "failure", "neutral", "superseded", "expired")


def prune(
    database_url: str,
    older_than: dt.timedelta,
    now: dt.datetime | None = None,
    batch: int = BATCH,
) -> PruneReport:
    """Apply every table's rule (see the module docstring) to what is older than
    `now - older_than`, `batch` rows per transaction."""
    at = now or utcnow()
    cutoff = at - older_than
    report = PruneReport(cutoff)
    kept = select(PullRequest.bundle_hash).where(
        PullRequest.state.in_(KEPT_BUNDLE_STATES), PullRequest.bundle_hash.is_not(None)
    )
    decided = min(cutoff, at - dt.timedelta(days=MIN_DECISION_DAYS))
    rules: list[tuple[Any, list[Any]]] = [
        (Delivery, [Delivery.received_at < cutoff]),
        (LlmCall, [LlmCall.created_at < cutoff]),
        (StageRun, [StageRun.started_at < cutoff]),
        (AuditLog, [AuditLog.at < cutoff]),
        (CiResult, [CiResult.created_at < cutoff, CiResult.bundle_hash.not_in(kept)]),
        (
            CiWatch,
            [
                CiWatch.created_at < cutoff,
                CiWatch.state.in_(_FINISHED_WATCHES),
                CiWatch.bundle_hash.not_in(kept),
                ~exists().where(CiResult.watch_id == CiWatch.id),
            ],
        ),
        (
            RollbackDecision,
            [RollbackDecision.created_at < decided, RollbackDecision.action != "pending"],
        ),
        (
            PatchBundleRecord,
            [PatchBundleRecord.created_at < cutoff, PatchBundleRecord.hash.not_in(kept)],
        ),
    ]
    for model, where in rules:
        report.deleted[model.__tablename__] = _delete(database_url, model, where, batch)
    report.deleted["candidates"] = _clear_diffs(database_url, cutoff, batch)
    return report


def _delete(url: str, model: Any, where: list[Any], batch: int) -> int:
    """Delete the rows matching `where`, `batch` at a time, each batch its own transaction."""
    total = 0
    while True:
        with session_scope(url) as session:
            ids = session.scalars(select(model.id).where(*where).limit(batch)).all()
            if ids:
                statement = delete(model).where(model.id.in_(ids))
                session.execute(statement.execution_options(synchronize_session=False))
        total += len(ids)
        if len(ids) < batch:
            return total


def _clear_diffs(url: str, cutoff: dt.datetime, batch: int) -> int:
    """Empty the diffs of old candidates that were not chosen: the biggest column, and the
    one nothing reads once the run is over (the chosen candidate's diff is its bundle's)."""
    where = [
        CandidateRecord.created_at < cutoff,
        CandidateRecord.status != "chosen",
        (CandidateRecord.diff != "") | (CandidateRecord.description != ""),
    ]
    total = 0
    while True:
        with session_scope(url) as session:
            ids = session.scalars(select(CandidateRecord.id).where(*where).limit(batch)).all()
            if ids:
                session.execute(
                    update(CandidateRecord)
                    .where(CandidateRecord.id.in_(ids))
                    .values(diff="", description="")
                    .execution_options(synchronize_session=False)
                )
        total += len(ids)
        if len(ids) < batch:
            return total


def prune_daily(
    settings: Settings, redis: Any, now: dt.datetime | None = None
) -> PruneReport | None:
    """Prune with `settings.retention_days` unless another worker did in the last day (or
    retention is off); returns what it deleted, or None when it did nothing."""
    if settings.retention_days <= 0:
        return None
    if not redis.set(DAILY_LOCK_KEY, utcnow().isoformat(), nx=True, ex=DAILY_S):
        return None
    from app.ops import metrics

    report = prune(settings.database_url, dt.timedelta(days=settings.retention_days), now)
    for table, count in report.deleted.items():
        if count:
            metrics.PRUNED_ROWS.labels(table).inc(count)
    return report
