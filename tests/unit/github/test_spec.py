"""The fake's OpenAPI check catches what real GitHub would reject."""

from __future__ import annotations

import time

import pytest
import requests

from app.errors import GitHubError
from app.github.client import GitHubClient
from tests.fakes.github import FakeGitHub
from tests.fakes.github.spec import load_spec


def test_valid_requests_pass() -> None:
    spec = load_spec()
    body = {"title": "t", "head": "a", "base": "main", "body": "b", "draft": True}
    assert spec.violations("POST", "/repos/o/r/pulls", {}, body) == []
    assert (
        spec.violations("GET", "/repos/o/r/contents/.github/fixwurx.yml", {"ref": "main"}, None)
        == []
    )
    assert spec.violations("PATCH", "/repos/o/r/issues/comments/5", {}, {"body": "x"}) == []


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "needle"),
    [
        ("GET", "/repos/o/r/nonsense", {}, None, "no such endpoint"),
        ("DELETE", "/repos/o/r/issues/1", {}, None, "no such endpoint"),
        ("POST", "/repos/o/r/pulls", {}, {"title": 1, "head": "a", "base": "b"}, "not of type"),
        ("POST", "/repos/o/r/pulls", {}, {"title": "t", "head": "a"}, "'base' is a required"),
        ("POST", "/repos/o/r/issues/1/reactions", {}, {"content": "wow"}, "is not one of"),
        ("GET", "/repos/o/r/pulls", {"state": "merged"}, None, "is not one of"),
        ("GET", "/repos/o/r/pulls", {"colour": "red"}, None, "unknown query parameter"),
        ("POST", "/repos/o/r/issues/1/comments", {}, None, "missing request body"),
    ],
)
def test_invalid_requests_are_violations(
    method: str, path: str, query: dict[str, str], body: object, needle: str
) -> None:
    problems = load_spec().violations(method, path, query, body)
    assert problems and needle in problems[0]


