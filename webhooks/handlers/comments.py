"""issue_comment.created: commands to FixWurx, on issues and on pull requests alike."""

from __future__ import annotations

from webhooks import comment_parser
from webhooks.handlers.common import run_request, skip_reason
from webhooks.router import Context, Payload, Router, RouteResult, ignore


def register(router: Router) -> None:
    router.register("issue_comment", "created")(created)


def created(payload: Payload, ctx: Context) -> RouteResult:
    reason = skip_reason(payload, ctx)
    if reason:
        return ignore(reason)
    names = tuple({"fixwurx", ctx.app_slug})
    command = comment_parser.parse(str(payload["comment"].get("body") or ""), names)
    if command is None:
        return ignore("comment is not a FixWurx command")
    issue = payload["issue"]
    number = int(issue["number"])
    on_pr = "pull_request" in issue
    request = run_request(
        payload,
        "command",
        "issue_comment.created",
        issue_number=None if on_pr else number,
        pr_number=number if on_pr else None,
        command=command.name,
        command_args=command.args,
    )
    return RouteResult(runs=(request,))
