"""End to end: what became of a rollback decision reaches the dashboard's precision figure.

Signed webhooks -> web app -> Redis -> RQ worker -> the database, against the fake GitHub (see
tests/functional/test_rollback.py): FixWurx's revert pull request closed unmerged by a human,
or merged; and in shadow mode, a human's own `git revert` of the fix pushed to the default
branch (the `push` delivery the fake does not send by itself is built from the real example).
"""

from __future__ import annotations

import datetime as dt
import subprocess
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import select

from app.config import Settings
from app.dashboard import figures
from app.db import session_scope
from app.models import PullRequest, RollbackDecision
from tests.fakes import webhooks
from tests.fakes.github import FakeGitHub
from tests.fakes.github.deliver import repository, send
from tests.fakes.github.fixtures import fake_github
from tests.functional.test_github_flow import SECRET, runs_of, settings, web, work
from tests.functional.test_rollback import CODE, blame_once, make_repo, merge_harmless_fix, settle

__all__ = ["fake_github", "settings", "web"]

pytestmark = pytest.mark.slow


def outcomes(settings: Settings) -> list[tuple[str, str, str | None]]:
    with session_scope(settings.database_url) as session:
        rows = session.scalars(select(RollbackDecision).order_by(RollbackDecision.id)).all()
        return [(r.verdict, r.action, r.revert_outcome) for r in rows]


def figure(settings: Settings) -> figures.RollbackFigure:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    with session_scope(settings.database_url) as session:
        return figures.rollback_figure(session, since)


def closed_unmerged(fake: FakeGitHub, number: int, by: str) -> dict[str, Any]:
    """pull_request.closed, unmerged, for FixWurx's pull `number`, closed by `by`."""
    repo = fake.repos["octo/ages"]
    pull = repo.pulls[number]
    pull["state"] = "closed"
    return webhooks.example(
        "pull_request",
        "closed",
        number=number,
        pull_request={
            "number": number,
            "title": pull["title"],
            "merged": False,
            "merge_commit_sha": None,
            "head": {"ref": pull["head"]},
            "base": {"ref": pull["base"]},
            "user": {"login": fake.bot, "type": "Bot"},
        },
        repository=repository(fake, repo),
        installation={"id": repo.installation_id},
        sender={"login": by, "type": "User"},
    )


def message_of(fake: FakeGitHub, sha: str) -> str:
    bare = fake.repos["octo/ages"].bare
    return subprocess.run(
        ["git", "log", "-1", "--format=%B", sha], cwd=bare, capture_output=True, text=True
    ).stdout


def pushed(fake: FakeGitHub, before: str, shas: list[str], by: str) -> dict[str, Any]:
    """push to the default branch of the commits `shas`, with their real messages."""
    repo = fake.repos["octo/ages"]
    url = f"{fake.base_url}/{repo.full_name}/commit/"
    person = {"name": by, "email": f"{by}@example.com", "username": by}
    commits = [
        {
            "id": sha,
            "tree_id": sha,
            "distinct": True,
            "message": message_of(fake, sha),
            "timestamp": "2026-12-06T12:00:00Z",
            "url": url + sha,
            "author": person,
            "committer": person,
            "added": [],
            "removed": [],
            "modified": ["ages.py"],
        }
        for sha in shas
    ]
    return webhooks.example(
        "push",
        ref=f"refs/heads/{repo.default_branch}",
        before=before,
        after=shas[-1],
        deleted=False,
        created=False,
        commits=commits,
        head_commit=commits[-1],
        repository=repository(fake, repo),
        installation={"id": repo.installation_id},
        sender={"login": by, "type": "User"},
    )


def human_revert(fake: FakeGitHub, web: Any, redis: Redis, merge: str) -> str:
    """Bob reverts merge `merge` on main as `git revert -m 1` would word it, and GitHub tells
    FixWurx about the push."""
    before = fake.branch_sha("octo/ages", "main")
    assert before is not None
    parent = subprocess.run(
        ["git", "rev-parse", f"{merge}^1"],
        cwd=fake.repos["octo/ages"].bare,
        capture_output=True,
        text=True,
    ).stdout.strip()
    message = (
        f'Revert "Merge the fix"\n\nThis reverts commit {merge}, reversing\n'
        f"changes made to {parent}.\n"
    )
    [sha] = fake.push_commits("octo/ages", "main", [({"ages.py": CODE}, message)], pusher="bob")
    status, _ = send(web, "push", pushed(fake, before, [sha], "bob"), SECRET)
    assert status == 202, status
    settle(fake, web, redis)
    work(redis)
    return sha


def fix_row(settings: Settings, number: int) -> PullRequest:
    with session_scope(settings.database_url) as session:
        return session.scalars(select(PullRequest).where(PullRequest.number == number)).one()


def test_a_revert_pull_request_closed_unmerged_is_a_rejected_decision(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    make_repo(fake_github)
    blame_once(fake_github, settings, web, redis_conn)
    [revert] = fake_github.open_pulls("octo/ages")
    assert outcomes(settings) == [("blamed", "revert_pr", None)], runs_of(settings)
    assert figure(settings).open == 1
    status, _ = send(
        web, "pull_request", closed_unmerged(fake_github, revert["number"], "alice"), SECRET
    )
    assert status == 202, status
    work(redis_conn)
    assert outcomes(settings) == [("blamed", "revert_pr", "closed")], runs_of(settings)
    assert fix_row(settings, revert["number"]).state == "closed"
    seen = figure(settings)
    assert (seen.decided, seen.confirmed, seen.closed_unmerged, seen.open) == (1, 0, 1, 0)
    assert seen.precision == 0.0


def test_a_merged_revert_pull_request_confirms_the_decision(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    make_repo(fake_github)
    blame_once(fake_github, settings, web, redis_conn)
    [revert] = fake_github.open_pulls("octo/ages")
    fake_github.merge_pull("octo/ages", revert["number"], by="alice")
    settle(fake_github, web, redis_conn)
    assert outcomes(settings) == [("blamed", "revert_pr", "merged")], runs_of(settings)
    seen = figure(settings)
    assert (seen.decided, seen.confirmed, seen.closed_unmerged, seen.precision) == (1, 1, 0, 1.0)


def test_in_shadow_mode_a_humans_revert_confirms_the_decision(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    make_repo(fake_github, config="rollback: shadow\n")
    number = blame_once(fake_github, settings, web, redis_conn)
    assert outcomes(settings) == [("blamed", "shadow", None)], runs_of(settings)
    merge = fix_row(settings, number).merge_sha
    assert merge is not None
    sha = human_revert(fake_github, web, redis_conn, merge)
    row = fix_row(settings, number)
    assert row.reverted_by_sha == sha, runs_of(settings)
    seen = figure(settings)
    assert (seen.decided, seen.shadow, seen.confirmed, seen.misses) == (1, 1, 1, 0)
    assert seen.precision == 1.0


def test_a_humans_revert_of_a_fix_fixwurx_kept_is_a_miss(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    make_repo(fake_github)
    number = merge_harmless_fix(fake_github, settings, web, redis_conn)
    merge = fix_row(settings, number).merge_sha
    assert merge is not None and outcomes(settings) == []
    sha = human_revert(fake_github, web, redis_conn, merge)
    assert fix_row(settings, number).reverted_by_sha == sha, runs_of(settings)
    seen = figure(settings)
    assert (seen.decided, seen.misses, seen.precision) == (0, 1, None)
