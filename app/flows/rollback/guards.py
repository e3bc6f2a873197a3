"""Why FixWurx must not roll a merged fix back (None: it may). Each guard names its reason.

Cheap guards (opt-out label, window in hours) come before the attribution, which runs tests;
the ones about acting (one rollback per fix, the daily cap) come after it, so the decision
still records whether the fix was to blame.
"""

from __future__ import annotations

import datetime as dt

from app.flows.rollback import decisions
from app.flows.rollback.decisions import MergedFix
from app.models import utcnow
from app.repo_config import RepoConfig

#: The label on a merged pull request that opts it out of rollbacks.
NO_ROLLBACK_LABEL = "fixwurx:no-rollback"


def before_attribution(
    config: RepoConfig, fix: MergedFix, labels: tuple[str, ...], commits_since: int | None
) -> str | None:
    """The opt-outs and the window: checked before any test runs."""
    if fix.kind != "fix":
        return f"#{fix.number} is a revert; FixWurx never reverts a revert"
    if NO_ROLLBACK_LABEL in {label.casefold() for label in labels}:
        return f"#{fix.number} carries the `{NO_ROLLBACK_LABEL}` label"
    if commits_since is None:
        return f"the failing commit is not on the default branch after #{fix.number}'s merge"
    if commits_since > config.rollback_window_commits:
        return (
            f"{commits_since} commits landed since #{fix.number} merged, more than "
            f"`rollback_window_commits` ({config.rollback_window_commits})"
        )
    if fix.merged_at is not None and utcnow() - fix.merged_at > window(config):
        return f"#{fix.number} merged more than {config.rollback_window_hours:g} hours ago"
    return None


def before_acting(
    database_url: str, repository_id: int, config: RepoConfig, fix: MergedFix
) -> str | None:
    """One rollback per fix and `rollback_per_day`: checked once the fix is blamed."""
    earlier = decisions.rolled_back(database_url, repository_id, fix.number)
    if earlier is not None:
        return f"#{fix.number} was already rolled back by #{earlier}"
    since = utcnow() - dt.timedelta(days=1)
    count = decisions.rollbacks_since(database_url, repository_id, since)
    if count >= config.rollback_per_day:
        return (
            f"{count} rollback(s) in the last 24 hours already, the cap "
            f"(`rollback_per_day`: {config.rollback_per_day})"
        )
    return None


def window(config: RepoConfig) -> dt.timedelta:
    """How long after its merge a fix is watched."""
    return dt.timedelta(hours=config.rollback_window_hours)
