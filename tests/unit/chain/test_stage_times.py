"""A stage's row is written when it starts and finished when it ends: real durations, live view."""

from __future__ import annotations

import time

import pytest

from app.chain import lineage
from app.chain.lineage import RunRecorder
from app.chain.state import RunState
from app.dashboard import queries
from app.db import session_scope
from app.models import Run, StageRun
from tests.unit.chain.test_lineage import _run


def test_a_stage_row_starts_live_and_ends_with_its_real_duration(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lineage, "PROGRESS_EVERY_S", 0.0)
    run_id = _run(database_url)
    recorder = RunRecorder(database_url, run_id)
    recorder.start_attempt()
    recorder.stage_started("patch", 300.0)
    recorder.progress("patch", "trying templates")
    recorder.progress("verify", "#2 off by one: plausible")  # the patch stage's own lines
    recorder.progress("verify", "2 tried, 1 plausible, 4 of 300 s")
    with session_scope(database_url) as session:
        live = session.query(StageRun).one()
        assert (live.stage, live.status, live.finished_at) == ("patch", "running", None)
        assert live.result["tried"] == 2 and live.result["plausible"] == 1
        assert live.result["budget_s"] == 300.0
        assert session.get_one(Run, run_id).stage == "patch"
        detail = queries.run_detail(session, run_id)
        assert detail is not None and detail.stages[0].seconds is None  # still running
    time.sleep(0.3)
    state = RunState(source="/repo")
    state.done.append("patch")
    state.timings["patch"] = 0.3
    recorder.stage_done(state)
    with session_scope(database_url) as session:
        (row,) = session.query(StageRun).all()  # the same row, finished: not a second one
        assert row.status == "ok" and row.finished_at is not None
        detail = queries.run_detail(session, run_id)
        assert detail is not None
        seconds = detail.stages[0].seconds
        assert seconds is not None and seconds >= 0.3
