"""`/fixwurx revise` through the job and the real repair chain: the new fix lands on top of the
pull request's own patch instead of redoing the issue from the default branch."""

from __future__ import annotations

import pytest

from app import runs
from app.config import Settings
from app.db import session_scope
from app.models import PullRequest
from app.runs import verdict
from tests.fakes.github import FakeGitHub
from tests.fakes.github.fixtures import fake_github, github_settings
from tests.fakes.github.server import git
from tests.unit.flows.helpers import execute_run, make_run, run_row
from tests.unit.github.conftest import settings

__all__ = ["fake_github", "github_settings", "settings"]

pytestmark = pytest.mark.slow

BUGGY = """def is_adult(age):
    return age > 18


def is_senior(age):
    return age > 65
"""
PATCHED = BUGGY.replace("age > 18", "age >= 18")  # what the open pull request already fixed
TESTS = """from ages import is_adult, is_senior


def test_eighteen_is_adult():
    assert is_adult(18)


def test_sixty_five_is_senior():
    assert is_senior(65)
"""


def test_revise_commits_on_top_of_the_pull_requests_patch(
    settings: Settings, fake_github: FakeGitHub
) -> None:
    repo = fake_github.add_repo(
        "octo/app",
        {"ages.py": BUGGY, "tests/test_ages.py": TESTS, ".github/fixwurx.yml": "max_attempts: 5\n"},
        collaborators={"alice": "write"},
    )
    issue = fake_github.add_issue("octo/app", "18-year-olds are not adults")
    fixed = make_run(settings, repo, kind="issue", issue_number=issue)
    runs.record_verdict(settings.database_url, fixed, verdict.fixed("pull request"))
    branch = f"fixwurx/issue-{issue}"
    patch = fake_github.commit_files("octo/app", branch, {"ages.py": PATCHED}, f"Fix #{issue}")
    created = fake_github.repos["octo/app"]
    number = fake_github.open_pull(created, f"Fix #{issue}", "", branch, "main", True)["number"]
    with session_scope(settings.database_url) as session:
        session.add(
            PullRequest(
                repository_id=repo.id,
                number=number,
                run_id=fixed,
                issue_number=issue,
                branch=branch,
                base_branch="main",
            )
        )
    run_id = make_run(
        settings,
        repo,
        kind="command",
        command="revise",
        command_args="65 is senior too",
        pr_number=number,
        requested_by="alice",
    )
    execute_run(settings, run_id)
    assert run_row(settings, run_id).status == "fixed", run_row(settings, run_id).reason
    text = fake_github.show("octo/app", branch, "ages.py") or ""
    assert "return age >= 18" in text  # the pull request's patch is kept...
    assert "return age > 65" not in text  # ...and the revision fixed the second bug on top
    parent = git(["rev-parse", f"refs/heads/{branch}^"], created.bare).strip()
    assert parent == patch  # on top of the pull request's commit, not a rewrite from main
    assert len(fake_github.open_pulls("octo/app")) == 1
