"""What became of a rollback decision, for the dashboard's precision figure.

A revert pull request FixWurx opened ends one of two ways: merged (a human confirmed the
decision) or closed unmerged (a human rejected it); until then it is open. Apart from that, a
default-branch commit whose message says git's "This reverts commit <merge>" reverted a merged
fix, whoever made it: for a fix FixWurx decided to revert it confirms the decision (also in
shadow mode, where FixWurx opens nothing); for a fix it did not decide to revert it is a miss.
"""

from __future__ import annotations

import re

from sqlalchemy import update

from app.db import session_scope
from app.models import PullRequest, RollbackDecision, utcnow

MERGED = "merged"
CLOSED = "closed"

_PAIR = re.compile(r"\b([0-9a-f]{40}):([0-9a-f]{40})\b")


def revert_ended(database_url: str, repository_id: int, number: int, *, merged: bool) -> int:
    """Record that pull request `number` was merged or closed unmerged on every decision whose
    revert it was; returns how many decisions it was. A merge wins over an earlier close (a
    closed pull request can be reopened and merged), never the other way round."""
    with session_scope(database_url) as session:
        if not merged:
            session.execute(
                update(PullRequest)
                .where(
                    PullRequest.repository_id == repository_id,
                    PullRequest.number == number,
                    PullRequest.state == "open",
                )
                .values(state=CLOSED)
            )
        stmt = update(RollbackDecision).where(
            RollbackDecision.repository_id == repository_id,
            RollbackDecision.revert_pr_number == number,
        )
        if not merged:
            stmt = stmt.where(
                (RollbackDecision.revert_outcome.is_(None))
                | (RollbackDecision.revert_outcome != MERGED)
            )
        result = session.execute(
            stmt.values(revert_outcome=MERGED if merged else CLOSED, revert_closed_at=utcnow())
        )
        return int(getattr(result, "rowcount", 0) or 0)


def parse_pairs(text: str | None) -> list[tuple[str, str]]:
    """The (reverted, reverting) sha pairs a `reverted` run carries (webhooks/handlers/push.py);
    anything else in the text is ignored."""
    return [(m.group(1), m.group(2)) for m in _PAIR.finditer(text or "")]


def fixes_reverted(
    database_url: str, repository_id: int, pairs: list[tuple[str, str]]
) -> list[int]:
    """Mark each merged FixWurx fix whose merge commit a pushed commit reverted; returns the
    fixes' pull request numbers. The first revert seen is kept (a redelivery changes nothing)."""
    numbers: list[int] = []
    with session_scope(database_url) as session:
        for reverted, by in pairs:
            result = session.execute(
                update(PullRequest)
                .where(
                    PullRequest.repository_id == repository_id,
                    PullRequest.kind == "fix",
                    PullRequest.merge_sha == reverted,
                    PullRequest.reverted_by_sha.is_(None),
                )
                .values(reverted_by_sha=by, reverted_at=utcnow())
                .returning(PullRequest.number)
            )
            numbers.extend(int(n) for n in result.scalars())
    return numbers
