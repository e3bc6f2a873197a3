"""The persisted rollback decisions, and the merged fixes a default-branch failure may concern.

A decision is written before FixWurx calls GitHub about it, with `action` "pending"; the call's
result then moves it on. A redelivered failure, a second check suite for the same commit, or a
worker that restarts finds the row (unique per repository and failing commit) and either stops
("already decided") or finishes what the pending row says is left to do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.db import session_scope
from app.models import PullRequest, RollbackDecision, aware, utcnow

#: Actions that count against `rollback_per_day` and "one rollback per fix".
ROLLED_BACK = ("revert_pr",)


@dataclass(frozen=True)
class MergedFix:
    """A merged FixWurx fix pull request."""

    number: int
    merge_sha: str
    issue_number: int | None
    merged_at: dt.datetime | None
    kind: str = "fix"


@dataclass(frozen=True)
class Decision:
    """A decision row, detached from the session."""

    id: int
    pr_number: int
    merge_sha: str
    failing_sha: str
    verdict: str
    action: str
    reason: str
    evidence: dict[str, Any]
    revert_pr_number: int | None
    run_id: int | None = None

    @property
    def blamed(self) -> bool:
        """The attribution blamed the merge."""
        return self.verdict == "blamed"


def _fix(row: PullRequest) -> MergedFix:
    return MergedFix(
        row.number, row.merge_sha or "", row.issue_number, aware(row.merged_at), row.kind
    )


def merged_fixes(database_url: str, repository_id: int, since: dt.datetime) -> list[MergedFix]:
    """FixWurx's fixes merged since `since`, newest first (reverts are never watched)."""
    with session_scope(database_url) as session:
        rows = session.scalars(
            select(PullRequest)
            .where(
                PullRequest.repository_id == repository_id,
                PullRequest.state == "merged",
                PullRequest.kind == "fix",
                PullRequest.merge_sha.is_not(None),
                PullRequest.merged_at >= since,
            )
            .order_by(PullRequest.merged_at.desc(), PullRequest.id.desc())
        ).all()
        return [_fix(r) for r in rows]


def merged_pull(database_url: str, repository_id: int, number: int) -> MergedFix | None:
    """FixWurx's pull request `number` when it is merged (a fix or a revert)."""
    with session_scope(database_url) as session:
        row = session.scalars(
            select(PullRequest).where(
                PullRequest.repository_id == repository_id,
                PullRequest.number == number,
                PullRequest.state == "merged",
                PullRequest.merge_sha.is_not(None),
            )
        ).first()
        return _fix(row) if row is not None else None


def _view(row: RollbackDecision) -> Decision:
    return Decision(
        row.id,
        row.pr_number,
        row.merge_sha,
        row.failing_sha,
        row.verdict,
        row.action,
        row.reason,
        dict(row.evidence or {}),
        row.revert_pr_number,
        row.run_id,
    )


def for_commit(database_url: str, repository_id: int, failing_sha: str) -> Decision | None:
    """The decision already made about this failing commit, if any."""
    with session_scope(database_url) as session:
        row = session.scalars(
            select(RollbackDecision).where(
                RollbackDecision.repository_id == repository_id,
                RollbackDecision.failing_sha == failing_sha,
            )
        ).first()
        return _view(row) if row is not None else None


def record(
    database_url: str,
    repository_id: int,
    fix: MergedFix,
    failing_sha: str,
    run_id: int | None,
    *,
    verdict: str,
    action: str,
    reason: str,
    evidence: dict[str, Any],
) -> Decision | None:
    """Insert the decision; None when another worker recorded one for this commit first."""
    try:
        with session_scope(database_url) as session:
            row = RollbackDecision(
                repository_id=repository_id,
                pr_number=fix.number,
                merge_sha=fix.merge_sha,
                failing_sha=failing_sha,
                run_id=run_id,
                verdict=verdict,
                action=action,
                reason=reason,
                evidence=evidence,
            )
            session.add(row)
            session.flush()
            return _view(row)
    except IntegrityError:
        return None


def set_action(
    database_url: str,
    decision_id: int,
    action: str,
    *,
    revert_pr: int | None = None,
    reason: str = "",
) -> None:
    """Record what was done about a decision (the end of its pending state)."""
    values: dict[str, Any] = {"action": action, "updated_at": utcnow()}
    if revert_pr is not None:
        values["revert_pr_number"] = revert_pr
    if reason:
        values["reason"] = reason
    with session_scope(database_url) as session:
        session.execute(
            update(RollbackDecision).where(RollbackDecision.id == decision_id).values(**values)
        )


def rolled_back(database_url: str, repository_id: int, pr_number: int) -> int | None:
    """The revert pull request FixWurx already opened for fix `pr_number`, if any."""
    with session_scope(database_url) as session:
        return session.scalar(
            select(RollbackDecision.revert_pr_number).where(
                RollbackDecision.repository_id == repository_id,
                RollbackDecision.pr_number == pr_number,
                RollbackDecision.action.in_(ROLLED_BACK),
            )
        )


def rollbacks_since(database_url: str, repository_id: int, since: dt.datetime) -> int:
    """Revert pull requests FixWurx opened for this repository since `since`."""
    with session_scope(database_url) as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    RollbackDecision.repository_id == repository_id,
                    RollbackDecision.action.in_(ROLLED_BACK),
                    RollbackDecision.updated_at >= since,
                )
            )
            or 0
        )


#: Earlier decisions a new red commit is compared with (newest first).
MAX_EARLIER = 5


def earlier(url: str, repository_id: int, since: dt.datetime) -> list[Decision]:
    """The repository's decisions made since `since` that attributed a failure (newest
    first): a later red commit with the same failing tests reuses one of them."""
    with session_scope(url) as session:
        rows = session.scalars(
            select(RollbackDecision)
            .where(
                RollbackDecision.repository_id == repository_id,
                RollbackDecision.created_at >= since,
                RollbackDecision.verdict.in_(("blamed", "not_blamed")),
            )
            .order_by(RollbackDecision.id.desc())
            .limit(MAX_EARLIER)
        ).all()
        return [_view(r) for r in rows]
