"""push to a repository's default branch that changes `.github/fixwurx.yml`: read it again.

The web tier filters label events by each repository's stored trigger label (issues.py); a push
that edits the config can change that label, so it gets a `config` run that reads the file and
stores the label. Every other push is ignored. A bot's push is not skipped here (unlike the
other handlers): a merge queue or auto-merge lands config changes too, and reading a file starts
no repair, so there is no loop to fear.
"""

from __future__ import annotations

from typing import Any

from webhooks.handlers.common import config_read, skip_reason
from webhooks.router import Context, Payload, Router, RouteResult, ignore

#: The repo config's path (app/repo_config.CONFIG_PATH; not imported, to keep the web
#: process from loading jsonschema and yaml for one string). tests/unit/webhooks checks they agree.
CONFIG_PATH = ".github/fixwurx.yml"
#: GitHub lists at most this many commits in a push payload; a longer push may have touched the
#: config in a commit it left out, so it is read again.
MAX_LISTED_COMMITS = 2048


def register(router: Router) -> None:
    router.register("push")(pushed)


def pushed(payload: Payload, ctx: Context) -> RouteResult:
    reason = skip_reason(payload, ctx, bots_allowed=True) or _skip_reason(payload)
    if reason:
        return ignore(reason)
    repo = payload["repository"]
    return RouteResult(
        runs=(config_read(payload, int(repo["id"]), str(repo["full_name"]), "push"),)
    )


def _skip_reason(payload: Payload) -> str | None:
    repo = payload["repository"]
    default = repo.get("default_branch") or repo.get("master_branch")
    if payload.get("ref") != f"refs/heads/{default}":
        return f"push to {payload.get('ref')!r}, not the default branch"
    if payload.get("deleted"):
        return "the push deleted the branch"
    if not _touches_config(payload):
        return f"the push does not change {CONFIG_PATH}"
    return None


def _touches_config(payload: Payload) -> bool:
    commits: list[Any] = list(payload.get("commits") or [])
    if payload.get("head_commit"):
        commits.append(payload["head_commit"])
    if len(commits) >= MAX_LISTED_COMMITS:
        return True
    return any(
        CONFIG_PATH in (commit.get(kind) or ())
        for commit in commits
        if isinstance(commit, dict)
        for kind in ("added", "modified", "removed")
    )
