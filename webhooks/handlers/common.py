"""Checks and field extraction every handler shares: bot senders, installation, repository."""

from __future__ import annotations

from typing import Any

from app.runs import RunRequest
from webhooks.router import Context, Payload


def skip_reason(payload: Payload, ctx: Context, *, bots_allowed: bool = False) -> str | None:
    """Why this payload must not start work, or None when it may.

    Bots are ignored so FixWurx never reacts to its own comments or to other Apps (a loop
    between two Apps would burn budget forever). `bots_allowed` is for events that only record
    a fact GitHub reports and answer nobody, such as a merge: merge queues and auto-merge merge
    as bots, and dropping those would leave the fix unrecorded. A payload without an
    installation was not delivered to an App installation, so there is no token to act with.
    """
    bot = None if bots_allowed else _bot_reason(payload.get("sender") or {}, ctx)
    if bot:
        return bot
    if not isinstance(payload.get("installation"), dict):
        return "payload has no installation"
    if not isinstance(payload.get("repository"), dict):
        return "payload has no repository"
    return None


def _bot_reason(sender: dict[str, Any], ctx: Context) -> str | None:
    login = str(sender.get("login", ""))
    if sender.get("type") == "Bot" or login.endswith("[bot]"):
        return f"sender {login!r} is a bot"
    if login.lower() == f"{ctx.app_slug}[bot]".lower():
        return "sender is FixWurx itself"
    return None


def run_request(payload: Payload, kind: str, trigger: str, **fields: Any) -> RunRequest:
    """A RunRequest with the repository, installation and sender filled in from `payload`."""
    repo = payload["repository"]
    owner = repo.get("owner") or {}
    return RunRequest(
        kind=kind,
        trigger=trigger,
        repository_id=int(repo["id"]),
        repository_full_name=str(repo["full_name"]),
        installation_id=int(payload["installation"]["id"]),
        account_login=str(owner.get("login") or repo["full_name"].split("/")[0]),
        default_branch=str(repo.get("default_branch") or "main"),
        requested_by=str((payload.get("sender") or {}).get("login") or "") or None,
        **fields,
    )


#: The run kind that only reads a repository's `.github/fixwurx.yml` and stores its trigger label.
CONFIG_READ = "config"


def config_read(payload: Payload, repository_id: int, full_name: str, trigger: str) -> RunRequest:
    """A run that reads one repository's config, so the web tier learns its trigger label."""
    inst = payload["installation"]
    account = inst.get("account") or {}
    return RunRequest(
        kind=CONFIG_READ,
        trigger=trigger,
        repository_id=repository_id,
        repository_full_name=full_name,
        installation_id=int(inst["id"]),
        account_login=str(account.get("login") or full_name.split("/")[0]),
        requested_by=str((payload.get("sender") or {}).get("login") or "") or None,
    )
