"""Idempotency across redeliveries and restarts: the decision is persisted before any GitHub
call, so a later run finishes a dead run's pending decision, leaves a live run's alone, and
never acts twice on a finished one."""

from __future__ import annotations

from sqlalchemy import select

from app.config import Settings
from app.db import session_scope
from app.flows import records
from app.flows.job import build_job
from app.models import AuditLog, RollbackDecision
from tests.fakes.github import FakeGitHub, FakeRepo
from tests.unit.flows.helpers import execute_run, make_run, run_row

EVIDENCE = {"blamed": True, "reason": "broke it", "failing_tests": ["t::x"], "seconds": 1.0}


def merged_fix(settings: Settings, fake: FakeGitHub, repo: FakeRepo) -> tuple[int, int, str]:
    issue = fake.add_issue("octo/app", "bug")
    branch = f"fixwurx/issue-{issue}"
    fake.commit_files("octo/app", branch, {"a.py": "x = 2\n"}, f"Fix #{issue}")
    job = build_job(settings, make_run(settings, repo, kind="issue", issue_number=issue))
    pull = job.repo.create_pull(f"Fix #{issue}: bug", f"Fixes #{issue}", branch, "main", False)
    records.record_pull(settings.database_url, job.run, pull.number, branch, "main", "h", "fix")
    merge = fake.merge_pull("octo/app", pull.number, by="alice")
    records.mark_merged(settings.database_url, repo.id, pull.number, merge)
    return issue, pull.number, merge


def pending(settings: Settings, repo: FakeRepo, number: int, merge: str, owner: int) -> None:
    with session_scope(settings.database_url) as session:
        session.add(
            RollbackDecision(
                repository_id=repo.id,
                pr_number=number,
                merge_sha=merge,
                failing_sha=merge,
                run_id=owner,
                verdict="blamed",
                action="pending",
                reason="broke it",
                evidence={**EVIDENCE, "merge_sha": merge, "red_sha": merge},
            )
        )


def ci_run(settings: Settings, repo: FakeRepo, merge: str) -> int:
    return make_run(settings, repo, kind="ci", branch="main", head_sha=merge)


def actions(settings: Settings) -> list[tuple[str, int | None]]:
    with session_scope(settings.database_url) as session:
        rows = session.scalars(select(RollbackDecision)).all()
        return [(r.action, r.revert_pr_number) for r in rows]


def test_a_dead_runs_pending_decision_is_finished_once(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    issue, number, merge = merged_fix(settings, fake_github, repo)
    dead = make_run(settings, repo, kind="ci", branch="main", head_sha=merge, status="failed")
    pending(settings, repo, number, merge, dead)
    first = ci_run(settings, repo, merge)
    execute_run(settings, first)
    [revert] = fake_github.open_pulls("octo/app")
    assert actions(settings) == [("revert_pr", revert["number"])]
    assert "rolled back" in (run_row(settings, first).reason or "")
    assert fake_github.repos["octo/app"].issues[issue]["state"] == "open"

    again = ci_run(settings, repo, merge)  # the failure delivered once more
    execute_run(settings, again)
    assert len(fake_github.open_pulls("octo/app")) == 1
    assert "already decided" in (run_row(settings, again).reason or "")
    with session_scope(settings.database_url) as session:
        audits = session.scalars(select(AuditLog).where(AuditLog.action == "rollback")).all()
        assert len(audits) == 1


def test_a_live_runs_pending_decision_is_left_to_it(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    _issue, number, merge = merged_fix(settings, fake_github, repo)
    live = make_run(settings, repo, kind="ci", branch="main", head_sha=merge, status="running")
    pending(settings, repo, number, merge, live)
    other = ci_run(settings, repo, merge)
    execute_run(settings, other)
    assert fake_github.open_pulls("octo/app") == []
    assert actions(settings) == [("pending", None)]
    assert f"run {live} is acting" in (run_row(settings, other).reason or "")


def test_auto_mode_enables_auto_merge_on_the_revert_and_merges_nothing(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    fake_github.commit_files("octo/app", "main", {".github/fixwurx.yml": "rollback: auto\n"}, "c")
    _issue, number, merge = merged_fix(settings, fake_github, repo)
    dead = make_run(settings, repo, kind="ci", branch="main", head_sha=merge, status="failed")
    pending(settings, repo, number, merge, dead)
    execute_run(settings, ci_run(settings, repo, merge))
    [revert] = fake_github.open_pulls("octo/app")
    assert revert["auto_merge"]["mergeMethod"] == "MERGE"
    assert revert["state"] == "open" and not revert["merged"]
