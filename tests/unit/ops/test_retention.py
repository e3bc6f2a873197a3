"""Retention on SQLite and PostgreSQL: old bookkeeping rows go, everything else stays."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner
from redis import Redis
from sqlalchemy import func, select

from app.config import Settings
from app.db import session_scope
from app.models import (
    Attempt,
    AuditLog,
    CandidateRecord,
    CiResult,
    CiWatch,
    Delivery,
    Installation,
    LlmCall,
    PatchBundleRecord,
    PullRequest,
    Repository,
    RollbackDecision,
    Run,
    StageRun,
)
from app.ops import retention
from app.ops.migrate import db as db_group

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
OLD = NOW - dt.timedelta(days=120)
RECENT = NOW - dt.timedelta(days=10)


def _seed(url: str) -> None:
    with session_scope(url) as s:
        s.add(Installation(id=1, account_login="acme"))
        s.add(Repository(id=10, installation_id=1, full_name="acme/widgets"))
        s.flush()
        old_run = Run(
            id=1, repository_id=10, kind="issue", trigger="issues.labeled", created_at=OLD
        )
        s.add(old_run)
        s.flush()
        attempt = Attempt(run_id=1, number=1, started_at=OLD)
        s.add(attempt)
        s.flush()
        s.add(CandidateRecord(attempt_id=attempt.id, source="template", created_at=OLD))
        s.add_all(
            [
                StageRun(attempt_id=attempt.id, stage="reproduce", started_at=OLD),
                StageRun(attempt_id=attempt.id, stage="verify", started_at=RECENT),
                Delivery(delivery_id="old", event="issues", received_at=OLD),
                Delivery(delivery_id="new", event="issues", received_at=RECENT),
                LlmCall(provider="openai", model="m", role="analysis", created_at=OLD),
                LlmCall(provider="openai", model="m", role="analysis", created_at=RECENT),
                AuditLog(actor="a", action="fix", at=OLD),
                AuditLog(actor="a", action="fix", at=RECENT),
                PatchBundleRecord(run_id=1, hash="merged-fix", created_at=OLD),
                PatchBundleRecord(run_id=1, hash="open-fix", created_at=OLD),
                PatchBundleRecord(run_id=1, hash="closed-fix", created_at=OLD),
                PatchBundleRecord(run_id=1, hash="recent", created_at=RECENT),
                PullRequest(
                    repository_id=10,
                    number=1,
                    branch="b1",
                    base_branch="main",
                    bundle_hash="merged-fix",
                    state="merged",
                    created_at=OLD,
                ),
                PullRequest(
                    repository_id=10,
                    number=2,
                    branch="b2",
                    base_branch="main",
                    bundle_hash="open-fix",
                    state="open",
                    created_at=OLD,
                ),
                PullRequest(
                    repository_id=10,
                    number=3,
                    branch="b3",
                    base_branch="main",
                    bundle_hash="closed-fix",
                    state="closed",
                    created_at=OLD,
                ),
            ]
        )


def _seed_growth(url: str) -> None:
    """The tables that grow with use: candidates, CI watches and results, rollback decisions."""
    with session_scope(url) as s:
        attempt = s.scalars(select(Attempt)).first()
        assert attempt is not None
        s.add_all(
            [
                CandidateRecord(
                    attempt_id=attempt.id, source="llm", diff="-a\n+b\n", created_at=OLD
                ),
                CandidateRecord(
                    attempt_id=attempt.id,
                    source="llm",
                    diff="-c\n+d\n",
                    status="chosen",
                    created_at=OLD,
                ),
                CandidateRecord(
                    attempt_id=attempt.id, source="llm", diff="-e\n+f\n", created_at=RECENT
                ),
            ]
        )
        for n, (bundle, state, when) in enumerate(
            [
                ("closed-fix", "failure", OLD),  # old, finished, bundle not kept: goes
                ("merged-fix", "success", OLD),  # its bundle is a merged fix's: stays
                ("closed-fix", "waiting", OLD),  # still waited on: stays
                ("recent", "success", RECENT),
            ]
        ):
            watch = CiWatch(
                repository_id=10,
                branch="b",
                head_sha=f"{n}" * 40,
                base_sha="0" * 40,
                bundle_hash=bundle,
                state=state,
                deadline=when,
                created_at=when,
            )
            s.add(watch)
            s.flush()
            s.add(
                CiResult(
                    watch_id=watch.id,
                    bundle_hash=bundle,
                    head_sha=watch.head_sha,
                    kind="smoke",
                    name="CI",
                    conclusion="success",
                    created_at=when,
                )
            )
        for n, (action, when) in enumerate(
            [
                ("none", OLD),  # goes
                ("pending", OLD),  # being acted on: stays
                ("revert_pr", NOW - dt.timedelta(days=20)),  # inside MIN_DECISION_DAYS: stays
            ]
        ):
            s.add(
                RollbackDecision(
                    repository_id=10,
                    pr_number=1,
                    merge_sha="m" * 40,
                    failing_sha=f"{n}" * 40,
                    verdict="not_blamed",
                    action=action,
                    reason="r",
                    evidence={},
                    created_at=when,
                )
            )


def test_every_growing_table_is_pruned_in_batches_and_the_kept_rows_stay(
    database_url: str,
) -> None:
    _seed(database_url)
    _seed_growth(database_url)
    report = retention.prune(database_url, dt.timedelta(days=15), now=NOW, batch=1)
    assert report.deleted["ci_results"] == 2  # the failure's and the waiting watch's
    assert report.deleted["ci_watches"] == 1  # the waiting one stays, results gone or not
    assert report.deleted["rollback_decisions"] == 1
    assert report.deleted["candidates"] == 1
    with session_scope(database_url) as s:
        watches = sorted((w.bundle_hash, w.state) for w in s.scalars(select(CiWatch)))
        assert watches == [
            ("closed-fix", "waiting"),
            ("merged-fix", "success"),
            ("recent", "success"),
        ]
        assert sorted(r.bundle_hash for r in s.scalars(select(CiResult))) == [
            "merged-fix",
            "recent",
        ]
        assert sorted(d.action for d in s.scalars(select(RollbackDecision))) == [
            "pending",
            "revert_pr",
        ]
        diffs = sorted((c.status, c.diff) for c in s.scalars(select(CandidateRecord)))
        assert ("chosen", "-c\n+d\n") in diffs and ("pending", "-e\n+f\n") in diffs
        assert ("pending", "-a\n+b\n") not in diffs
        assert len(diffs) == 4  # the rows and their lineage stay
    assert retention.prune(database_url, dt.timedelta(days=15), now=NOW, batch=1).total == 0


def _count(url: str, model: type) -> int:
    with session_scope(url) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_prune_deletes_old_bookkeeping_and_nothing_else(database_url: str) -> None:
    _seed(database_url)
    report = retention.prune(database_url, dt.timedelta(days=90), now=NOW)
    assert report.deleted == {
        "deliveries": 1,
        "llm_calls": 1,
        "stage_runs": 1,
        "audit_log": 1,
        "ci_results": 0,
        "ci_watches": 0,
        "rollback_decisions": 0,
        "patch_bundles": 1,
        "candidates": 0,
    }
    with session_scope(database_url) as s:
        assert s.scalars(select(Delivery.delivery_id)).all() == ["new"]
        assert s.scalars(select(StageRun.stage)).all() == ["verify"]
        assert sorted(s.scalars(select(PatchBundleRecord.hash))) == [
            "merged-fix",
            "open-fix",
            "recent",
        ]
    for model, rows in (
        (Run, 1),
        (Attempt, 1),
        (CandidateRecord, 1),
        (PullRequest, 3),
        (LlmCall, 1),
        (AuditLog, 1),
        (Repository, 1),
        (Installation, 1),
    ):
        assert _count(database_url, model) == rows, model
    again = retention.prune(database_url, dt.timedelta(days=90), now=NOW)
    assert again.total == 0


def test_the_command_parses_the_age_and_reports(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(database_url)
    monkeypatch.setenv("DATABASE_URL", database_url)
    bad = CliRunner().invoke(db_group, ["prune", "--older-than", "ninety"])
    assert bad.exit_code == 2 and "not an age like 90d" in bad.output
    assert _count(database_url, Delivery) == 2  # a bad argument deletes nothing
    # Relative to the real clock, 120 days old is older than 100 days; 10 days old is not.
    done = CliRunner().invoke(db_group, ["prune", "--older-than", "100d"])
    assert done.exit_code == 0, done.output
    assert "deliveries: 1 deleted" in done.output
    assert _count(database_url, Delivery) == 1


def test_parse_age() -> None:
    assert retention.parse_age("90d") == dt.timedelta(days=90)
    assert retention.parse_age("2w") == dt.timedelta(weeks=2)
    assert retention.parse_age("36h") == dt.timedelta(hours=36)
    for bad in ("0d", "90", "d", "-3d", "1y"):
        with pytest.raises(ValueError):
            retention.parse_age(bad)


def test_daily_prune_runs_once_a_day_and_can_be_off(database_url: str, redis_conn: Redis) -> None:
    _seed(database_url)
    settings = Settings().replace(database_url=database_url, retention_days=90)
    first = retention.prune_daily(settings, redis_conn)
    assert first is not None and first.deleted["deliveries"] == 1
    assert retention.prune_daily(settings, redis_conn) is None  # another worker's turn is over
    redis_conn.delete(retention.DAILY_LOCK_KEY)
    off = settings.replace(retention_days=0)
    assert retention.prune_daily(off, redis_conn) is None
    assert not redis_conn.exists(retention.DAILY_LOCK_KEY)


def test_the_worker_prunes_on_its_maintenance_tick(database_url: str, redis_conn: Redis) -> None:
    from workers.worker import build

    _seed(database_url)
    settings = Settings().replace(database_url=database_url, retention_days=90)
    worker = build(settings, redis_conn)
    worker.run_maintenance_tasks()
    with session_scope(database_url) as s:
        assert s.scalars(select(Delivery.delivery_id)).all() == ["new"]
    assert redis_conn.exists(retention.DAILY_LOCK_KEY)
