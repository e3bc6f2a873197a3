"""The PyGithub wrapper against the fake: Enterprise base URL, rate limits, error mapping."""

from __future__ import annotations

import time

import pytest

from app.errors import GitHubError
from app.github.client import GitHubClient, RepoClient
from tests.fakes.github import FakeGitHub


@pytest.fixture
def repo(fake_github: FakeGitHub) -> RepoClient:
    fake_github.add_repo("octo/app", {"README.md": "hi\n", ".github/fixwurx.yml": "draft: false\n"})
    token = "ghs_" + "t" * 36
    fake_github.tokens[token] = (424242, time.time() + 3600)
    # The fake serves the API under /api/v3, as GitHub Enterprise Server does.
    return GitHubClient(fake_github.api_url, token).repo("octo/app")


def test_reads_repo_metadata_and_files(repo: RepoClient, fake_github: FakeGitHub) -> None:
    assert repo.default_branch == "main"
    assert repo.clone_url == f"{fake_github.base_url}/octo/app.git"
    found = repo.file_text(".github/fixwurx.yml", "main")
    assert found is not None and found[0] == "draft: false\n"
    assert repo.file_text("missing.yml", "main") is None


def test_comments_are_created_edited_and_listed(repo: RepoClient, fake_github: FakeGitHub) -> None:
    number = fake_github.add_issue("octo/app", "bug")
    comment_id = repo.comment(number, "first")
    repo.edit_comment(comment_id, "second")
    assert [c.body for c in repo.comments(number)] == ["second"]
    repo.react(number, "eyes")
    assert fake_github.repos["octo/app"].reactions[0]["content"] == "eyes"


def test_secondary_rate_limit_waits_for_retry_after(
    repo: RepoClient, fake_github: FakeGitHub
) -> None:
    number = fake_github.add_issue("octo/app", "bug")
    fake_github.inject(
        "POST",
        r"/repos/octo/app/issues/\d+/comments",
        403,
        headers={"Retry-After": "1"},
        message="You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
    )
    started = time.monotonic()
    repo.comment(number, "hello")
    assert time.monotonic() - started >= 1.0
    assert [c["body"] for c in fake_github.issue_comments("octo/app", number)] == ["hello"]


def test_primary_rate_limit_waits_for_the_reset(repo: RepoClient, fake_github: FakeGitHub) -> None:
    number = fake_github.add_issue("octo/app", "bug")
    reset = int(time.time()) + 1
    fake_github.inject(
        "GET",
        rf"/repos/octo/app/issues/{number}",
        403,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
        message="API rate limit exceeded for installation ID 424242.",
    )
    repo.issue(number)
    assert time.time() >= reset


def test_429_with_retry_after_is_retried(repo: RepoClient, fake_github: FakeGitHub) -> None:
    fake_github.inject("GET", r"/repos/octo/app/pulls", 429, headers={"Retry-After": "1"})
    started = time.monotonic()
    assert repo.open_pulls("fixwurx/issue-1") == []
    assert time.monotonic() - started >= 1.0


def test_persistent_outage_is_a_retryable_error(repo: RepoClient, fake_github: FakeGitHub) -> None:
    fake_github.inject("GET", r"/repos/octo/app/issues/7", 502, times=20)
    with pytest.raises(GitHubError) as caught:
        repo.issue(7)
    assert caught.value.retryable
    assert fake_github.count("GET", r"/repos/octo/app/issues/7") == 6  # first try + 5 retries


def test_not_found_is_terminal_and_named(repo: RepoClient) -> None:
    with pytest.raises(GitHubError, match="issue #99 of octo/app failed with HTTP 404") as caught:
        repo.issue(99)
    assert not caught.value.retryable


def test_permission_uses_the_role_name(repo: RepoClient, fake_github: FakeGitHub) -> None:
    fake_github.repos["octo/app"].collaborators.update({"mae": "maintain", "tri": "triage"})
    assert repo.permission("mae") == "maintain"
    assert repo.permission("tri") == "triage"
    assert repo.permission("stranger") == "read"


def test_each_request_asks_for_a_current_token(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", {"README.md": "hi\n"})
    old, new = "ghs_" + "1" * 36, "ghs_" + "2" * 36
    fake_github.tokens[old] = (424242, time.time() + 3600)
    current = {"token": old}
    repo = GitHubClient(fake_github.api_url, lambda: current["token"]).repo("octo/app")
    number = fake_github.add_issue("octo/app", "bug")
    fake_github.expire_tokens()  # the first token dies mid-job...
    fake_github.tokens[new] = (424242, time.time() + 3600)
    current["token"] = new  # ...and the shared cache hands out its successor
    assert repo.issue(number).title == "bug"
