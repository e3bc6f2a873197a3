"""The fake GitHub's GraphQL: documents validated against GitHub's schema, the three mutations
FixWurx uses, and a revert that really changes git."""

from __future__ import annotations

import subprocess
from typing import Any

import requests

from tests.fakes.github import FakeGitHub, FakeRepo
from tests.unit.fakes.conftest import Api

LOOKUP = """
query($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) { pullRequest(number: $number) { id isDraft } }
}
"""
READY = """
mutation($id: ID!) {
  markPullRequestReadyForReview(input: {pullRequestId: $id}) { pullRequest { isDraft } }
}
"""
REVERT = """
mutation($id: ID!) {
  revertPullRequest(input: {pullRequestId: $id, draft: true}) {
    revertPullRequest { number title body isDraft headRefName state }
  }
}
"""
AUTO_MERGE = """
mutation($id: ID!) {
  enablePullRequestAutoMerge(input: {pullRequestId: $id, mergeMethod: SQUASH}) {
    pullRequest { autoMergeRequest { mergeMethod } }
  }
}
"""


def _graphql(fake: FakeGitHub, api: Api, query: str, **variables: Any) -> dict[str, Any]:
    answer = api.session.post(fake.graphql_url, json={"query": query, "variables": variables})
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _pull(fake: FakeGitHub, api: Api, branch: str, files: dict[str, str]) -> tuple[int, str]:
    fake.commit_files("octo/calc", branch, files, "Change")
    made = api.post("/pulls", {"title": "Fix it", "head": branch, "base": "main", "draft": True})
    pull = made.json()
    return int(pull["number"]), str(pull["node_id"])


def test_an_invalid_document_is_a_violation_with_github_shaped_errors(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    answer = _graphql(fake_github, api, '{ repository(owner: "octo", name: "calc") { nope } }')
    assert "data" not in answer
    assert "Cannot query field 'nope' on type 'Repository'" in answer["errors"][0]["message"]
    assert answer["errors"][0]["locations"]
    assert len(fake_github.violations) == 1
    fake_github.violations.clear()  # expected here; anywhere else it fails the test


def test_an_unimplemented_field_is_a_violation_not_null(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    answer = _graphql(
        fake_github, api, '{ repository(owner: "octo", name: "calc") { stargazerCount } }'
    )
    assert answer["data"] == {"repository": None}  # a non-null field failed: its parent is null
    assert "does not implement Repository.stargazerCount" in answer["errors"][0]["message"]
    assert fake_github.violations
    fake_github.violations.clear()


def test_lookup_then_ready_for_review_and_auto_merge(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    number, node_id = _pull(fake_github, api, "fixwurx/g", {"a.txt": "a\n"})
    found = _graphql(fake_github, api, LOOKUP, owner="octo", name="calc", number=number)
    assert found["data"]["repository"]["pullRequest"] == {"id": node_id, "isDraft": True}

    ready = _graphql(fake_github, api, READY, id=node_id)
    assert ready["data"]["markPullRequestReadyForReview"]["pullRequest"] == {"isDraft": False}
    assert api.get(f"/pulls/{number}").json()["draft"] is False

    auto = _graphql(fake_github, api, AUTO_MERGE, id=node_id)
    request = auto["data"]["enablePullRequestAutoMerge"]["pullRequest"]["autoMergeRequest"]
    assert request == {"mergeMethod": "SQUASH"}
    assert api.get(f"/pulls/{number}").json()["merged"] is False  # recorded, not merged
    assert fake_github.graphql.calls[-1] == ("mutation", ["enablePullRequestAutoMerge"])


def test_revert_pull_request_really_reverts_the_merge_on_a_new_branch(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    number, node_id = _pull(fake_github, api, "fixwurx/r", {"fix.py": "x = 2\n"})
    merged = fake_github.merge_pull(repo.full_name, number)
    assert fake_github.show(repo.full_name, "main", "fix.py") == "x = 2\n"

    answer = _graphql(fake_github, api, REVERT, id=node_id)
    made = answer["data"]["revertPullRequest"]["revertPullRequest"]
    assert made["title"] == 'Revert "Fix it"'
    assert made["body"] == f"Reverts octo/calc#{number}"
    assert (made["isDraft"], made["state"]) == (True, "OPEN")
    head = made["headRefName"]
    assert head == f"revert-{number}-fixwurx/r"
    assert fake_github.show(repo.full_name, head, "fix.py") is None
    parent = subprocess.run(
        ["git", "rev-parse", f"{head}^"], cwd=repo.bare, capture_output=True, text=True
    ).stdout.strip()
    assert parent == merged
    fake_github.ci.wait_idle(30)
    assert any(r.head_branch == head for r in fake_github.ci.runs(repo.full_name))


def test_reverting_an_unmerged_pull_is_refused_like_github(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    _number, node_id = _pull(fake_github, api, "fixwurx/u", {"a.txt": "a\n"})
    answer = _graphql(fake_github, api, REVERT, id=node_id)
    assert answer["data"]["revertPullRequest"] is None
    assert answer["errors"][0]["type"] == "UNPROCESSABLE"
    assert fake_github.violations == []


def test_graphql_needs_an_installation_token(fake_github: FakeGitHub, repo: FakeRepo) -> None:
    answer = requests.post(fake_github.graphql_url, json={"query": "{ viewer { login } }"})
    assert answer.status_code == 401


def test_pygithubs_graphql_mutation_reaches_the_fake(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    from github import Auth, Github

    _number, node_id = _pull(fake_github, api, "fixwurx/py", {"a.txt": "a\n"})
    token = fake_github.mint_token(repo.installation_id)
    gh = Github(base_url=fake_github.api_url, auth=Auth.Token(token), retry=None)
    _headers, data = gh.requester.graphql_named_mutation(
        "markPullRequestReadyForReview", {"pullRequestId": node_id}, "pullRequest { isDraft }"
    )
    assert data == {"pullRequest": {"isDraft": False}}
