"""The dashboard's reads: one function per panel, each an aggregate the database does itself.

Every query is bounded: a time window on an indexed timestamp (migration 0005 adds the indexes),
a primary-key range, or a LIMIT, so pages stay fast with 100,000 runs and 1,000,000 candidates
(benchmarks/dashboard.py measures them on PostgreSQL). Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select, true
from sqlalchemy.orm import Session

from app import redisconn
from app.models import (
    CLI_KIND,
    Attempt,
    AuditLog,
    CandidateRecord,
    CiResult,
    CiWatch,
    Delivery,
    LlmCall,
    PatchBundleRecord,
    PullRequest,
    Repository,
    RollbackDecision,
    Run,
    StageRun,
    aware,
)
from app.runs import answered
from app.runs.answered import AnsweredDelivery
from app.runs.sweep import SWEEPER_ACTOR

log = logging.getLogger(__name__)

#: Statuses that end a repair run; the fix rate is fixed among these (commands end "done").
REPAIR_FINAL = ("fixed", "not_fixed", "failed", "stopped")
#: Statuses a run has while it can still change (the run page refreshes itself then).
LIVE_STATUSES = frozenset({"queued", "running"})
#: Rows per page on the runs and deliveries lists.
PAGE_SIZE = 50
#: Latest failures on the overview.
FAILURES_SHOWN = 10


@dataclass
class DayRow:
    day: str
    runs: int = 0
    fixed: int = 0
    finished: int = 0
    cost_usd: float = 0.0

    @property
    def fix_rate(self) -> float | None:
        return self.fixed / self.finished if self.finished else None


@dataclass
class Overview:
    days: list[DayRow]
    runs_7d: int
    runs_30d: int
    fix_rate_7d: float | None
    fix_rate_30d: float | None
    median_to_pr_s: float | None
    cost_30d_usd: float
    failures: list[Run] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)


def _day(value: Any) -> str:
    return value.isoformat()[:10] if isinstance(value, dt.date) else str(value)[:10]


def _app_runs(include_cli: bool) -> Any:
    """The runs the App's figures count: `fixwurx fix` runs only when asked for."""
    return true() if include_cli else Run.kind != CLI_KIND


