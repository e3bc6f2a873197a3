"""A real worker process sweeps on its interval while idle, and logs how each run ended."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from rq import Worker
from sqlalchemy import update

from app import runs
from app.db import session_scope
from app.models import Run
from app.ops.migrate import upgrade
from tests.conftest import ROOT
from tests.unit.workers.conftest import make_settings, new_run
from workers.worker import SWEEP_INTERVAL_ENV, sweep_interval


def start_worker(database_url: str, redis_url: str, log: Path, interval: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT),
        SWEEP_INTERVAL_ENV: interval,
        "LOG_LEVEL": "INFO",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "workers"], cwd=ROOT, env=env, stderr=log.open("wb")
    )


def stop_worker(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def wait_until_idle(connection: Redis, timeout: float = 30) -> None:
    """The worker registered and is blocked in its dequeue (idle)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        workers = Worker.all(connection=connection)
        if workers and all(w.get_state() == "idle" for w in workers):
            return
        time.sleep(0.1)
    raise AssertionError("the worker never became idle")


@pytest.fixture
def worker_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'worker.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def idle_worker(
    worker_db: str, redis_url: str, redis_conn: Redis, tmp_path: Path
) -> Iterator[Path]:
    log = tmp_path / "worker.log"
    proc = start_worker(worker_db, redis_url, log, "1")
    try:
        wait_until_idle(redis_conn)
        time.sleep(1.5)  # past the start-up sweep and the first timer tick
        yield log
    finally:
        stop_worker(proc)


def lost_enqueue(settings_url: str, redis_url: str) -> int:
    """A run committed long enough ago whose enqueue never reached Redis."""
    run_id = new_run(make_settings(settings_url, redis_url))
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=runs.ENQUEUE_GRACE_S + 5)
    with session_scope(settings_url) as session:
        session.execute(update(Run).where(Run.id == run_id).values(created_at=past))
    return run_id


def test_an_idle_worker_sweeps_on_its_interval_and_logs_the_run_outcome(
    idle_worker: Path, worker_db: str, redis_url: str, redis_conn: Redis
) -> None:
    run_id = lost_enqueue(worker_db, redis_url)
    deadline = time.monotonic() + 20
    while runs.status_of(worker_db, run_id) in ("queued", "running"):
        # an idle RQ worker blocks 405 s in dequeue_any: a tick-driven sweep never came here
        assert time.monotonic() < deadline, idle_worker.read_text(errors="replace")[-4000:]
        time.sleep(0.2)
    status = runs.status_of(worker_db, run_id)
    assert status == "failed"  # no GitHub App configured: the flow cannot run it
    text = ""
    while f"run {run_id}: failed" not in text and time.monotonic() < deadline:
        time.sleep(0.2)
        text = idle_worker.read_text(errors="replace")
    assert f"run {run_id}: failed: " in text, text[-3000:]
    assert "Job OK" not in text and "Successfully completed" not in text  # not for a failed run


def test_the_interval_setting_names_the_fix_when_bad(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SWEEP_INTERVAL_ENV, "soon")
    with pytest.raises(ValueError, match=r"FIXWURX_SWEEP_INTERVAL_S='soon'.*unset it"):
        sweep_interval()
    monkeypatch.setenv(SWEEP_INTERVAL_ENV, "2.5")
    assert sweep_interval() == 2.5
    monkeypatch.delenv(SWEEP_INTERVAL_ENV)
    assert sweep_interval() == 60
