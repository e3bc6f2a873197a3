"""CLI runs and the sweeper share a database: the sweeper touches only runs with a queue job."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select

from app import runs
from app.db import session_scope
from app.models import CLI_KIND, Run
from app.runs.sweep import end_abandoned_cli_runs
from tests.unit.runs.test_runs import FakeQueue, age


def cli_run(url: str, status: str = "queued", owner: str | None = None) -> int:
    with session_scope(url) as session:
        run = Run(kind=CLI_KIND, trigger="fixwurx fix", status=status, owner=owner)
        session.add(run)
        session.flush()
        return run.id


def test_the_sweeper_leaves_a_running_cli_run_alone(database_url: str) -> None:
    run_id = cli_run(database_url)
    assert runs.claim(database_url, run_id)
    age(database_url, run_id, runs.STALE_AFTER_S + runs.ENQUEUE_GRACE_S + 60)
    queue = FakeQueue()  # no job at all: a queue run in this state is abandoned
    assert runs.sweep(database_url, queue.job_state, queue.enqueue) == runs.SweepReport()
    assert runs.status_of(database_url, run_id) == "running"
    assert queue.enqueued == []


def test_the_sweeper_does_not_enqueue_a_queued_cli_run(database_url: str) -> None:
    run_id = cli_run(database_url)
    age(database_url, run_id, runs.ENQUEUE_GRACE_S + 60)
    queue = FakeQueue()
    assert runs.sweep(database_url, queue.job_state, queue.enqueue).enqueued == []
    assert queue.enqueued == []


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_cli_run_whose_process_is_gone_is_failed_by_the_next_cli_call(database_url: str) -> None:
    dead = cli_run(database_url, owner=f"here:{_dead_pid()}")
    live = cli_run(database_url, owner=f"here:{os.getpid()}")
    elsewhere = cli_run(database_url, owner=f"there:{_dead_pid()}")
    for run_id in (dead, live, elsewhere):
        assert runs.claim(database_url, run_id)
    alive = {os.getpid()}
    assert end_abandoned_cli_runs(database_url, "here", lambda pid: pid in alive) == [dead]
    assert runs.status_of(database_url, dead) == "failed"
    assert runs.status_of(database_url, live) == "running"
    assert runs.status_of(database_url, elsewhere) == "running"  # another host's process
    with session_scope(database_url) as session:
        reason = session.scalar(select(Run.reason).where(Run.id == dead))
    assert "ended without recording an end" in (reason or "")
