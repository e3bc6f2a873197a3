"""`fixwurx serve` as shipped (gunicorn, 2 workers x 4 threads), run as a real process.

- Slow clients (issue 22, item 8): 64 connections that send half a request header, or a header
  and part of the body, held every thread of gthread; `/healthz` and signed deliveries got no
  answer. They must still answer promptly, and an unfinished request is closed with 408 once
  its header or body timeout passes.
- Metrics with no settings (issue 23): each gunicorn worker kept its own counters, so after 6
  deliveries six scrapes read `0 0 0 6 0 6`. `serve` now makes its own multiprocess folder.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from tests.fakes import webhooks as fake
from tests.fakes.loopback import free_port, wait_for_port

pytestmark = pytest.mark.slow

SECRET = "serve-test-secret"
FIXWURX = str(Path(sys.executable).parent / "fixwurx")
HALF_HEADER = b"POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: applic"
#: What "promptly" means: GitHub gives a delivery 10 s; an idle server answers in milliseconds.
PROMPT_S = 3.0


def _serve(tmp_path: Path, redis_url: str, *args: str) -> Iterator[int]:
    from app.ops.migrate import upgrade

    database_url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    upgrade(database_url)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WEBHOOK_SECRET": SECRET,
        "SENTRY_DSN": "",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # "with no settings"
    env.pop("WEB_CONCURRENCY", None)
    proc = subprocess.Popen(
        [FIXWURX, "serve", "--port", str(port), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_for_port(port, 30.0, proc)
        time.sleep(0.5)  # both workers forked and polling
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
def served(tmp_path: Path, redis_url: str, redis_conn: Redis) -> Iterator[int]:
    yield from _serve(tmp_path, redis_url)


def _get(port: int, path: str, timeout: float = PROMPT_S) -> tuple[int, bytes]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as reply:
        return reply.status, reply.read()


def _deliver(port: int, delivery_id: str) -> int:
    sent = fake.delivery("issues", fake.labeled_issue(), SECRET, delivery_id)
    status, _ = fake.post(f"http://127.0.0.1:{port}/webhooks/github", sent, timeout=PROMPT_S)
    return int(status)


def _stall(port: int, count: int, data: bytes) -> list[socket.socket]:
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(data)
        held.append(sock)
    time.sleep(0.3)  # let every worker see them
    return held


@pytest.mark.parametrize(
    "stalled",
    [
        HALF_HEADER,
        b'POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n{"a"',
    ],
    ids=["half-header", "half-body"],
)
def test_64_slow_clients_do_not_stop_health_or_deliveries(served: int, stalled: bytes) -> None:
    held = _stall(served, 64, stalled)
    try:
        started = time.monotonic()
        assert _get(served, "/healthz")[0] == 200
        assert _deliver(served, "slow-clients-1") == 202
        assert time.monotonic() - started < PROMPT_S
    finally:
        for sock in held:
            sock.close()


def test_unfinished_requests_are_answered_408_and_chunked_ones_411(
    tmp_path: Path, redis_url: str, redis_conn: Redis
) -> None:
    for port in _serve(tmp_path, redis_url, "--header-timeout", "1", "--body-timeout", "2"):
        half_body = HALF_HEADER.replace(
            b"applic", b"application/json\r\nContent-Length: 9\r\n\r\n{"
        )
        chunked = HALF_HEADER.replace(b"applic", b"json\r\nTransfer-Encoding: chunked\r\n\r\n")
        for data, status, within in (
            (HALF_HEADER, b"408", 4),
            (half_body, b"408", 5),
            (chunked, b"411", 1),
        ):
            (sock,) = _stall(port, 1, data)
            sock.settimeout(8)
            started = time.monotonic()
            answer = sock.recv(1024)
            assert answer.startswith(b"HTTP/1.1 " + status), (data, answer)
            assert sock.recv(1024) == b""  # closed
            assert time.monotonic() - started < within
            sock.close()


def test_large_slow_bodies_cannot_grow_a_worker_without_bound(
    tmp_path: Path, redis_url: str, redis_conn: Redis
) -> None:
    """Requests still arriving hold at most --max-buffered-mb per worker; past it, 503."""
    for port in _serve(tmp_path, redis_url, "--workers", "1", "--max-buffered-mb", "1"):

        def header(length: int) -> bytes:
            start = b"POST /webhooks/github HTTP/1.1\r\nHost: x\r\n"
            return start + b"Content-Length: %d\r\n\r\n" % length

        # 1,000,000 bytes held for a body of 1,040,000: under the 1 MiB cap, still arriving.
        first = _stall(port, 1, header(1_040_000) + b"x" * 1_000_000)[0]
        # The next 60,000 bytes would pass the cap (read whole: nothing left to reset the 503).
        second = _stall(port, 1, header(100_000) + b"x" * 60_000)[0]
        second.settimeout(5)
        answer = second.recv(1024)
        assert answer.startswith(b"HTTP/1.1 503"), answer
        assert _get(port, "/healthz")[0] == 200
        first.close()
        second.close()
        # What was held is released: requests served one after another never add up to the cap.
        for _ in range(6):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(header(300_000) + b"x" * 300_000)
                status = sock.recv(1024).split(b"\r\n", 1)[0]
                assert status.startswith(b"HTTP/1.1 4"), status  # refused by the app, not 503


def test_serve_with_no_settings_shares_counters_across_its_workers(served: int) -> None:
    for n in range(6):
        assert _deliver(served, f"count-{n}") == 202
    reads = []
    for _ in range(6):
        _status, body = _get(served, "/metrics")
        total = sum(
            float(line.rsplit(" ", 1)[1])
            for line in body.decode().splitlines()
            if line.startswith('fixwurx_webhook_deliveries_total{event="issues"')
        )
        reads.append(total)
    assert reads == [6.0] * 6
