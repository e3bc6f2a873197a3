"""The web tier learns each repository's trigger label without a job per label event.

Signed deliveries -> web app -> Redis -> a real RQ worker -> the fake GitHub: installing the App
reads each repository's `.github/fixwurx.yml`, a push that changes it on the default branch reads
it again, and from then on a label that is not the trigger label adds no run at all.
"""

from __future__ import annotations

from typing import Any

from redis import Redis
from rq import Queue
from sqlalchemy import select

from app.config import Settings
from app.db import session_scope
from app.models import Repository, Run
from tests.fakes import webhooks
from tests.fakes.github import FakeGitHub, FakeRepo
from tests.fakes.github.deliver import labeled, repository, send
from tests.fakes.github.fixtures import fake_github
from tests.functional.test_github_flow import SECRET, settings, web, work
from workers import queues

__all__ = ["fake_github", "settings", "web"]


def installed(repo: FakeRepo) -> Any:
    """installation.created for the fake's installation, listing `repo`."""
    base = webhooks.example("installation", "created")
    payload = webhooks.merge(base, {"installation": {"id": repo.installation_id}})
    payload["repositories"] = [
        {**base["repositories"][0], "id": repo.id, "name": repo.name, "full_name": repo.full_name}
    ]
    webhooks.validate("installation", payload)
    return payload


def pushed(fake: FakeGitHub, repo: FakeRepo, sha: str, modified: list[str]) -> Any:
    """push to the default branch whose one commit modified `modified`."""
    commit = {
        "id": sha,
        "tree_id": sha,
        "distinct": True,
        "message": "Edit",
        "timestamp": "2026-12-01T13:00:00Z",
        "url": f"{fake.base_url}/{repo.full_name}/commit/{sha}",
        "author": {"name": "A", "email": "a@example.com", "username": "alice"},
        "committer": {"name": "A", "email": "a@example.com", "username": "alice"},
        "added": [],
        "removed": [],
        "modified": modified,
    }
    overrides = {
        "ref": f"refs/heads/{repo.default_branch}",
        "deleted": False,
        "created": False,
        "after": sha,
        "repository": repository(fake, repo),
        "installation": {"id": repo.installation_id},
    }
    payload = webhooks.merge(webhooks.example("push"), overrides)
    payload["repository"]["master_branch"] = repo.default_branch
    payload["commits"] = [commit]
    payload["head_commit"] = commit
    webhooks.validate("push", payload)
    return payload


def stored_label(settings: Settings, repo: FakeRepo) -> str | None:
    with session_scope(settings.database_url) as session:
        return session.get_one(Repository, repo.id).trigger_label


def runs_of(settings: Settings) -> list[tuple[str, str, str | None]]:
    with session_scope(settings.database_url) as session:
        return [
            (r.kind, r.trigger, r.status) for r in session.scalars(select(Run).order_by(Run.id))
        ]


def test_install_and_push_keep_the_trigger_label_known_so_other_labels_add_no_job(
    fake_github: FakeGitHub, settings: Settings, web: Any, redis_conn: Redis
) -> None:
    repo = fake_github.add_repo("octo/app", {".github/fixwurx.yml": "trigger_label: autofix\n"})
    number = fake_github.add_issue("octo/app", "bug")

    status, body = send(web, "installation", installed(repo), SECRET)
    assert status == 202, body
    assert Queue(queues.HIGH, connection=redis_conn).count == 1  # a quick read, not a repair
    work(redis_conn)
    assert stored_label(settings, repo) == "autofix"
    assert runs_of(settings) == [("config", "installation.created", "done")]

    status, _ = send(web, "issues", labeled(fake_github, repo, number, "bug"), SECRET)
    assert status == 204  # before: a job that read the config and dropped the label
    status, _ = send(web, "issues", labeled(fake_github, repo, number, "fixwurx"), SECRET)
    assert status == 202  # the default label skips the lookup; its job declines (re-check)
    assert len(runs_of(settings)) == 2

    fake_github.commit_files("octo/app", "main", {"README.md": "hi\n"}, "docs")
    other = pushed(fake_github, repo, "a" * 40, ["README.md"])
    assert send(web, "push", other, SECRET)[0] == 204
    sha = fake_github.commit_files(
        "octo/app", "main", {".github/fixwurx.yml": "trigger_label: fixme\n"}, "relabel"
    )
    assert (
        send(web, "push", pushed(fake_github, repo, sha, [".github/fixwurx.yml"]), SECRET)[0] == 202
    )
    work(redis_conn)
    assert stored_label(settings, repo) == "fixme"
    assert send(web, "issues", labeled(fake_github, repo, number, "autofix"), SECRET)[0] == 204
    assert send(web, "issues", labeled(fake_github, repo, number, "FixMe"), SECRET)[0] == 202
