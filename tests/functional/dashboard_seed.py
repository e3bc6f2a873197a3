"""Seeded data for the dashboard tests, and the numbers each page must then show.

Times are relative to now, with margins that keep every run on the same side of the 7- and
30-day windows whatever the time of day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

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

BUNDLE = "sha256:4f1c2b9e0d7a6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e3d"
#: What the overview shows for the seed.
EXPECTED = {
    "runs-7d": "4",
    "runs-30d": "5",
    "fix-rate-7d": "50.0%",
    "fix-rate-30d": "33.3%",
    "median-to-pr": "2.0 min",
    "cost-30d": "$0.17",
}
FIXED_RUN = 1
LIVE_RUN = 4


#: The config error stored on acme/gadgets (as a job that read a bad file leaves it).
#: Sweeper audit rows seeded within the overview's window (and one older, not counted).
SWEEPS = "resumed 2, failed 1, enqueued 1, CI timeouts 1"
#: The fix run's CI read-back and a rollback decision about its merged pull request.
CI_HEAD = "c" * 40
CI_CHECK = "CI / lint"
ROLLBACK_REASON = "the failing test already failed at the fix's base: not blamed"
CONFIG_ERROR = "`max_attempts` must be an integer (the file says lots)"


def seed(database_url: str) -> None:
    now = dt.datetime.now(dt.UTC)
    day = dt.timedelta(days=1)
    with session_scope(database_url) as s:
        s.add(Installation(id=77, account_login="acme"))
        s.add_all(
            [
                Repository(id=501, installation_id=77, full_name="acme/widgets"),
                Repository(
                    id=502,
                    installation_id=77,
                    full_name="acme/gadgets",
                    config_error=CONFIG_ERROR,
                    config_error_at=now - day,
                ),
            ]
        )
        s.flush()
        fixed_at = now - day
        s.add_all(
            [
                Run(
                    id=1,
                    repository_id=501,
                    kind="issue",
                    trigger="issues.labeled",
                    issue_number=12,
                    status="fixed",
                    created_at=fixed_at,
                    finished_at=fixed_at + dt.timedelta(seconds=300),
                    requested_by="alice",
                ),
                Run(
                    id=2,
                    repository_id=501,
                    kind="issue",
                    trigger="issues.labeled",
                    issue_number=13,
                    status="not_fixed",
                    reason="no candidate passed the failing test",
                    created_at=now - 2 * day,
                    finished_at=now - 2 * day,
                ),
                Run(
                    id=3,
                    repository_id=502,
                    kind="ci",
                    trigger="check_suite.completed",
                    status="failed",
                    reason="crashed: RuntimeError: the sandbox ran out of memory",
                    created_at=now - 10 * day,
                    finished_at=now - 10 * day,
                ),
                Run(
                    id=4,
                    repository_id=502,
                    kind="issue",
                    trigger="issues.labeled",
                    issue_number=3,
                    status="running",
                    stage="localize",
                    created_at=now - dt.timedelta(minutes=2),
                ),
                Run(
                    id=5,
                    repository_id=501,
                    kind="command",
                    trigger="issue_comment.created",
                    command="status",
                    status="done",
                    created_at=now - 3 * day,
                ),
                Run(
                    id=6,
                    repository_id=501,
                    kind="issue",
                    trigger="issues.labeled",
                    status="fixed",
                    created_at=now - 40 * day,
                    finished_at=now - 40 * day,
                ),
            ]
        )
        s.flush()
        attempt = Attempt(id=1, run_id=1, number=1, status="fixed", started_at=fixed_at)
        s.add(attempt)
        s.flush()
        for offset, (stage, seconds) in enumerate(
            (("reproduce", 5), ("localize", 3), ("patch", 12), ("verify", 20))
        ):
            start = fixed_at + dt.timedelta(seconds=10 * offset)
            s.add(
                StageRun(
                    attempt_id=1,
                    stage=stage,
                    status="done",
                    started_at=start,
                    finished_at=start + dt.timedelta(seconds=seconds),
                )
            )
        s.add(
            CandidateRecord(
                id=1,
                attempt_id=1,
                source="template:off_by_one",
                status="rejected",
                description="range(n) -> range(n + 1)",
                reason="2 tests still fail",
            )
        )
        s.flush()
        s.add(
            CandidateRecord(
                id=2,
                attempt_id=1,
                parent_id=1,
                source="llm:openai",
                status="chosen",
                description="guard the empty list",
                cost_usd=0.12,
                tokens=1200,
            )
        )
        s.add(PatchBundleRecord(run_id=1, hash=BUNDLE, created_at=fixed_at))
        s.add(
            PullRequest(
                repository_id=501,
                number=41,
                run_id=1,
                issue_number=12,
                branch="fixwurx/12",
                base_branch="main",
                bundle_hash=BUNDLE,
                state="open",
                created_at=fixed_at + dt.timedelta(seconds=120),
            )
        )
        s.add(
            CiWatch(
                id=1,
                repository_id=501,
                run_id=1,
                pr_number=41,
                issue_number=12,
                branch="fixwurx/12",
                head_sha=CI_HEAD,
                base_sha="b" * 40,
                bundle_hash=BUNDLE,
                state="success",
                deadline=fixed_at + dt.timedelta(hours=1),
            )
        )
        s.flush()
        s.add(
            CiResult(
                watch_id=1,
                bundle_hash=BUNDLE,
                head_sha=CI_HEAD,
                kind="smoke",
                name=CI_CHECK,
                conclusion="failure",
                blamed=False,
                failing=["tests/test_lint.py::test_style"],
            )
        )
        s.add(
            RollbackDecision(
                repository_id=501,
                pr_number=41,
                merge_sha="d" * 40,
                failing_sha="e" * 40,
                verdict="not_blamed",
                action="none",
                reason=ROLLBACK_REASON,
            )
        )
        s.add_all(
            [
                LlmCall(
                    run_id=1,
                    repository_id=501,
                    installation_id=77,
                    provider="openai",
                    model="gpt-5-mini",
                    role="patch",
                    input_tokens=1000,
                    output_tokens=200,
                    cost_usd=0.12,
                    latency_ms=900,
                    created_at=fixed_at,
                ),
                LlmCall(
                    run_id=2,
                    repository_id=501,
                    installation_id=77,
                    provider="anthropic",
                    model="claude-sonnet",
                    role="analysis",
                    input_tokens=400,
                    output_tokens=100,
                    cost_usd=0.05,
                    latency_ms=700,
                    created_at=now - 2 * day,
                ),
            ]
        )
        s.add_all(
            [
                Delivery(
                    delivery_id="dlv-aaa",
                    event="issues",
                    action="labeled",
                    outcome="queued",
                    job_ids=["run-1"],
                    received_at=fixed_at,
                ),
                Delivery(
                    delivery_id="dlv-bbb",
                    event="issues",
                    action="labeled",
                    outcome="ignored",
                    job_ids=[],
                    received_at=now - 2 * day,
                ),
            ]
        )
        s.add_all(
            [
                AuditLog(actor="sweeper", action=f"sweeper.{action}", run_id=run, at=at)
                for action, run, at in (
                    ("resumed", 4, now - day),
                    ("resumed", 4, now - 2 * day),
                    ("failed", 5, now - 2 * day),
                    ("enqueued", 3, now - 3 * day),
                    ("ci_timeouts", 3, now - 3 * day),
                    ("failed", 2, now - 20 * day),  # outside the 7-day window
                )
            ]
        )


#: Answers that leave no row, as the web tier notes them in Redis (`seed_answered`).
ANSWERED = (
    ("duplicate", 200, "dlv-aaa", "issues", "labeled", "redelivery of a delivery already recorded"),
    ("ignored", 204, "dlv-ccc", "star", "created", "star.created is not handled"),
    ("refused", 401, "dlv-forged", "issues", None, "missing or invalid X-Hub-Signature-256"),
)


def seed_answered(redis: Any) -> None:
    """Note `ANSWERED` in the capped streams the deliveries page reads."""
    from app.runs import answered

    for outcome, status, delivery, event, action, reason in ANSWERED:
        command = answered.xadd_command(
            outcome, status, delivery, event, action, reason, "10.0.0.9"
        )
        assert command is not None
        redis.execute_command(*command)
