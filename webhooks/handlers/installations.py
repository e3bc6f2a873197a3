"""installation and installation_repositories: keep the installed-repository tables current.

They describe the installation itself, so the bot and repository checks of the other handlers do
not apply. Recording removals and suspensions is what lets the ingress drop deliveries for
repositories FixWurx no longer has access to.
"""

from __future__ import annotations

from typing import Any

from app.runs import InstallationChange, RepositoryInfo
from webhooks.router import Context, Outcome, Payload, Router

INSTALLATION_ACTIONS = ("created", "deleted", "suspend", "unsuspend", "new_permissions_accepted")


def register(router: Router) -> None:
    router.register("installation", *INSTALLATION_ACTIONS)(installation)
    router.register("installation_repositories", "added", "removed")(repositories)


def installation(payload: Payload, _ctx: Context) -> Outcome:
    repos = _repos(payload.get("repositories"))
    deleted = payload["action"] == "deleted"
    return Outcome(
        installation=_change(
            payload, added=() if deleted else repos, removed=repos if deleted else ()
        )
    )


def repositories(payload: Payload, _ctx: Context) -> Outcome:
    return Outcome(
        installation=_change(
            payload,
            added=_repos(payload.get("repositories_added")),
            removed=_repos(payload.get("repositories_removed")),
        )
    )


def _change(
    payload: Payload, added: tuple[RepositoryInfo, ...], removed: tuple[RepositoryInfo, ...]
) -> InstallationChange:
    inst = payload["installation"]
    account = inst.get("account") or {}
    return InstallationChange(
        installation_id=int(inst["id"]),
        account_login=str(account.get("login") or ""),
        account_type=str(account.get("type") or "User"),
        action=str(payload["action"]),
        added=added,
        removed=removed,
    )


def _repos(items: Any) -> tuple[RepositoryInfo, ...]:
    return tuple(RepositoryInfo(int(r["id"]), str(r["full_name"])) for r in items or ())
