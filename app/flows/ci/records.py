"""The CI watch of each fix commit and its CI results, as small functions on ids.

A watch moves waiting -> acting -> success | failure | neutral | superseded; every move is a
conditional UPDATE on the state it leaves, so two deliveries about one commit (every suite
that finishes sends one) cannot both act on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import session_scope
from app.flows.ci.feedback import SuiteResult, conclusion_text
from app.models import CiResult, CiWatch, aware, utcnow

#: States after which nothing more happens to a watch (unless the check is re-requested).
FINAL_STATES = ("success", "failure", "neutral", "superseded")


@dataclass(frozen=True)
class WatchView:
    """A CI watch, detached from the session."""

    id: int
    repository_id: int
    run_id: int | None
    pr_number: int | None
    issue_number: int | None
    branch: str
    head_sha: str
    base_sha: str
    bundle_hash: str
    parent_bundle_hash: str | None
    revision: int
    check_run_id: int | None
    canary_run_id: int | None
    canary_nonce: str | None
    state: str
    reason: str | None
    deadline: dt.datetime
    acting_run_id: int | None = None


def _view(row: CiWatch) -> WatchView:
    deadline = aware(row.deadline)
    return WatchView(
        id=row.id,
        repository_id=row.repository_id,
        run_id=row.run_id,
        pr_number=row.pr_number,
        issue_number=row.issue_number,
        branch=row.branch,
        head_sha=row.head_sha,
        base_sha=row.base_sha,
        bundle_hash=row.bundle_hash,
        parent_bundle_hash=row.parent_bundle_hash,
        revision=row.revision,
        check_run_id=row.check_run_id,
        canary_run_id=row.canary_run_id,
        canary_nonce=row.canary_nonce,
        state=row.state,
        reason=row.reason,
        deadline=deadline,
        acting_run_id=row.acting_run_id,
    )


def create_watch(database_url: str, **fields: Any) -> WatchView:
    """Start watching a pushed fix commit; a second push of the same commit keeps the first."""
    with session_scope(database_url) as session:
        return add_watch(session, **fields)


def add_watch(session: Session, **fields: Any) -> WatchView:
    """`create_watch` inside the caller's session (the fix flow records its pull request, the
    watch and the audit line in one)."""
    found = session.scalars(
        select(CiWatch).where(
            CiWatch.repository_id == fields["repository_id"],
            CiWatch.head_sha == fields["head_sha"],
        )
    ).first()
    if found is not None:
        return _view(found)
    row = CiWatch(**fields)
    session.add(row)
    session.flush()
    return _view(row)


def load_watch(database_url: str, repository_id: int, head_sha: str) -> WatchView | None:
    """The watch of `head_sha` in the repository, if FixWurx pushed that commit."""
    with session_scope(database_url) as session:
        row = session.scalars(
            select(CiWatch).where(
                CiWatch.repository_id == repository_id, CiWatch.head_sha == head_sha
            )
        ).first()
        return _view(row) if row is not None else None


def watch_by_id(database_url: str, watch_id: int) -> WatchView | None:
    """The watch with id `watch_id`."""
    with session_scope(database_url) as session:
        row = session.get(CiWatch, watch_id)
        return _view(row) if row is not None else None


def move(
    database_url: str, watch_id: int, source: str | tuple[str, ...], target: str, **values: Any
) -> bool:
    """Move a watch from `source` (one state or several) to `target`; False when it had moved."""
    sources = (source,) if isinstance(source, str) else source
    if target in FINAL_STATES:
        values.setdefault("finished_at", utcnow())
    with session_scope(database_url) as session:
        result = session.execute(
            update(CiWatch)
            .where(CiWatch.id == watch_id, CiWatch.state.in_(sources))
            .values(state=target, **values)
        )
        return bool(getattr(result, "rowcount", 0) == 1)


def claim_watch(database_url: str, watch: WatchView, sources: tuple[str, ...], run_id: int) -> bool:
    """Move the watch to `acting` for run `run_id`; True too when that run had claimed it already.

    A run that dies between its claim and the end of its act (a killed worker, a GitHub outage
    the queue retries) is run again under the same id, and must be able to finish; any other
    run finds the commit decided.
    """
    if watch.state == "acting" and watch.acting_run_id == run_id:
        return True
    return move(database_url, watch.id, sources, "acting", acting_run_id=run_id)


def has_results(database_url: str, watch_id: int) -> bool:
    """Whether the CI results of this watch are recorded (a resumed act does not add them twice)."""
    with session_scope(database_url) as session:
        found = session.scalar(select(CiResult.id).where(CiResult.watch_id == watch_id).limit(1))
        return found is not None


def set_canary_run(database_url: str, watch_id: int, run_id: int) -> None:
    """Remember the canary's run id once it is known (from a nonce match)."""
    with session_scope(database_url) as session:
        session.execute(update(CiWatch).where(CiWatch.id == watch_id).values(canary_run_id=run_id))


def record_results(
    database_url: str,
    watch: WatchView,
    results: tuple[SuiteResult, ...],
    blamed: tuple[SuiteResult, ...],
) -> None:
    """One evidence entry per CI suite, tied to the watch's bundle hash."""
    with session_scope(database_url) as session:
        for suite in results:
            session.add(
                CiResult(
                    watch_id=watch.id,
                    bundle_hash=watch.bundle_hash,
                    head_sha=watch.head_sha,
                    kind=suite.kind,
                    name=suite.name[:255],
                    conclusion=conclusion_text(suite),
                    blamed=suite in blamed,
                    url=suite.url,
                    failing=list(suite.failing_tests),
                    excerpt=suite.excerpt,
                )
            )


def results_for_bundle(database_url: str, bundle_hash: str) -> list[dict[str, Any]]:
    """The CI evidence recorded for a bundle, oldest first, as plain data."""
    with session_scope(database_url) as session:
        rows = session.scalars(
            select(CiResult).where(CiResult.bundle_hash == bundle_hash).order_by(CiResult.id)
        )
        return [
            {
                "kind": r.kind,
                "name": r.name,
                "conclusion": r.conclusion,
                "blamed": r.blamed,
                "failing": list(r.failing or []),
                "head_sha": r.head_sha,
            }
            for r in rows
        ]


def lineage(database_url: str, repository_id: int, branch: str) -> list[WatchView]:
    """Every fix commit pushed to `branch`, oldest first: the first fix and its revisions."""
    with session_scope(database_url) as session:
        rows = session.scalars(
            select(CiWatch)
            .where(CiWatch.repository_id == repository_id, CiWatch.branch == branch)
            .order_by(CiWatch.id)
        )
        return [_view(r) for r in rows]
