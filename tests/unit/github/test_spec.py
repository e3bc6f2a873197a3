"""The fake's OpenAPI check catches what real GitHub would reject."""

from __future__ import annotations

import time

import pytest
import requests

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