def test_the_server_collects_violations(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", {"a.txt": "a\n"})
    token = "ghs_" + "v" * 36
    fake_github.tokens[token] = (424242, time.time() + 3600)
    response = requests.post(
        f"{fake_github.api_url}/repos/octo/app/issues/1/reactions",
        json={"content": "wow"},
        headers={"Authorization": f"token {token}"},
        timeout=10,
    )
    assert response.status_code == 422
    assert any("is not one of" in v for v in fake_github.violations)
    fake_github.violations.clear()  # seen; let the fixture's teardown check pass


# --- hole 7 of issue 16: nothing the fake does not implement passes silently -----------------


def _token(fake_github: FakeGitHub) -> dict[str, str]:
    token = "ghs_" + "w" * 36
    fake_github.tokens[token] = (424242, time.time() + 3600)
    return {"Authorization": f"token {token}"}


@pytest.mark.parametrize(
    ("method", "path", "query", "needle"),
    [
        ("GET", "/repos/o/r/issues/abc", {}, "issue_number='abc' is not an integer"),
        ("GET", "/repos/o/r/pulls/1.5", {}, "pull_number='1.5' is not an integer"),
        ("GET", "/repos/o/r/pulls", {"per_page": "many"}, "per_page='many' is not an integer"),
        ("GET", "/app/hook/deliveries", {"per_page": "3x"}, "per_page='3x' is not an integer"),
        ("GET", "/repos/o/r/issues", {"since": "yesterday"}, "is not an ISO 8601 timestamp"),
    ],
)
def test_path_and_query_parameter_types_are_checked(
    method: str, path: str, query: dict[str, str], needle: str
) -> None:
    problems = load_spec().violations(method, path, query, None)
    assert any(needle in p for p in problems), problems


def test_a_request_outside_the_api_prefix_fails_the_test(fake_github: FakeGitHub) -> None:
    response = requests.get(f"{fake_github.base_url}/repos/octo/app", timeout=10)
    assert response.status_code == 404
    assert fake_github.violations == [
        "GET /repos/octo/app is outside /api/v3 and not git",
    ]
    fake_github.violations.clear()  # seen; let the fixture's teardown check pass


def test_a_documented_endpoint_the_fake_lacks_fails_the_test(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", {"a.txt": "a\n"})
    response = requests.get(
        f"{fake_github.api_url}/repos/octo/app/branches",
        headers=_token(fake_github),
        timeout=10,
    )
    assert response.status_code == 501  # not 404: no client may read it as "not found"
    assert fake_github.violations == ["the fake does not implement GET /repos/octo/app/branches"]
    fake_github.violations.clear()


def test_the_client_does_not_read_not_implemented_as_missing(
    fake_github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`file_text` and `permission` turn a 404 into "absent"; a 501 must stay an error."""
    fake_github.add_repo("octo/app", {"a.txt": "a\n"})
    routes = fake_github._routes
    handlers = {fake_github._contents, fake_github._permission}
    monkeypatch.setattr(
        fake_github, "_routes", lambda: [r for r in routes() if r[2] not in handlers]
    )
    token = _token(fake_github)["Authorization"].split()[1]
    repo = GitHubClient(fake_github.api_url, token).repo("octo/app")
    with pytest.raises(GitHubError, match="HTTP 501"):
        repo.file_text("a.txt", "main")
    with pytest.raises(GitHubError, match="HTTP 501"):
        repo.permission("alice")
    assert len(fake_github.violations) == 2
    fake_github.violations.clear()


def test_a_missing_file_and_a_non_collaborator_are_still_404s(fake_github: FakeGitHub) -> None:
    fake_github.add_repo("octo/app", {"a.txt": "a\n"}, collaborators={"alice": "write"})
    token = _token(fake_github)["Authorization"].split()[1]
    repo = GitHubClient(fake_github.api_url, token).repo("octo/app")
    assert repo.file_text("HTTP 404.txt", "main") is None
    assert repo.permission("alice") == "write"


def test_responses_are_checked_against_the_documented_schema() -> None:
    spec = load_spec()
    issue = spec.complete("GET", "/repos/o/r/issues/1", 200, {"number": 1, "title": "t"})
    assert spec.response_violations("GET", "/repos/o/r/issues/1", 200, issue) == []
    for broken in ({"number": "1"}, {"pull_request": None}, {"state": 3}):
        problems = spec.response_violations("GET", "/repos/o/r/issues/1", 200, {**issue, **broken})
        assert problems, broken
    missing = {k: v for k, v in issue.items() if k != "html_url"}
    assert any(
        "'html_url' is a required property" in p
        for p in spec.response_violations("GET", "/repos/o/r/issues/1", 200, missing)
    )
    assert (
        "status 418 is not documented"
        in spec.response_violations("GET", "/repos/o/r/issues/1", 418, {})[0]
    )


def test_completion_keeps_what_the_fake_set_and_fills_the_rest_by_type() -> None:
    spec = load_spec()
    repo = spec.complete("GET", "/repos/o/r", 200, {"id": 7, "name": "r", "owner": {"login": "o"}})
    assert (repo["id"], repo["name"], repo["owner"]["login"]) == (7, "r", "o")
    assert repo["forks_count"] == 0 and repo["archived"] is False and repo["description"] is None
    assert isinstance(repo["owner"]["avatar_url"], str)
    assert spec.response_violations("GET", "/repos/o/r", 200, repo) == []
    pulls = spec.complete("GET", "/repos/o/r/pulls", 200, [{"number": 2}])
    assert pulls[0]["number"] == 2 and "head" in pulls[0]
    assert spec.response_violations("GET", "/repos/o/r/pulls", 200, pulls) == []


def test_only_the_status_decides_that_a_file_is_missing(fake_github: FakeGitHub) -> None:
    """The error text names the path, which the repository chooses: a 403 on a file called
    `HTTP 404.md` was read as "no such file" when the client matched on the text."""
    fake_github.add_repo("octo/app", {"HTTP 404.md": "a\n"})
    fake_github.inject(
        "GET", r"/repos/octo/app/contents/.*", 403, message="Resource not accessible by integration"
    )
    token = _token(fake_github)["Authorization"].split()[1]
    repo = GitHubClient(fake_github.api_url, token).repo("octo/app")
    with pytest.raises(GitHubError, match="HTTP 403"):
        repo.file_text("HTTP 404.md", "main")
