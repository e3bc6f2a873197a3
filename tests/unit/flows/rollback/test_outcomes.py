"""What became of a rollback decision: the revert pull request merged or closed unmerged, and a
merged fix reverted on the default branch by a pushed "This reverts commit <merge>" commit.

The runs go through the flow (`pr_closed`, `merge`, `reverted`), as the worker runs them."""

from __future__ import annotations

from sqlalchemy import select

from app.config import Settings
from app.db import session_scope
from app.flows import records
from app.flows.job import build_job
from app.flows.rollback import outcomes
from app.models import PullRequest, RollbackDecision
from tests.fakes.github import FakeGitHub, FakeRepo
from tests.unit.flows.helpers import execute_run, make_run
from tests.unit.flows.rollback.test_resume import merged_fix

REVERTING = "ab" * 20


def revert_decided(settings: Settings, fake: FakeGitHub, repo: FakeRepo) -> tuple[int, int]:
    """A merged fix, FixWurx's open revert pull request of it, and the decision behind it."""
    _, number, merge = merged_fix(settings, fake, repo)
    fake.commit_files("octo/app", "fixwurx/revert-1", {"a.py": "x = 1\n"}, "Revert")
    job = build_job(settings, make_run(settings, repo, kind="ci", branch="main", head_sha=merge))
    pull = job.repo.create_pull(f"Revert #{number}", "", "fixwurx/revert-1", "main", False)
    records.record_pull(
        settings.database_url, job.run, pull.number, "fixwurx/revert-1", "main", None, "revert"
    )
    with session_scope(settings.database_url) as session:
        session.add(
            RollbackDecision(
                repository_id=repo.id,
                pr_number=number,
                merge_sha=merge,
                failing_sha=merge,
                verdict="blamed",
                action="revert_pr",
                reason="broke it",
                evidence={},
                revert_pr_number=pull.number,
            )
        )
    return number, pull.number


def outcome(settings: Settings) -> str | None:
    with session_scope(settings.database_url) as session:
        return session.scalars(select(RollbackDecision.revert_outcome)).one()


def pull_row(settings: Settings, number: int) -> PullRequest:
    with session_scope(settings.database_url) as session:
        return session.scalars(select(PullRequest).where(PullRequest.number == number)).one()


def test_a_revert_closed_unmerged_rejects_the_decision_and_a_later_merge_confirms_it(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    _, revert = revert_decided(settings, fake_github, repo)
    assert outcome(settings) is None  # open
    closed = execute_run(settings, make_run(settings, repo, kind="pr_closed", pr_number=revert))
    assert f"revert #{revert} closed unmerged" in closed.reason
    assert outcome(settings) == "closed"
    assert pull_row(settings, revert).state == "closed"
    # Reopened and merged after all: the merge wins.
    merged = make_run(settings, repo, kind="merge", pr_number=revert, head_sha="cd" * 20)
    execute_run(settings, merged)
    assert outcome(settings) == "merged"
    # A late (redelivered) close never undoes the merge.
    execute_run(settings, make_run(settings, repo, kind="pr_closed", pr_number=revert))
    assert outcome(settings) == "merged"


def test_closing_a_pull_request_that_reverts_nothing_records_no_outcome(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    number, _ = revert_decided(settings, fake_github, repo)
    said = execute_run(settings, make_run(settings, repo, kind="pr_closed", pr_number=number))
    assert "no rollback decision" in said.reason and outcome(settings) is None


def test_a_pushed_revert_of_a_merged_fix_marks_the_fix_once(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    _, number, merge = merged_fix(settings, fake_github, repo)
    other = "9" * 40
    pairs = f"{other}:{'1' * 40} junk {merge}:{REVERTING} {merge[:12]}:{'2' * 40}"
    said = execute_run(settings, make_run(settings, repo, kind="reverted", command_args=pairs))
    assert said.reason == f"reverted on the default branch: #{number}"
    row = pull_row(settings, number)
    assert row.reverted_by_sha == REVERTING and row.reverted_at is not None
    again = f"{merge}:{'3' * 40}"  # another revert of the same merge (after a re-land): kept
    execute_run(settings, make_run(settings, repo, kind="reverted", command_args=again))
    assert pull_row(settings, number).reverted_by_sha == REVERTING
    nothing = execute_run(
        settings, make_run(settings, repo, kind="reverted", command_args=f"{other}:{REVERTING}")
    )
    assert nothing.reason == "the reverted commits are no FixWurx fix"


def test_a_revert_pull_request_reverted_in_turn_is_no_fix_revert(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    """Reverting FixWurx's merged revert re-lands the fix: no fix was reverted by that."""
    _, revert = revert_decided(settings, fake_github, repo)
    records.mark_merged(settings.database_url, repo.id, revert, "ef" * 20)
    assert outcomes.fixes_reverted(settings.database_url, repo.id, [("ef" * 20, REVERTING)]) == []


def test_pairs_are_read_strictly() -> None:
    a, b = "a" * 40, "b" * 40
    assert outcomes.parse_pairs(f"{a}:{b} {a[:39]}:{b} x:y") == [(a, b)]
    assert outcomes.parse_pairs(None) == []
