"""check_suite.completed and workflow_run.completed with a failing conclusion: CI auto-fix.

Only failures are routed; whether auto-fix is enabled for the repository, whether the branch is
a fork or one of FixWurx's own, and how many attempts the commit has had are the job's checks,
because they need the repo config and GitHub.
"""

from __future__ import annotations

from typing import Any

from webhooks.handlers.common import run_request, skip_reason
from webhooks.router import Context, Outcome, Payload, Router, ignore

#: Conclusions that mean "the code is broken", not "someone cancelled it".
FAILING_CONCLUSIONS = frozenset({"failure", "timed_out"})


def register(router: Router) -> None:
    router.register("check_suite", "completed")(check_suite_completed)
    router.register("workflow_run", "completed")(workflow_run_completed)


def check_suite_completed(payload: Payload, ctx: Context) -> Outcome:
    return _failed(payload, ctx, payload["check_suite"], "check_suite.completed")


def workflow_run_completed(payload: Payload, ctx: Context) -> Outcome:
    return _failed(payload, ctx, payload["workflow_run"], "workflow_run.completed")


def _failed(payload: Payload, ctx: Context, suite: dict[str, Any], trigger: str) -> Outcome:
    reason = skip_reason(payload, ctx)
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
    return Outcome(runs=(request,))
