"""installation and installation_repositories: keep the installed-repository tables current.

They describe the installation itself, so the bot and repository checks of the other handlers do
not apply. Recording removals and suspensions is what lets the ingress drop deliveries for
repositories FixWurx no longer has access to. Each repository that (again) becomes reachable also
gets a `config` run that reads its `.github/fixwurx.yml`, so the web tier knows its trigger
label before the first label event arrives (webhooks/handlers/issues.py).
"""

from __future__ import annotations

from typing import Any

from app.runs import InstallationChange, RepositoryInfo, RunRequest
from webhooks.handlers.common import config_read
from webhooks.router import Context, Payload, Router, RouteResult

INSTALLATION_ACTIONS = ("created", "deleted", "suspend", "unsuspend", "new_permissions_accepted")
#: Installation actions after which FixWurx reads each listed repository's config: it was not
#: reachable before (and pushes to it were not delivered while the installation was suspended).
READS_CONFIG = frozenset({"created", "unsuspend"})


def register(router: Router) -> None:
    router.register("installation", *INSTALLATION_ACTIONS)(installation)
    router.register("installation_repositories", "added", "removed")(repositories)


def installation(payload: Payload, _ctx: Context) -> RouteResult:
    repos = _repos(payload.get("repositories"))
    action = payload["action"]
    deleted = action == "deleted"
    reads = _config_reads(payload, repos) if action in READS_CONFIG else ()
    return RouteResult(
        runs=reads,
        installation=_change(
            payload, added=() if deleted else repos, removed=repos if deleted else ()
        ),
    )


def repositories(payload: Payload, _ctx: Context) -> RouteResult:
    added = _repos(payload.get("repositories_added"))
    return RouteResult(
        runs=_config_reads(payload, added),
        installation=_change(
            payload, added=added, removed=_repos(payload.get("repositories_removed"))
        ),
    )


def _config_reads(payload: Payload, repos: tuple[RepositoryInfo, ...]) -> tuple[RunRequest, ...]:
    event = "installation_repositories" if "repositories_added" in payload else "installation"
    trigger = f"{event}.{payload['action']}"
    return tuple(config_read(payload, r.id, r.full_name, trigger) for r in repos)


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
