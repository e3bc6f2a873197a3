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
    "runs-7d": "6",
    "runs-30d": "7",
    "fix-rate-7d": "75.0%",
    "fix-rate-30d": "60.0%",
    "median-to-pr": "2.0 min",
    "cost-30d": "$1.03",
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

#: The rollback figure (`seed_rollbacks`): fixes 50-55 were decided to revert (50 twice, the
#: second decision reused), 56-57 were reverted without one. Confirmed: 50 (revert merged), 53
#: (revert closed, but the fix was reverted on main anyway), 54 (shadow, reverted by a human);
#: closed unmerged: 51; open: 52 (revert PR open), 55 (shadow, nobody reverted). Precision
#: 3 / (3 + 1); counting every decision (3 / 6), or 53 as closed (2 / 4), would say 50%.
ROLLBACK_FIGURE = {
    "rollback-decided": "6",
    "rollback-confirmed": "3",
    "rollback-closed": "1",
    "rollback-open": "2",
    "rollback-precision": "75.0%",
    "rollback-misses": "2",
    "rollback-shadow": "2",
}
#: The rung figure (`seed_rungs`): resolved by templates (run 8), the model (run 1) and the
#: agent (run 7, whose earlier attempt had chosen a model fix). The model rung spent $0.21 (run
#: 1's $0.12, the unfixed run 2's $0.05, run 7's $0.04 before it escalated), the agent $0.80
#: (run 2's $0.30, run 7's $0.50); run 8's explanation ($0.02) is outside the search.
RUNG_FIGURE = {
    "rung-templates-resolved": "1",
    "rung-templates-cost": "$0.00",
    "rung-templates-per-resolved": "$0.00",
    "rung-model-resolved": "1",
    "rung-model-cost": "$0.21",
    "rung-model-per-resolved": "$0.21",
    "rung-agent-resolved": "1",
    "rung-agent-cost": "$0.80",
    "rung-agent-per-resolved": "$0.80",
    "rung-outside-cost": "$0.02",
    "rung-total-resolved": "3",
    "rung-total-cost": "$1.03",
    "rung-total-per-resolved": "$0.34",
}


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
                    rung="model",
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
                    rung="model",
                    input_tokens=400,
                    output_tokens=100,
                    cost_usd=0.05,
                    latency_ms=700,
                    created_at=now - 2 * day,
                ),
                LlmCall(  # run 2 escalated to the agent, which did not fix it either
                    run_id=2,
                    repository_id=501,
                    installation_id=77,
                    provider="anthropic",
                    model="claude-sonnet",
                    role="analysis",
                    rung="agent",
                    input_tokens=3000,
                    output_tokens=900,
                    cost_usd=0.30,
                    latency_ms=7000,
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
        seed_rollbacks(s, now)
        seed_rungs(s, now)


def seed_rollbacks(s: Any, now: dt.datetime) -> None:
    """Fix pull requests 50-57 of acme/widgets and the rollback decisions about them."""

    def fix(number: int, reverted: bool = False) -> PullRequest:
        return PullRequest(
            repository_id=501,
            number=number,
            branch=f"fixwurx/{number}",
            base_branch="main",
            state="merged",
            merge_sha=f"{number:02d}" * 20,
            merged_at=now - dt.timedelta(days=5),
            reverted_by_sha=("f" * 38 + f"{number:02d}") if reverted else None,
            reverted_at=now - dt.timedelta(days=4) if reverted else None,
        )

    s.add_all([fix(n, reverted=n in (53, 54, 56, 57)) for n in range(50, 58)])

    def decided(number: int, red: str, action: str, **extra: Any) -> RollbackDecision:
        return RollbackDecision(
            repository_id=501,
            pr_number=number,
            merge_sha=f"{number:02d}" * 20,
            failing_sha=red * 40,
            verdict=extra.pop("verdict", "blamed"),
            action=action,
            reason="seeded",
            created_at=now - dt.timedelta(days=4),
            **extra,
        )

    s.add_all(
        [
            decided(50, "0", "revert_pr", revert_pr_number=60, revert_outcome="merged"),
            decided(50, "1", "reused"),  # a later red commit, the same decision again
            decided(51, "2", "revert_pr", revert_pr_number=61, revert_outcome="closed"),
            decided(52, "3", "revert_pr", revert_pr_number=62),
            decided(53, "4", "revert_pr", revert_pr_number=63, revert_outcome="closed"),
            decided(54, "5", "shadow"),
            decided(55, "6", "shadow"),
            decided(56, "7", "none", verdict="not_blamed"),
        ]
    )


def seed_rungs(s: Any, now: dt.datetime) -> None:
    """Runs 7 (the agent's fix) and 8 (a template's) on acme/tools, 3 days ago."""
    old = now - dt.timedelta(days=3)
    s.add(Repository(id=503, installation_id=77, full_name="acme/tools"))
    s.flush()
    for run_id in (7, 8):
        s.add(
            Run(
                id=run_id,
                repository_id=503,
                kind="issue",
                trigger="issues.labeled",
                status="fixed",
                created_at=old,
                finished_at=old,
            )
        )
    s.flush()
    chosen = ((7, 1, "llm:openai/gpt-5-mini"), (7, 2, "agent:openai"), (8, 1, "template:none"))
    for key, (run_id, number, source) in enumerate(chosen, 11):  # ids past the explicit ones
        s.add(Attempt(id=key, run_id=run_id, number=number, status="fixed", started_at=old))
        s.flush()
        s.add(CandidateRecord(id=key, attempt_id=key, source=source, status="chosen"))
    s.flush()  # a later candidate of run 8 that was rejected says nothing about its rung
    s.add(CandidateRecord(id=14, attempt_id=13, source="llm:openai", status="rejected"))
    for run_id, rung, usd in ((7, "model", 0.04), (7, "agent", 0.50), (8, None, 0.02)):
        s.add(
            LlmCall(
                run_id=run_id,
                repository_id=503,
                installation_id=77,
                provider="openai",
                model="gpt-5-mini",
                role="analysis" if rung else "explanation",
                rung=rung,
                cost_usd=usd,
                created_at=old,
            )
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
