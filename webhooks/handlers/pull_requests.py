"""pull_request.closed when merged: the job records the merge and watches the default branch, so
a merged fix that breaks it can get a rollback pull request."""

from __future__ import annotations

from webhooks.handlers.common import run_request, skip_reason
from webhooks.router import Context, Payload, Router, RouteResult, ignore


def register(router: Router) -> None:
    router.register("pull_request", "closed")(closed)


def closed(payload: Payload, ctx: Context) -> RouteResult:
    # A merge is a fact to record (it answers nobody, so it cannot start a loop between Apps),
    # and merge queues and auto-merge merge as bots.
    reason = skip_reason(payload, ctx, bots_allowed=True)
    if reason:
        return ignore(reason)
    pull = payload["pull_request"]
    if not pull.get("merged"):
        return ignore("pull request was closed without merging")
    request = run_request(
        payload,
        "merge",
        "pull_request.closed",
        pr_number=int(pull["number"]),
        head_sha=pull.get("merge_commit_sha"),
        branch=(pull.get("base") or {}).get("ref"),
    )
    return RouteResult(runs=(request,))
