"""Retention: delete the bookkeeping rows older than a cut-off, keep what a fix's history needs.

Deleted when older than the cut-off: webhook deliveries (by `received_at`), model-call rows
(`llm_calls.created_at`), stage rows (`stage_runs.started_at`), audit rows (`audit_log.at`), and
patch bundles (`created_at`) that no merged or open pull request names.
Kept whatever their age: runs, attempts and candidates (the dashboard's history and every fix's
lineage), pull requests, installations and repositories, remembered fixes, and the bundle of
every merged (or still open) fix, so a merged change can always be traced to its evidence.

`fixwurx db prune --older-than 90d` runs it by hand; every worker runs it once a day
(`RETENTION_DAYS`, 0 turns it off), and a Redis lock makes one worker per day do it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select

from app.config import Settings
from app.db import session_scope
from app.models import (
    AuditLog,
    Delivery,
    LlmCall,
    PatchBundleRecord,
    PullRequest,
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


def prune(
    database_url: str, older_than: dt.timedelta, now: dt.datetime | None = None
) -> PruneReport:
    """Delete what retention covers older than `now - older_than`, in one transaction."""
    cutoff = (now or utcnow()) - older_than
    report = PruneReport(cutoff)
    kept_bundles = select(PullRequest.bundle_hash).where(
        PullRequest.state.in_(KEPT_BUNDLE_STATES), PullRequest.bundle_hash.is_not(None)
    )
    statements = {
        Delivery.__tablename__: delete(Delivery).where(Delivery.received_at < cutoff),
        LlmCall.__tablename__: delete(LlmCall).where(LlmCall.created_at < cutoff),
        StageRun.__tablename__: delete(StageRun).where(StageRun.started_at < cutoff),
        AuditLog.__tablename__: delete(AuditLog).where(AuditLog.at < cutoff),
        PatchBundleRecord.__tablename__: delete(PatchBundleRecord).where(
            PatchBundleRecord.created_at < cutoff, PatchBundleRecord.hash.not_in(kept_bundles)
        ),
    }
    with session_scope(database_url) as session:
        for table, statement in statements.items():
            result = session.execute(statement.execution_options(synchronize_session=False))
            report.deleted[table] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    return report


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
