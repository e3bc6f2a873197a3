"""issues.labeled: the trigger label turns an issue into a repair request.

The repo config may name another label, but reading it needs a GitHub call, which handlers never
make. So the web tier matches the default label and the job re-checks the configured one.
"""

from __future__ import annotations

from app.runs import RunRequest
from webhooks.handlers.common import run_request, skip_reason
from webhooks.router import Context, Outcome, Payload, Router, ignore


def register(router: Router) -> None:
    router.register("issues", "labeled")(labeled)


def labeled(payload: Payload, ctx: Context) -> Outcome:
    reason = skip_reason(payload, ctx)
    if reason:
        return ignore(reason)
    label = str((payload.get("label") or {}).get("name", ""))
    if label.casefold() != ctx.trigger_label.casefold():
        return ignore(f"label {label!r} is not {ctx.trigger_label!r}")
    issue = payload["issue"]
    if "pull_request" in issue:
        return ignore("labels on pull requests do not trigger a fix")
    request: RunRequest = run_request(
        payload, "issue", "issues.labeled", issue_number=int(issue["number"])
    )
    return Outcome(runs=(request,))
