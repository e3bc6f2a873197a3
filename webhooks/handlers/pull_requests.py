"""pull_request.closed when merged: the job records the merge and watches the default branch, so
a merged fix that breaks it can get a rollback pull request. Closed unmerged, only FixWurx's own
pull requests matter: a revert pull request a human closed is a rejected rollback decision (the
dashboard's precision counts it); anyone else's closed pull request is ignored here."""

from __future__ import annotations

from webhooks.handlers.common import run_request, skip_reason
from webhooks.router import Context, Payload, Router, RouteResult, ignore

#: The run kind that records a FixWurx pull request closed without merging.
CLOSED_UNMERGED = "pr_closed"


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
        return _closed_unmerged(payload, ctx)
    request = run_request(
        payload,
        "merge",
        "pull_request.closed",
        pr_number=int(pull["number"]),
        head_sha=pull.get("merge_commit_sha"),
        branch=(pull.get("base") or {}).get("ref"),
    )
    return RouteResult(runs=(request,))


def _closed_unmerged(payload: Payload, ctx: Context) -> RouteResult:
    pull = payload["pull_request"]
    user = pull.get("user")
    author = str(user.get("login") or "") if isinstance(user, dict) else ""
    if author.lower() != f"{ctx.app_slug}[bot]".lower():
        return ignore("pull request was closed without merging")
    request = run_request(
        payload,
        CLOSED_UNMERGED,
        "pull_request.closed",
        pr_number=int(pull["number"]),
        branch=(pull.get("base") or {}).get("ref"),
    )
    return RouteResult(runs=(request,))
