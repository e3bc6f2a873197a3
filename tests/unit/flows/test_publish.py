"""Publishing a bundle: checked twice, committed by the bot, pushed, or commented when refused.
Also `explain` and `revert`, which work from what earlier runs recorded."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from sqlalchemy import select

from app import runs
from app.config import Settings
from app.db import session_scope
from app.errors import BundleMismatch
from app.flows import fixing, records, render
from app.flows.ci.start import Lineage
from app.flows.job import build_job
from app.github import git
from app.models import AuditLog, PatchBundleRecord, PullRequest, Run
from app.patches import PatchBundle
from tests.fakes.github import FakeGitHub, FakeRepo
from tests.fakes.github.server import git as fake_git
from tests.unit.flows.helpers import bodies, execute_run, make_run, run_row

DIFF = """--- a/a.py
+++ b/a.py
@@ -1 +1 @@
-x = 1
+x = 2
"""


def bundle(base: str, diff: str = DIFF) -> PatchBundle:
    return PatchBundle(
        base_commit=base,
        diff=diff,
        files=("a.py",),
        evidence={"before": [{"test": "t::x", "outcome": "failed"}], "after": []},
        localization=[{"path": "a.py", "line": 1, "score": 1.0, "why": "x"}],
        source="templates",
        summary="x = 2",
    )


def publish(settings: Settings, run_id: int, made: PatchBundle) -> None:
    """Publish `made`, then record the verdict as the job function would."""
    job = build_job(settings, run_id)
    with tempfile.TemporaryDirectory() as tmp:
        checkout = git.clone(job.repo.clone_url, job.token(), Path(tmp) / "repo")
        base = git.head(checkout)
        target = fixing.Target("fixwurx/ci-abc", "main", "Fix CI", None, Lineage())
        ended = fixing._publish(job, checkout, base, made, target)
    runs.record_verdict(settings.database_url, run_id, ended)


def test_refused_push_posts_the_bundle_on_the_pull_request(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    number = fake_github.add_issue("octo/app", "a pull request's conversation")
    fake_github.repos["octo/app"].protected.add("fixwurx/ci-abc")
    run_id = make_run(settings, repo, kind="ci", pr_number=number, branch="main", head_sha="a" * 40)
    made = bundle(fake_github.branch_sha("octo/app", "main") or "")
    publish(settings, run_id, made)
    reply = [b for b in bodies(fake_github, number) if "```diff" in b]
    assert len(reply) == 1 and made.hash in reply[0] and "+x = 2" in reply[0]
    assert fake_github.open_pulls("octo/app") == []
    assert run_row(settings, run_id).status == "fixed"


def test_pushed_commit_is_the_bundle_by_the_bot(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    run_id = make_run(settings, repo, kind="ci", branch="main", head_sha="a" * 40)
    publish(settings, run_id, bundle(fake_github.branch_sha("octo/app", "main") or ""))
    assert fake_github.show("octo/app", "fixwurx/ci-abc", "a.py") == "x = 2\n"
    author = fake_git(["log", "-1", "--format=%an|%cn", "fixwurx/ci-abc"], repo.bare).strip()
    assert author == "fixwurx[bot]|fixwurx[bot]"
    [pull] = fake_github.open_pulls("octo/app")
    assert pull["base"] == "main" and "Fixes #" not in pull["body"]


def test_tampered_bundle_is_never_pushed(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    run_id = make_run(settings, repo, kind="ci", branch="main", head_sha="a" * 40)
    made = bundle(fake_github.branch_sha("octo/app", "main") or "").to_json()
    made["diff"] = DIFF.replace("x = 2", "x = 3")  # content no longer matches the hash
    job = build_job(settings, run_id)
    with tempfile.TemporaryDirectory() as tmp:
        checkout = git.clone(job.repo.clone_url, job.token(), Path(tmp) / "repo")
        with pytest.raises(BundleMismatch, match="hash differs"):
            fixing._commit_bundle(job, checkout, git.head(checkout), made, "t")
    assert fake_github.branch_sha("octo/app", "fixwurx/ci-abc") is None


def test_explain_describes_the_last_fix(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    number = fake_github.add_issue("octo/app", "bug")
    fixed = make_run(settings, repo, kind="issue", issue_number=number, status="fixed")
    made = bundle("b" * 40)
    with session_scope(settings.database_url) as session:
        session.add(PatchBundleRecord(run_id=fixed, hash=made.hash, body=made.to_json()))
    run_id = make_run(
        settings, repo, kind="command", command="explain", issue_number=number, requested_by="alice"
    )
    execute_run(settings, run_id)
    [reply] = bodies(fake_github, number)
    assert "Root cause: `a.py:1`: x" in reply and made.hash in reply


def merged_fix(settings: Settings, fake: FakeGitHub, repo: FakeRepo, issue: int) -> int:
    """FixWurx's pull request for `issue`, merged by a person, as the merge job records it."""
    branch = f"fixwurx/issue-{issue}"
    fake.commit_files("octo/app", branch, {"a.py": "x = 2\n"}, f"Fix #{issue}")
    run_id = make_run(settings, repo, kind="issue", issue_number=issue, status="fixed")
    job = build_job(settings, run_id)
    pull = job.repo.create_pull(f"Fix #{issue}: bug", f"Fixes #{issue}", branch, "main", True)
    records.record_pull(settings.database_url, job.run, pull.number, branch, "main", "h", "fix")
    merge = fake.merge_pull("octo/app", pull.number, by="alice")
    assert records.mark_merged(settings.database_url, repo.id, pull.number, merge)
    return pull.number


