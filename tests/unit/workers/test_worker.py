"""The real worker: priority order, a killed work horse, SIGTERM warm shutdown, Sentry scrubbing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue, SimpleWorker, Worker

from app import runs
from app.config import Settings
from tests.conftest import ROOT
from tests.fakes.loopback import free_port
from tests.unit.workers.conftest import FakeFlow, install_flow, make_settings, new_run
from workers import queues, sweeper
from workers.worker import build


def test_worker_takes_high_priority_jobs_first(
    settings: Settings, redis_conn: Redis, flow: FakeFlow
) -> None:
    ci = new_run(settings, "d-1", kind="ci", head_sha="abc")
    fix = new_run(settings, "d-2")
    status = new_run(settings, "d-3", kind="command", command="status")
    queues.enqueue_run(redis_conn, ci, "ci")
    queues.enqueue_run(redis_conn, fix, "issue")
    queues.enqueue_run(redis_conn, status, "command", "status")
    build(settings, redis_conn, SimpleWorker).work(burst=True)
    assert [run_id for run_id, _ in flow.calls] == [status, fix, ci]


def test_a_killed_work_horse_leaves_a_run_the_sweeper_resumes(
    database_url: str,
    redis_url: str,
    redis_conn: Redis,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On both databases: the work horse is a fork, so this also covers fork-safe sessions."""
    settings = make_settings(database_url, redis_url)
    flow = install_flow(settings, monkeypatch)
    run_id = new_run(settings)
    died_once = tmp_path / "died-once"

    def die_first_time(_rid: int) -> None:
        # Like an OOM kill: no exception handler, no finally block runs. The work horse is a
        # fork, so the "already died" memory has to live outside the process.
        if not died_once.exists():
            died_once.touch()
            os.kill(os.getpid(), signal.SIGKILL)

    flow.steps.extend([die_first_time, die_first_time])
    queues.enqueue_run(redis_conn, run_id, "issue")
    build(settings, redis_conn, Worker).work(burst=True)
    assert runs.status_of(settings.database_url, run_id) == "running"
    report = sweeper.sweep(settings, redis_conn)
    assert report.resumed == [run_id]
    assert queues.job_state(redis_conn, run_id) == "queued"
    build(settings, redis_conn, Worker).work(burst=True)
    assert runs.status_of(settings.database_url, run_id) == "done"


def test_sigterm_lets_the_current_job_finish(
    redis_url: str, redis_conn: Redis, tmp_path: Path
) -> None:
    queue = Queue(queues.DEFAULT, connection=redis_conn, serializer=queues.SERIALIZER)
    job = queue.enqueue("tests.unit.workers.slow_job.sleep_and_mark", str(tmp_path), 2.0)
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "workers"], cwd=ROOT, env=env, stderr=subprocess.PIPE
    )
    try:
        _wait_for(tmp_path / "started", 20)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0
    assert (tmp_path / "finished").exists()
    job.refresh()
    assert job.get_status() == "finished"


def _wait_for(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


class _Collector(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            raw = zlib.decompress(raw, 16 + zlib.MAX_WBITS)
        self.bodies.append(raw)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_args: object) -> None:
        pass


def test_worker_sentry_events_are_scrubbed(tmp_path: Path) -> None:
    import sentry_sdk

    from app.observability import init_sentry

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = "whsec-do-not-leak-1234"
    token = "ghs_" + "B" * 36
    try:
        assert init_sentry(f"http://publickey@127.0.0.1:{port}/1", [secret], "worker")
        try:
            raise RuntimeError(f"push failed with {token} and {secret}")
        except RuntimeError as exc:
            sentry_sdk.capture_exception(exc)
        sentry_sdk.flush(5)
    finally:
        sentry_sdk.init()  # no DSN: disable again for the rest of the session
        server.shutdown()
    sent = b"".join(_Collector.bodies)
    assert b"push failed with" in sent
    assert token.encode() not in sent and secret.encode() not in sent
    assert json.dumps("[redacted]").encode()[1:-1] in sent