def overview(
    session: Session, now: dt.datetime, window_days: int = 30, include_cli: bool = False
) -> Overview:
    """The overview's figures over the App's runs (CLI runs too with `include_cli`)."""
    since = (now - dt.timedelta(days=window_days - 1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    week = (now - dt.timedelta(days=6)).replace(hour=0, minute=0, second=0, microsecond=0)
    days = {
        _day(since + dt.timedelta(days=i)): DayRow(_day(since + dt.timedelta(days=i)))
        for i in range(window_days)
    }
    day = func.date(Run.created_at)
    rows = session.execute(
        select(
            day.label("day"),
            func.count().label("runs"),
            func.sum(case((Run.status == "fixed", 1), else_=0)).label("fixed"),
            func.sum(case((Run.status.in_(REPAIR_FINAL), 1), else_=0)).label("finished"),
        )
        .where(Run.created_at >= since, _app_runs(include_cli))
        .group_by(day)
    )
    for row in rows:
        slot = days.get(_day(row.day))
        if slot is not None:
            slot.runs, slot.fixed, slot.finished = int(row.runs), int(row.fixed), int(row.finished)
    cost_day = func.date(LlmCall.created_at)
    for row in session.execute(
        select(cost_day.label("day"), func.sum(LlmCall.cost_usd).label("usd"))
        .where(LlmCall.created_at >= since)
        .group_by(cost_day)
    ):
        slot = days.get(_day(row.day))
        if slot is not None:
            slot.cost_usd = float(row.usd or 0.0)
    ordered = [days[k] for k in sorted(days)]
    recent = [d for d in ordered if d.day >= _day(week)]
    failures = list(
        session.scalars(
            select(Run)
            .where(Run.status.in_(("failed", "not_fixed")), _app_runs(include_cli))
            .order_by(Run.id.desc())
            .limit(FAILURES_SHOWN)
        )
    )
    return Overview(
        days=ordered,
        runs_7d=sum(d.runs for d in recent),
        runs_30d=sum(d.runs for d in ordered),
        fix_rate_7d=_rate(recent),
        fix_rate_30d=_rate(ordered),
        median_to_pr_s=median_to_pr(session, since),
        cost_30d_usd=sum(d.cost_usd for d in ordered),
        failures=failures,
        names=repository_names(session, {r.repository_id for r in failures}),
    )


def sweeper_actions(session: Session, since: dt.datetime) -> dict[str, int]:
    """What the sweeper did since `since`, by action, from its audit rows (every process's)."""
    prefix = f"{SWEEPER_ACTOR}."
    rows = session.execute(
        select(AuditLog.action, func.count())
        .where(AuditLog.at >= since, AuditLog.actor == SWEEPER_ACTOR)
        .group_by(AuditLog.action)
    )
    return {str(action).removeprefix(prefix): int(count) for action, count in rows}


def _rate(rows: Sequence[DayRow]) -> float | None:
    finished = sum(r.finished for r in rows)
    return sum(r.fixed for r in rows) / finished if finished else None


def median_to_pr(session: Session, since: dt.datetime) -> float | None:
    """Median seconds from a run's trigger to its pull request, for PRs opened since `since`."""
    pairs = session.execute(
        select(Run.created_at, PullRequest.created_at)
        .join(Run, Run.id == PullRequest.run_id)
        .where(PullRequest.created_at >= since, PullRequest.kind == "fix")
    ).all()
    spans = [(aware(opened) - aware(created)).total_seconds() for created, opened in pairs]
    return statistics.median(spans) if spans else None


def repository_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(Repository.id, Repository.full_name).where(Repository.id.in_(wanted))
    )
    return {int(i): str(name) for i, name in rows}


@dataclass(frozen=True)
class RunFilter:
    repository: str = ""
    status: str = ""
    kind: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    before: int | None = None  # keyset pagination: runs with a smaller id


def list_runs(session: Session, wanted: RunFilter) -> tuple[list[Run], dict[int, str], int | None]:
    """A page of runs, newest first; returns the runs, repository names, and the next cursor."""
    query: Select[Any] = select(Run)
    if wanted.repository:
        ids = select(Repository.id).where(Repository.full_name == wanted.repository)
        query = query.where(Run.repository_id.in_(ids))
    if wanted.status:
        query = query.where(Run.status == wanted.status)
    if wanted.kind:
        query = query.where(Run.kind == wanted.kind)
    if wanted.since:
        query = query.where(Run.created_at >= _start_of(wanted.since))
    if wanted.until:
        query = query.where(Run.created_at < _start_of(wanted.until + dt.timedelta(days=1)))
    if wanted.before:
        query = query.where(Run.id < wanted.before)
    page = list(session.scalars(query.order_by(Run.id.desc()).limit(PAGE_SIZE + 1)))
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    names = repository_names(session, {r.repository_id for r in page})
    return page, names, (page[-1].id if more and page else None)


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


@dataclass
class StageView:
    attempt: int
    stage: str
    status: str
    started_at: dt.datetime
    seconds: float | None


@dataclass
class RunDetail:
    run: Run
    repository: str | None
    stages: list[StageView]
    bundles: list[str]
    pulls: list[PullRequest]
    calls: list[LlmCall]
    tokens: int
    cost_usd: float
    #: What the repository's CI said about the commits this run pushed (or, for a `ci_result`
    #: run, about the commit it read back), oldest first.
    ci_results: list[CiResult] = field(default_factory=list)
    #: Rollback decisions about this run's merged fix, or made by this run.
    rollbacks: list[RollbackDecision] = field(default_factory=list)
    #: The chosen fix's diff and its before/after evidence (from the stored bundle).
    diff: str = ""
    evidence: list[EvidenceRow] = field(default_factory=list)
    regression: dict[str, Any] = field(default_factory=dict)
    #: Each rejected candidate with the verifier's reason.
    rejected: list[CandidateRecord] = field(default_factory=list)
    #: The stage running now, with its live progress (None when no stage is running).
    live_stage: LiveStage | None = None


@dataclass
class EvidenceRow:
    test: str
    before: str
    after: str


@dataclass
class LiveStage:
    stage: str
    seconds: float
    tried: int
    plausible: int
    budget_s: float | None
    last: str


def _live_stage(session: Session, run_id: int, now: dt.datetime) -> LiveStage | None:
    row = session.scalars(
        select(StageRun)
        .join(Attempt, StageRun.attempt_id == Attempt.id)
        .where(Attempt.run_id == run_id, StageRun.status == "running")
        .order_by(StageRun.id.desc())
    ).first()
    if row is None:
        return None
    result = row.result or {}
    return LiveStage(
        stage=row.stage,
        seconds=max((now - aware(row.started_at)).total_seconds(), 0.0),
        tried=int(result.get("tried") or 0),
        plausible=int(result.get("plausible") or 0),
        budget_s=result.get("budget_s"),
        last=str(result.get("last") or ""),
    )


def _evidence(body: dict[str, Any]) -> list[EvidenceRow]:
    evidence = body.get("evidence") or {}
    after = {row.get("test"): row.get("outcome") for row in evidence.get("after", [])}
    return [
        EvidenceRow(
            str(row.get("test")), str(row.get("outcome")), str(after.get(row.get("test"), "?"))
        )
        for row in evidence.get("before", [])
    ]


def _rejected(session: Session, run_id: int) -> list[CandidateRecord]:
    return list(
        session.scalars(
            select(CandidateRecord)
            .join(Attempt, CandidateRecord.attempt_id == Attempt.id)
            .where(Attempt.run_id == run_id, CandidateRecord.status == "rejected")
            .order_by(CandidateRecord.id)
        )
    )


def run_detail(session: Session, run_id: int) -> RunDetail | None:
    run = session.get(Run, run_id)
    if run is None:
        return None
    stages = [
        StageView(
            number,
            stage.stage,
            stage.status,
            stage.started_at,
            (aware(stage.finished_at) - aware(stage.started_at)).total_seconds()
            if stage.finished_at
            else None,
        )
        for number, stage in session.execute(
            select(Attempt.number, StageRun)
            .join(StageRun, StageRun.attempt_id == Attempt.id)
            .where(Attempt.run_id == run_id)
            .order_by(Attempt.number, StageRun.started_at, StageRun.id)
        )
    ]
    calls = list(
        session.scalars(select(LlmCall).where(LlmCall.run_id == run_id).order_by(LlmCall.id))
    )
    names = repository_names(session, {run.repository_id})
    pulls = list(session.scalars(select(PullRequest).where(PullRequest.run_id == run_id)))
    body = (
        session.scalars(
            select(PatchBundleRecord.body)
            .where(PatchBundleRecord.run_id == run_id)
            .order_by(PatchBundleRecord.id.desc())
        ).first()
        or {}
    )
    return RunDetail(
        run=run,
        repository=names.get(run.repository_id) if run.repository_id else None,
        stages=stages,
        bundles=list(
            session.scalars(
                select(PatchBundleRecord.hash).where(PatchBundleRecord.run_id == run_id)
            )
        ),
        pulls=pulls,
        calls=calls,
        tokens=sum(c.input_tokens + c.output_tokens for c in calls),
        cost_usd=sum(c.cost_usd for c in calls),
        ci_results=_ci_results(session, run),
        rollbacks=_rollbacks(session, run, [p.number for p in pulls]),
        diff=str(body.get("diff") or ""),
        evidence=_evidence(body),
        regression=dict((body.get("evidence") or {}).get("regression") or {}),
        rejected=_rejected(session, run_id),
        live_stage=_live_stage(session, run_id, dt.datetime.now(dt.UTC)),
    )


def _ci_results(session: Session, run: Run) -> list[CiResult]:
    watched = CiWatch.run_id == run.id
    if run.kind == "ci_result" and run.head_sha:
        watched = or_(
            watched,
            and_(CiWatch.repository_id == run.repository_id, CiWatch.head_sha == run.head_sha),
        )
    return list(
        session.scalars(
            select(CiResult)
            .join(CiWatch, CiResult.watch_id == CiWatch.id)
            .where(watched)
            .order_by(CiResult.id)
        )
    )


def _rollbacks(session: Session, run: Run, pull_numbers: list[int]) -> list[RollbackDecision]:
    mine = RollbackDecision.run_id == run.id
    if pull_numbers:
        mine = or_(
            mine,
            and_(
                RollbackDecision.repository_id == run.repository_id,
                RollbackDecision.pr_number.in_(pull_numbers),
            ),
        )
    return list(session.scalars(select(RollbackDecision).where(mine).order_by(RollbackDecision.id)))


@dataclass
class RepositoryRow:
    id: int
    full_name: str
    runs: int
    fixed: int
    finished: int
    spent_today_usd: float
    last_failure: str | None
    #: Why the repo config was rejected when a job last read it, and when (None: it was fine).
    config_error: str | None = None
    config_error_at: dt.datetime | None = None

    @property
    def fix_rate(self) -> float | None:
        return self.fixed / self.finished if self.finished else None


def repositories(session: Session, now: dt.datetime) -> list[RepositoryRow]:
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    counts = {
        int(row.repository_id): row
        for row in session.execute(
            select(
                Run.repository_id,
                func.count().label("runs"),
                func.sum(case((Run.status == "fixed", 1), else_=0)).label("fixed"),
                func.sum(case((Run.status.in_(REPAIR_FINAL), 1), else_=0)).label("finished"),
                func.max(case((Run.status == "failed", Run.id), else_=None)).label("last_failed"),
            )
            .where(Run.repository_id.is_not(None))
            .group_by(Run.repository_id)
        )
    }
    spend = {
        int(repo or 0): float(usd or 0.0)
        for repo, usd in session.execute(
            select(LlmCall.repository_id, func.sum(LlmCall.cost_usd))
            .where(LlmCall.created_at >= today, LlmCall.repository_id.is_not(None))
            .group_by(LlmCall.repository_id)
        )
    }
    failed_ids = [int(r.last_failed) for r in counts.values() if r.last_failed is not None]
    reasons: dict[int, str | None] = {}
    if failed_ids:
        reasons = {
            int(i): reason
            for i, reason in session.execute(
                select(Run.id, Run.reason).where(Run.id.in_(failed_ids))
            )
        }
    rows = []
    for repo in session.scalars(select(Repository).order_by(Repository.full_name)):
        count = counts.get(repo.id)
        rows.append(
            RepositoryRow(
                id=repo.id,
                full_name=repo.full_name,
                runs=int(count.runs) if count else 0,
                fixed=int(count.fixed or 0) if count else 0,
                finished=int(count.finished or 0) if count else 0,
                spent_today_usd=float(spend.get(repo.id) or 0.0),
                last_failure=reasons.get(int(count.last_failed))
                if count and count.last_failed is not None
                else None,
                config_error=repo.config_error,
                config_error_at=repo.config_error_at,
            )
        )
    return rows


def deliveries(session: Session, before: int | None = None) -> tuple[list[Delivery], int | None]:
    query = select(Delivery)
    if before:
        query = query.where(Delivery.id < before)
    page = list(session.scalars(query.order_by(Delivery.id.desc()).limit(PAGE_SIZE + 1)))
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    return page, (page[-1].id if more and page else None)


#: Entries of each capped stream the deliveries page shows.
UNRECORDED_SHOWN = 50
#: Redis timeouts for the page's reads: a stalled Redis must not hang the page.
REDIS_TIMEOUT_S = redisconn.WEB_TIMEOUT_S


@dataclass
class Unrecorded:
    """The deliveries answered without a row, newest first; None when Redis is unreadable."""

    noted: list[AnsweredDelivery] | None
    refused: list[AnsweredDelivery] | None


def unrecorded_deliveries(redis_url: str) -> Unrecorded:
    """The newest duplicates, ignored and unavailable answers, and the newest refusals."""
    from redis.exceptions import RedisError

    conn = redisconn.redis_client(redis_url, REDIS_TIMEOUT_S)
    try:
        return Unrecorded(
            answered.recent(conn, answered.ANSWERED_KEY, UNRECORDED_SHOWN),
            answered.recent(conn, answered.REFUSED_KEY, UNRECORDED_SHOWN),
        )
    except RedisError as exc:
        log.warning("dashboard: Redis unreadable for the delivery streams (%s)", exc)
        return Unrecorded(None, None)
    finally:
        conn.close()