@pytest.mark.parametrize("thread", ["issue", "pull request"])
def test_revert_opens_a_pull_request_undoing_the_merged_fix(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo, thread: str
) -> None:
    """On the issue's thread and on the merged pull request's own thread (which used to answer
    "nothing to revert"), through the same path as an automatic rollback."""
    number = fake_github.add_issue("octo/app", "bug")
    fix = merged_fix(settings, fake_github, repo, number)
    where = {"issue_number": number} if thread == "issue" else {"pr_number": fix}
    run_id = make_run(
        settings, repo, kind="command", command="revert", requested_by="alice", **where
    )
    execute_run(settings, run_id)
    [pull] = fake_github.open_pulls("octo/app")
    assert pull["title"] == f"Revert #{fix}: Fix #{number}: bug" and pull["base"] == "main"
    assert fake_github.show("octo/app", pull["head"], "a.py") == "x = 1\n"
    assert f"Reverts #{fix}" in pull["body"] and "as @alice asked" in pull["body"]
    replies = bodies(fake_github, number if thread == "issue" else fix)
    assert any(f"Opened #{pull['number']} to revert #{fix}." in r for r in replies), replies
    assert fake_github.repos["octo/app"].issues[number]["state"] == "open"
    with session_scope(settings.database_url) as session:
        assert session.get(Run, run_id).reason == f"revert pull request #{pull['number']}"  # type: ignore[union-attr]
        [audit] = session.scalars(select(AuditLog).where(AuditLog.action == "rollback")).all()
        assert audit.detail["fix"] == fix and audit.actor == "alice"

    # The same command again finds the open revert instead of opening a second one.
    again = make_run(
        settings, repo, kind="command", command="revert", requested_by="alice", **where
    )
    execute_run(settings, again)
    assert len(fake_github.open_pulls("octo/app")) == 1


def test_revert_of_a_revert_is_refused(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    number = fake_github.add_issue("octo/app", "bug")
    fix = merged_fix(settings, fake_github, repo, number)
    with session_scope(settings.database_url) as session:
        row = session.scalars(select(PullRequest).where(PullRequest.number == fix)).one()
        row.kind = "revert"
    run_id = make_run(
        settings, repo, kind="command", command="revert", requested_by="alice", pr_number=fix
    )
    execute_run(settings, run_id)
    assert fake_github.open_pulls("octo/app") == []
    assert any("never reverts a revert" in b for b in bodies(fake_github, fix))


def test_republishing_updates_the_branch_and_the_bundle_named_in_the_pr(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    base = fake_github.branch_sha("octo/app", "main") or ""
    first = make_run(settings, repo, kind="ci", branch="main", head_sha="a" * 40)
    publish(settings, first, bundle(base))
    second = make_run(settings, repo, kind="ci", branch="main", head_sha="a" * 40)
    newer = bundle(base, DIFF.replace("x = 2", "x = 3"))
    publish(settings, second, newer)
    [pull] = fake_github.open_pulls("octo/app")
    assert render.bundle_hash_in(pull["body"]) == newer.hash
    assert fake_github.show("octo/app", "fixwurx/ci-abc", "a.py") == "x = 3\n"


def test_a_pull_opened_concurrently_by_another_worker_is_reused(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    base = fake_github.branch_sha("octo/app", "main") or ""
    first = make_run(settings, repo, kind="ci", branch="main", head_sha="a" * 40)
    publish(settings, first, bundle(base))
    # The second worker's look finds nothing (the first had not opened it yet)...
    fake_github.inject("GET", r"/repos/octo/app/pulls", 200, body=[])
    second = make_run(settings, repo, kind="ci", branch="main", head_sha="a" * 40)
    publish(settings, second, bundle(base))
    # ...its create is refused with 422, and it adopts the PR that exists.
    assert len(fake_github.open_pulls("octo/app")) == 1
    assert run_row(settings, second).status == "fixed"
