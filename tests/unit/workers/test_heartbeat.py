"""The heartbeat keeps a running run fresh and stops on its own once the run is over."""

from __future__ import annotations

import time

from app import runs
from app.config import Settings
from app.db import session_scope
from app.models import Run
from tests.unit.workers.conftest import new_run
from workers.heartbeat import Heartbeat


def beat_of(settings: Settings, run_id: int) -> object:
    with session_scope(settings.database_url) as session:
        run = session.get(Run, run_id)
        assert run is not None
        return run.heartbeat_at


def test_heartbeat_refreshes_while_running_and_stops_after_finish(settings: Settings) -> None:
    run_id = new_run(settings)
    runs.claim(settings.database_url, run_id)
    claimed_at = beat_of(settings, run_id)
    with Heartbeat(settings.database_url, run_id, interval=0.05) as beat:
        deadline = time.monotonic() + 5
        while beat.beats < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert beat.beats >= 2
        assert beat_of(settings, run_id) != claimed_at
        runs.finish(settings.database_url, run_id, "fixed")
        time.sleep(0.2)
        stopped_at = beat.beats
        time.sleep(0.2)
        assert beat.beats == stopped_at  # the run is over: no more beats
    assert not beat._thread.is_alive()
