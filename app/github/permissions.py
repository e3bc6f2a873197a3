"""Who may command FixWurx: the commenter's role, from the collaborator-permission endpoint.

The role is asked of GitHub each time (never taken from the webhook payload, whose
`author_association` does not distinguish read from write), and compared with the least role
the repo config requires for the command — `write` unless configured otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.github.client import RepoClient
from app.repo_config import RepoConfig, role_allows


@dataclass(frozen=True)
class Permission:
    """Whether a user may give a command, with both roles for the polite refusal."""

    allowed: bool
    role: str
    needed: str


def check_command(repo: RepoClient, config: RepoConfig, login: str, command: str) -> Permission:
    """Ask GitHub for `login`'s role and compare it with what `command` needs."""
    needed = config.needed_role(command)
    role = repo.permission(login)
    return Permission(role_allows(role, needed), role, needed)
