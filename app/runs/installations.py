"""Installations and their repositories: which repositories FixWurx may work on."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import Installation, Repository, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RepositoryInfo:
    """A repository named in an installation event."""

    id: int
    full_name: str


@dataclass(frozen=True)
class InstallationChange:
    """What an installation or installation_repositories event says happened."""

    installation_id: int
    account_login: str
    account_type: str = "User"
    action: str = "created"  # created | deleted | suspend | unsuspend | added | removed | ...
    added: tuple[RepositoryInfo, ...] = ()
    removed: tuple[RepositoryInfo, ...] = ()


def record_installation(session: Session, change: InstallationChange) -> None:
    """Apply an installation change to the installations and repositories tables."""
    installation = session.get(Installation, change.installation_id)
    if installation is None:
        installation = Installation(
            id=change.installation_id,
            account_login=change.account_login,
            account_type=change.account_type,
            suspended=False,
        )
        session.add(installation)
    _apply_installation_action(installation, change.action)
    session.flush()
    _activate(session, change.installation_id, change.added)
    _deactivate(session, change.removed)
    if change.action == "deleted":
        session.execute(
            update(Repository)
            .where(Repository.installation_id == change.installation_id)
            .values(active=False)
        )


def _apply_installation_action(installation: Installation, action: str) -> None:
    if action == "deleted":
        installation.deleted_at = utcnow()
    elif action == "suspend":
        installation.suspended = True
    elif action in {"created", "unsuspend", "new_permissions_accepted"}:
        installation.suspended = False
        installation.deleted_at = None


def _activate(session: Session, installation_id: int, repos: Iterable[RepositoryInfo]) -> None:
    for info in repos:
        repo = session.get(Repository, info.id)
        if repo is None:
            session.add(
                Repository(
                    id=info.id,
                    installation_id=installation_id,
                    full_name=info.full_name,
                    active=True,
                )
            )
            continue
        repo.installation_id = installation_id
        repo.full_name = info.full_name
        repo.active = True


def _deactivate(session: Session, repos: Iterable[RepositoryInfo]) -> None:
    ids = [info.id for info in repos]
    if ids:
        session.execute(update(Repository).where(Repository.id.in_(ids)).values(active=False))
