"""CI events: auto-fix of failures elsewhere, and the read-back of CI on FixWurx's own branches.

On any branch but FixWurx's, `check_suite.completed` and `workflow_run.completed` with a failing
conclusion become a `ci` run (auto-fix; whether it is enabled, forks and attempt caps are the
job's checks, because they need the repo config and GitHub). The default branch's results are
routed the same way as before, and there a bot sender counts too (merge queues and auto-merge
Apps push as bots), all but FixWurx itself.

On `fixwurx/*` branches every finished suite or workflow run becomes a `ci_result` run, green or
red: the job reads the fix commit's CI back and acts once all of it has finished. Those events
are often sent by FixWurx's own bot (its push triggered the CI), so the bot-sender rule does not
apply to them; FixWurx's own check suite is ignored (its check is not CI). A maintainer
re-running the `FixWurx verification` check (`check_run.rerequested`) starts one too.
"""

from __future__ import annotations

from typing import Any

from app.github.constants import BRANCH_PREFIX, CHECK_NAME
from webhooks.handlers.common import run_request, skip_reason
from webhooks.router import Context, Payload, Router, RouteResult, ignore

#: Conclusions that mean "the code is broken", not "someone cancelled it".
FAILING_CONCLUSIONS = frozenset({"failure", "timed_out"})
#: The run kind that reads back CI on a FixWurx fix commit (app/flows/ci/flow.py).
CI_RESULT = "ci_result"


def register(router: Router) -> None:
    router.register("check_suite", "completed")(check_suite_completed)
    router.register("workflow_run", "completed")(workflow_run_completed)
    router.register("check_run", "rerequested")(check_run_rerequested)


def check_suite_completed(payload: Payload, ctx: Context) -> RouteResult:
    suite = payload["check_suite"]
    if _ours(suite):
        slug = str((suite.get("app") or {}).get("slug") or "")
        if slug.lower() == ctx.app_slug.lower():
            return ignore("FixWurx's own check suite")
        return _ci_result(payload, ctx, suite, "check_suite.completed")
    return _failed(payload, ctx, suite, "check_suite.completed")


def workflow_run_completed(payload: Payload, ctx: Context) -> RouteResult:
    run = payload["workflow_run"]
    if _ours(run):
        return _ci_result(payload, ctx, run, "workflow_run.completed")
    return _failed(payload, ctx, run, "workflow_run.completed")


def check_run_rerequested(payload: Payload, ctx: Context) -> RouteResult:
    """A re-run of FixWurx's check from the checks tab: read the commit's CI again."""
    reason = skip_reason(payload, ctx)
    if reason:
        return ignore(reason)
    check = payload["check_run"]
    slug = str((check.get("app") or {}).get("slug") or "")
    if slug.lower() != ctx.app_slug.lower() or check.get("name") != CHECK_NAME:
        return ignore("not FixWurx's check run")
    suite = dict(check.get("check_suite") or {})
    suite.setdefault("head_sha", check.get("head_sha"))
    suite.setdefault("pull_requests", check.get("pull_requests") or [])
    return _ci_result(payload, ctx, suite, "check_run.rerequested")


def _from_fixwurx(payload: Payload, ctx: Context) -> bool:
    login = str((payload.get("sender") or {}).get("login") or "")
    return login.lower() == f"{ctx.app_slug}[bot]".lower()


def _ours(suite: dict[str, Any]) -> bool:
    return str(suite.get("head_branch") or "").startswith(BRANCH_PREFIX)


def _ci_result(payload: Payload, ctx: Context, suite: dict[str, Any], trigger: str) -> RouteResult:
    # FixWurx's own push triggered these suites, so a bot sender is expected here.
    reason = skip_reason(payload, ctx, bots_allowed=True)
    if reason:
        return ignore(reason)
    if not suite.get("head_sha"):
        return ignore("the event names no commit")
    pulls = suite.get("pull_requests") or []
    request = run_request(
        payload,
        CI_RESULT,
        trigger,
        head_sha=str(suite["head_sha"]),
        branch=suite.get("head_branch"),
        pr_number=int(pulls[0]["number"]) if pulls else None,
    )
    return RouteResult(runs=(request,))


def _failed(payload: Payload, ctx: Context, suite: dict[str, Any], trigger: str) -> RouteResult:
    # A red default branch is a fact whoever made it: merge queues and auto-merge Apps push
    # as bots, and dropping their suites would leave a merged fix's breakage unseen by the
    # rollback watch. FixWurx's own events stay ignored (no loop with itself).
    default = str((payload.get("repository") or {}).get("default_branch") or "")
    on_default = bool(default) and suite.get("head_branch") == default
    reason = skip_reason(payload, ctx, bots_allowed=on_default)
    if not reason and on_default and _from_fixwurx(payload, ctx):
        reason = "sender is FixWurx itself"
    if reason:
        return ignore(reason)
    conclusion = suite.get("conclusion")
    if conclusion not in FAILING_CONCLUSIONS:
        return ignore(f"conclusion {conclusion!r} is not a failure")
    pulls = suite.get("pull_requests") or []
    request = run_request(
        payload,
        "ci",
        trigger,
        head_sha=str(suite["head_sha"]),
        branch=suite.get("head_branch"),
        pr_number=int(pulls[0]["number"]) if pulls else None,
    )
    return RouteResult(runs=(request,))
