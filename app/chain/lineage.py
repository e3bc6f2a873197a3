"""The run tree: run -> attempts -> stage runs and candidates, each candidate with its parent.

The planner reports each finished stage here, so the database always shows how far a run got,
and every candidate a run tried — its source, its verdict and the candidate it refined — stays
on record. `fixwurx show RUN` prints this tree.

The recorder writes the lineage tables (attempts, stage runs, candidates, bundles) but never the
run row itself: the chain's state goes through `app.runs.save_state`, which writes it only while
the run is running and never touches the status or the lifecycle's bookkeeping. A stopped run
therefore stays stopped whatever the chain does, and the resume count survives every stage.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import runs
from app.chain.state import CandidateSummary, RunState
from app.db import session_scope
from app.models import Attempt, CandidateRecord, PatchBundleRecord, Run, StageRun, utcnow


class RunRecorder:
    """Persists one attempt of a run as the planner goes."""

    def __init__(self, database_url: str, run_id: int) -> None:
        self.database_url = database_url
        self.run_id = run_id
        self.attempt_id: int | None = None

    def start_attempt(self, *, resume: bool = False) -> int:
        """Open the next attempt of the run; returns its number.

        With `resume`, the run's latest unfinished attempt (the one a dead worker left open) is
        continued instead, so a resumed run stays one attempt in the tree.
        """
        with session_scope(self.database_url) as session:
            open_attempt = _open_attempt(session, self.run_id) if resume else None
            if open_attempt is not None:
                self.attempt_id = open_attempt.id
                return open_attempt.number
            number = _next_attempt_number(session, self.run_id)
            attempt = Attempt(run_id=self.run_id, number=number)
            session.add(attempt)
            session.flush()
            self.attempt_id = attempt.id
        return number

    def stage_done(self, state: RunState) -> bool:
        """Record the stage that just ended and persist the chain state.

        Returns False when the state was not persisted because the run is no longer running
        (stopped, or given up on by the sweeper): the caller should end the chain.
        """
        if self.attempt_id is None:
            self.start_attempt()
        stage = state.done[-1] if state.done else "start"
        with session_scope(self.database_url) as session:
            session.add(
                StageRun(
                    attempt_id=self.attempt_id,
                    stage=stage,
                    status="ok" if state.status in ("running", "fixed") else state.status,
                    result={"seconds": state.timings.get(stage, 0.0), "reason": state.reason},
                    finished_at=utcnow(),
                )
            )
        return runs.save_state(self.database_url, self.run_id, stage, state.to_json())

    def finish(self, state: RunState) -> None:
        """Record the candidates (with parents), the bundle and the attempt's end."""
        with session_scope(self.database_url) as session:
            ids = _record_candidates(session, self.attempt_id, state.candidates)
            if state.bundle is not None and state.chosen is not None:
                _record_bundle(session, self.run_id, state)
                chosen = ids.get(state.chosen["id"])
                if chosen is not None:
                    session.get_one(CandidateRecord, chosen).status = "chosen"
            attempt = session.get_one(Attempt, self.attempt_id)
            attempt.status, attempt.reason, attempt.finished_at = (
                state.status,
                state.reason,
                utcnow(),
            )


def _open_attempt(session: Session, run_id: int) -> Attempt | None:
    return session.scalars(
        select(Attempt)
        .where(Attempt.run_id == run_id, Attempt.finished_at.is_(None))
        .order_by(Attempt.number.desc())
    ).first()


def _next_attempt_number(session: Session, run_id: int) -> int:
    current = session.scalar(select(func.max(Attempt.number)).where(Attempt.run_id == run_id))
    return (current or 0) + 1


def _record_candidates(
    session: Session, attempt_id: int | None, candidates: list[CandidateSummary]
) -> dict[str, int]:
    ids: dict[str, int] = {}
    for summary in candidates:
        record = CandidateRecord(
            attempt_id=attempt_id,
            parent_id=ids.get(summary.parent) if summary.parent else None,
            source=summary.source,
            description=summary.description,
            status="plausible" if summary.plausible else "rejected",
            reason=summary.reason,
            tokens=summary.tokens,
            cost_usd=summary.cost_usd,
        )
        session.add(record)
        session.flush()
        ids[summary.id] = record.id
    return ids


def _record_bundle(session: Session, run_id: int, state: RunState) -> None:
    assert state.bundle is not None
    digest = state.bundle["hash"]
    if session.scalar(select(PatchBundleRecord.id).where(PatchBundleRecord.hash == digest)) is None:
        session.add(PatchBundleRecord(run_id=run_id, hash=digest, body=state.bundle))


def render_tree(database_url: str, run_id: int) -> str | None:
    """The run tree as indented text, or None when the run does not exist."""
    with session_scope(database_url) as session:
        run = session.get(Run, run_id)
        if run is None:
            return None
        lines = [
            f"run {run.id}  {run.kind}/{run.trigger}  {run.status}  {run.reason or ''}".rstrip()
        ]
        for attempt in run.attempts:
            lines.append(
                f"  attempt {attempt.number}  {attempt.status}  {attempt.reason or ''}".rstrip()
            )
            lines += [f"    stage {s.stage:<9} {s.status}" for s in attempt.stages]
            lines += _candidate_lines(attempt.candidates)
        lines += _trajectory_lines(run.state or {})
        return "\n".join(lines)


def _trajectory_lines(state: dict[str, Any]) -> list[str]:
    """The agent sessions of the run's last attempt: how each ended and what it ran."""
    from app.agents.agent.trajectory import summary_lines

    lines: list[str] = []
    for number, record in enumerate(state.get("trajectories") or [], 1):
        summary = summary_lines(record, max_commands=30)
        lines.append(f"  agent session {number}: {summary[0]}")
        lines += [f"    {line}" for line in summary[1:]]
    return lines


def _candidate_lines(candidates: list[CandidateRecord]) -> list[str]:
    children: dict[int | None, list[CandidateRecord]] = {}
    for record in candidates:
        children.setdefault(record.parent_id, []).append(record)
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for record in children.get(parent, []):
            cost = f"  ${record.cost_usd:.4f}" if record.cost_usd else ""
            lines.append(
                f"    {'  ' * depth}candidate {record.id} [{record.source}] {record.status}: "
                f"{record.description}{cost}"
            )
            walk(record.id, depth + 1)

    walk(None, 0)
    return lines
