"""push to a repository's default branch: read a changed `.github/fixwurx.yml`, note reverts.

The web tier filters label events by each repository's stored trigger label (issues.py); a push
that edits the config can change that label, so it gets a `config` run that reads the file and
stores the label. A push whose commits say git's "This reverts commit <sha>" gets a `reverted`
run: when <sha> is a merged FixWurx fix, someone reverted it (the dashboard counts a revert
FixWurx did not decide on as a miss of the rollback watch). Every other push is ignored. A bot's
push is not skipped here (unlike the other handlers): a merge queue or auto-merge lands config
changes and reverts too, and recording a fact starts no repair, so there is no loop to fear.
"""

from __future__ import annotations

import re
from typing import Any

from webhooks.handlers.common import config_read, run_request, skip_reason
from webhooks.router import Context, Payload, Router, RouteResult, ignore

#: The repo config's path (app/repo_config.CONFIG_PATH; not imported, to keep the web
#: process from loading jsonschema and yaml for one string). tests/unit/webhooks checks they agree.
CONFIG_PATH = ".github/fixwurx.yml"
#: GitHub lists at most this many commits in a push payload; a longer push may have touched the
#: config in a commit it left out, so it is read again.
MAX_LISTED_COMMITS = 2048
#: The run kind that records which merged commits a push reverted.
REVERTED = "reverted"
#: The line `git revert` writes ("..., reversing\nchanges made to <parent>." follows for a merge).
REVERTS_LINE = re.compile(r"^This reverts commit ([0-9a-f]{40})\b", re.MULTILINE)
#: (reverted, reverting) pairs one push may report: a hostile push cannot make the run's row big.
MAX_REVERTS = 50


def register(router: Router) -> None:
    router.register("push")(pushed)


def pushed(payload: Payload, ctx: Context) -> RouteResult:
    reason = skip_reason(payload, ctx, bots_allowed=True) or _skip_reason(payload)
    if reason:
        return ignore(reason)
    repo = payload["repository"]
    runs = []
    if _touches_config(payload):
        runs.append(config_read(payload, int(repo["id"]), str(repo["full_name"]), "push"))
    pairs = reverted_commits(payload)
    if pairs:
        runs.append(
            run_request(
                payload,
                REVERTED,
                "push",
                head_sha=str(payload.get("after") or "") or None,
                branch=str(payload.get("ref", "")).removeprefix("refs/heads/"),
                command_args=" ".join(f"{old}:{new}" for old, new in pairs),
            )
        )
    if not runs:
        return ignore(f"the push does not change {CONFIG_PATH} and reverts no commit")
    return RouteResult(runs=tuple(runs))


def _skip_reason(payload: Payload) -> str | None:
    repo = payload["repository"]
    default = repo.get("default_branch") or repo.get("master_branch")
    if payload.get("ref") != f"refs/heads/{default}":
        return f"push to {payload.get('ref')!r}, not the default branch"
    if payload.get("deleted"):
        return "the push deleted the branch"
    return None


def reverted_commits(payload: Payload) -> list[tuple[str, str]]:
    """(reverted sha, reverting commit sha) for each "This reverts commit" line of the pushed
    commits' messages, in push order, without repeats, at most MAX_REVERTS."""
    commits: list[Any] = list(payload.get("commits") or [])
    if payload.get("head_commit"):
        commits.append(payload["head_commit"])
    found: dict[tuple[str, str], None] = {}
    for commit in commits:
        if not isinstance(commit, dict):
            continue
        by = str(commit.get("id") or "")
        message = commit.get("message")
        if not re.fullmatch(r"[0-9a-f]{40}", by) or not isinstance(message, str):
            continue
        for reverted in REVERTS_LINE.findall(message):
            found[(reverted, by)] = None
            if len(found) >= MAX_REVERTS:
                return list(found)
    return list(found)


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
