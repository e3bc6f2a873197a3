"""The failing tests the default branch's CI named, read from its JUnit artifacts.

xunit1 and xunit2 ids alike (`tests.test_x::test_y` maps to `tests/test_x.py::test_y`).
A hint, never the verdict: the names narrow the first probe at the red commit, and when they do
not look like pytest node ids, or do not fail when FixWurx runs them, attribution runs every
test there instead. The artifacts are made by the repository's own CI (repository code), so
they are read through app.github.actions, which bounds their size and ignores a malformed one.
"""

from __future__ import annotations

import logging

from app.errors import GitHubError
from app.github.actions import junit_outcomes
from app.github.client import GitHubClient, RepoClient
from app.testing.junit_ids import is_node_id, node_id

log = logging.getLogger(__name__)

#: Conclusions of a workflow run whose report can name the failing tests.
FAILED = ("failure", "timed_out")
#: Workflow runs at one commit looked at, newest first.
MAX_RUNS = 20


def named_failures(client: GitHubClient, repo: RepoClient, sha: str) -> tuple[str, ...]:
    """Pytest node ids of the tests CI reported failing at `sha` (empty: none named)."""
    try:
        listed = repo.api("GET", "/actions/runs", params={"head_sha": sha, "per_page": MAX_RUNS})
        names = {
            node_id(outcome.test_id)
            for run in (listed or {}).get("workflow_runs") or []
            if run.get("conclusion") in FAILED
            for outcome in junit_outcomes(client, repo, int(run["id"]))
            if not outcome.ok
        }
    except GitHubError as exc:
        if exc.retryable:
            raise
        log.info("no JUnit artifact for %s: %s", sha[:12], exc)
        return ()
    return tuple(sorted(n for n in names if is_node_id(n) and "::" in n))
