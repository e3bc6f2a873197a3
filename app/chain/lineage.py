"""The run tree: run -> attempts -> stage runs and candidates, each candidate with its parent.

The planner reports each stage as it starts (a `running` row with its real start time) and as it
ends (the same row, finished), and passes on its progress lines, so the dashboard shows a live
run's current stage: how long it has run, the candidates tried and found plausible so far, the
search budget. Every candidate a run tried (its source, its verdict and the candidate it
refined) stays on record. `fixwurx show RUN` prints this tree.

The recorder writes the lineage tables (attempts, stage runs, candidates, bundles) but never the
run row itself: the chain's state goes through `app.runs.save_state`, which writes it only while
the run is running and never touches the status or the lifecycle's bookkeeping. A stopped run
therefore stays stopped whatever the chain does, and the resume count survives every stage.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import runs
from app.chain.state import CandidateSummary, RunState
from app.db import session_scope
from app.models import Attempt, CandidateRecord, PatchBundleRecord, Run, StageRun, utcnow

#: Seconds between two writes of a live stage's progress (a candidate can take 50 ms).
PROGRESS_EVERY_S = 1.0
#: The summary the patch stage prints every few candidates and after each plausible one:
#: "12 tried, 1 plausible, 40 of 120 s" (app/chain/stages/patch.py).
_TRIED = re.compile(r"(\d+) tried, (\d+) plausible")


class RunRecorder:
    """Persists one attempt of a run as the planner goes: one session per stage boundary.

    Each boundary writes the stage run, the chain state (through `app.runs.save_state_in`) and,
    at the first boundary, the attempt row, in one transaction; the boundary that ends the chain
    also records the candidates, the bundle and the attempt's end, so `finish` then has nothing
    left to write. `running` says whether the last write found the run still running: the flow's
    stop check at a stage boundary, at no extra cost.
    """

    def __init__(
        self, database_url: str, run_id: int, *, status_comment_id: int | None = None
    ) -> None:
        self.database_url = database_url
        self.run_id = run_id
        self.attempt_id: int | None = None
        self.running = True
        #: The flow's status comment, not yet stored: written with the first state.
        self.status_comment_id = status_comment_id
        self._resume = False
        self._finished = False
        #: The stage now running: when it started, its row once a live write made one, and its
        #: live progress. Nothing is written at a stage's start (one session per boundary); a
        #: stage that runs longer than PROGRESS_EVERY_S shows itself through `progress`.
        self.stage_row: int | None = None
        self.stage_started_at = utcnow()
        self.live: dict[str, Any] = {}
        self._written_at = 0.0

    def stage_started(self, stage: str, budget_s: float | None = None) -> None:
        """Remember when `stage` started (its row, written at its end or by a live write,
        carries the real start time) and reset its live progress."""
        self.stage_row, self.stage_started_at = None, utcnow()
        self.live = {"stage": stage, "tried": 0, "plausible": 0, "budget_s": budget_s, "last": ""}
        self._written_at = time.monotonic()

    def progress(self, stage: str, message: str) -> None:
        """Count the candidates a live stage has tried; written at most every PROGRESS_EVERY_S
        (a time-driven write, like the heartbeat: the dashboard's view of a live stage)."""
        if not self.live:
            return
        tried = _TRIED.match(message) if stage == "verify" else None
        if tried is not None:
            self.live["tried"], self.live["plausible"] = int(tried.group(1)), int(tried.group(2))
        self.live["last"] = f"{stage}: {message}"[:300]
        if time.monotonic() - self._written_at >= PROGRESS_EVERY_S:
            self._write_live()

    def _write_live(self) -> None:
        self._written_at = time.monotonic()
        result = {k: v for k, v in self.live.items() if k != "stage"}
        with session_scope(self.database_url) as session:
            if self.attempt_id is None:
                self._open(session, self._resume)
            if self.stage_row is None:
                row = StageRun(
                    attempt_id=self.attempt_id,
                    stage=self.live["stage"],
                    status="running",
                    result=result,
                    started_at=self.stage_started_at,
                )
                session.add(row)
                session.flush()
                self.stage_row = row.id
            else:
                session.execute(
                    update(StageRun)
                    .where(StageRun.id == self.stage_row, StageRun.status == "running")
                    .values(result=result)
                )
            runs.set_stage_in(session, self.run_id, self.live["stage"])

    def start_attempt(self, *, resume: bool = False) -> int:
        """Open the next attempt of the run now; returns its number.

        With `resume`, the run's latest unfinished attempt (the one a dead worker left open) is
        continued instead, so a resumed run stays one attempt in the tree.
        """
        with session_scope(self.database_url) as session:
            return self._open(session, resume)

    def begin(self, *, resume: bool = False) -> None:
        """Open the attempt with the first stage boundary's write, not in a session of its own."""
        self._resume = resume

    def _open(self, session: Session, resume: bool) -> int:
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
        stage = state.done[-1] if state.done else "start"
        status = "ok" if state.status in ("running", "fixed") else state.status
        live = {k: v for k, v in self.live.items() if k != "stage"}
        result = {**live, "seconds": state.timings.get(stage, 0.0), "reason": state.reason}
        with session_scope(self.database_url) as session:
            if self.attempt_id is None:
                self._open(session, self._resume)
            row = session.get(StageRun, self.stage_row) if self.stage_row else None
            if row is None or row.stage != stage:  # no live write made it (or no start said)
                row = StageRun(attempt_id=self.attempt_id, stage=stage)
                if self.live.get("stage") == stage:
                    row.started_at = self.stage_started_at
                session.add(row)
            row.status, row.result, row.finished_at = status, result, utcnow()
            if state.next_stage() is None:  # the chain ends here: record its end in this write
                self._record_end(session, state)
            self.running = runs.save_state_in(
                session,
                self.run_id,
                stage,
                state.to_json(),
                status_comment_id=self.status_comment_id,
            )
        self.stage_row, self.live = None, {}
        if self.running:
            self.status_comment_id = None
        return self.running

    def finish(self, state: RunState) -> None:
        """Record the candidates (with parents), the bundle and the attempt's end (unless the
        last stage boundary already did)."""
        if self._finished:
            return
        with session_scope(self.database_url) as session:
            if self.attempt_id is None:
                self._open(session, self._resume)
            self._record_end(session, state)

    def _record_end(self, session: Session, state: RunState) -> None:
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
        self._finished = True


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


def _tried_order(record: CandidateRecord) -> int:
    return record.id  # rows are inserted in the order the run tried them


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
    # The number the live progress showed: the candidate's place in the order it was tried
    # (the row id is global across runs, and means nothing to the reader).
    number = {record.id: i for i, record in enumerate(sorted(candidates, key=_tried_order), 1)}
    lines: list[str] = []

    def walk(parent: int | None, depth: int) -> None:
        for record in children.get(parent, []):
            cost = f"  ${record.cost_usd:.4f}" if record.cost_usd else ""
            lines.append(
                f"    {'  ' * depth}candidate #{number[record.id]} [{record.source}] "
                f"{record.status}: {record.description}{cost}"
            )
            walk(record.id, depth + 1)

    walk(None, 0)
    return lines
