"""The GraphQL calls FixWurx makes, each one typed function over `GitHubClient.graphql`.

Some of what FixWurx does has no REST endpoint: opening a revert pull request the way GitHub's
"Revert" button does (`revertPullRequest`) and enabling auto-merge
(`enablePullRequestAutoMerge`), so branch protection, not FixWurx, decides when it merges.
The query texts live here so every flow that needs one reuses the same call.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.errors import GitHubError
from app.github.client import GitHubClient

REVERT_PULL_REQUEST = """
mutation($id: ID!, $title: String, $body: String, $draft: Boolean) {
  revertPullRequest(input: {pullRequestId: $id, title: $title, body: $body, draft: $draft}) {
    revertPullRequest { id number url }
  }
}
"""

ENABLE_AUTO_MERGE = """
mutation($id: ID!, $method: PullRequestMergeMethod) {
  enablePullRequestAutoMerge(input: {pullRequestId: $id, mergeMethod: $method}) {
    pullRequest { number }
  }
}
"""


@dataclass(frozen=True)
class OpenedPull:
    """A pull request GraphQL opened: its node id and number."""

    node_id: str
    number: int
    url: str


def revert_pull_request(
    client: GitHubClient, node_id: str, title: str, body: str, *, draft: bool = False
) -> OpenedPull:
    """Open the revert of merged pull request `node_id`, as GitHub's Revert button does."""
    data = client.graphql(
        REVERT_PULL_REQUEST, {"id": node_id, "title": title, "body": body, "draft": draft}
    )
    opened = (data.get("revertPullRequest") or {}).get("revertPullRequest") or {}
    if not opened.get("number"):
        raise GitHubError("revertPullRequest answered without a pull request")
    return OpenedPull(str(opened.get("id") or ""), int(opened["number"]), str(opened.get("url")))


def enable_auto_merge(client: GitHubClient, node_id: str, method: str = "MERGE") -> None:
    """Let pull request `node_id` merge by itself once branch protection is satisfied."""
    client.graphql(ENABLE_AUTO_MERGE, {"id": node_id, "method": method})
