"""The run tree is persisted (SQLite and PostgreSQL) and rendered with parents."""

from __future__ import annotations

from app import runs
from app.chain.lineage import RunRecorder, render_tree
from app.chain.state import CandidateSummary, RunState
from app.db import session_scope
from app.models import Attempt, CandidateRecord, PatchBundleRecord, Run, StageRun


def _run(database_url: str) -> int:
    with session_scope(database_url) as session:
        run = Run(kind="cli", trigger="test")
        session.add(run)
        session.flush()
        run_id = run.id
    assert runs.claim(database_url, run_id)  # the chain works on a running run
    return run_id


def test_attempts_stages_and_candidate_lineage(database_url: str) -> None:
    run_id = _run(database_url)
    recorder = RunRecorder(database_url, run_id)
    assert recorder.start_attempt() == 1
    state = RunState(source="/repo")
    state.done.append("reproduce")
    recorder.stage_done(state)
    state.candidates = [
        CandidateSummary("a", "llm:openai", "first try", False, "canary failed"),
        CandidateSummary("b", "llm:openai", "refined", True, "plausible (3 tests)", parent="a"),
    ]
    state.chosen = {"id": "b"}
    state.bundle = {"hash": "sha256:" + "0" * 64, "diff": "x"}
    state.finish("fixed", "plausible (3 tests)")
    recorder.finish(state)

    with session_scope(database_url) as session:
        attempt = session.query(Attempt).one()
        assert (attempt.number, attempt.status) == (1, "fixed")
        assert [s.stage for s in session.query(StageRun).all()] == ["reproduce"]
        first, second = session.query(CandidateRecord).order_by(CandidateRecord.id).all()
        assert second.parent_id == first.id and second.status == "chosen"
        assert session.query(PatchBundleRecord).one().run_id == run_id
        assert session.get_one(Run, run_id).stage == "reproduce"

    tree = render_tree(database_url, run_id)
    assert tree is not None
    lines = tree.splitlines()
    parent_line = next(line for line in lines if "first try" in line)
    child_line = next(line for line in lines if "refined" in line)
    indent = len(child_line) - len(child_line.lstrip())
    assert indent == len(parent_line) - len(parent_line.lstrip()) + 2
    assert "chosen" in child_line


def test_a_second_attempt_gets_the_next_number(database_url: str) -> None:
    run_id = _run(database_url)
    assert RunRecorder(database_url, run_id).start_attempt() == 1
    assert RunRecorder(database_url, run_id).start_attempt() == 2


def test_unknown_run(database_url: str) -> None:
    assert render_tree(database_url, 999) is None
