"""issues.labeled: the trigger label turns an issue into a repair request.

The repo config may name another label, but reading it needs a GitHub call, which handlers never
make. A `config` run reads it when the repository is installed and again when a push to the
default branch changes it (installations.py, push.py); every job also stores the label it read,
in the repositories table. The handler accepts the stored label; until one is stored, only the
default label `fixwurx` (the label a repository without a config uses). The default label is
accepted without a lookup, so the hot path of the common case stays three round trips; on a
repository configured with another label that job reads the config and declines quietly. The
job always re-checks.
"""

from __future__ import annotations

from app.runs import RunRequest
from webhooks.handlers.common import run_request, skip_reason
from webhooks.router import Context, Payload, Router, RouteResult, ignore


def register(router: Router) -> None:
    router.register("issues", "labeled")(labeled)


def _may_trigger(label: str, payload: Payload, ctx: Context) -> bool:
    if label.casefold() == ctx.trigger_label.casefold():
        return True
    configured = ctx.repo_label(int(payload["repository"]["id"]))
    return configured is not None and configured.casefold() == label.casefold()


def labeled(payload: Payload, ctx: Context) -> RouteResult:
    reason = skip_reason(payload, ctx)
    if reason:
        return ignore(reason)
    issue = payload["issue"]
    if "pull_request" in issue:
        return ignore("labels on pull requests do not trigger a fix")
    label = str((payload.get("label") or {}).get("name", ""))
    if not _may_trigger(label, payload, ctx):  # may read the stored label: cheap checks first
        return ignore(f"label {label!r} is not the trigger label")
    request: RunRequest = run_request(
        payload, "issue", "issues.labeled", issue_number=int(issue["number"])
    )
    return RouteResult(runs=(request,))
