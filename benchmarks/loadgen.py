"""An open-loop HTTP/1.1 load generator on asyncio with keep-alive connections.

Requests are pre-serialised bytes (pre-signed bodies), sent on a fixed schedule (request i at
t0 + i / rate) over a bounded pool of persistent connections, so the generator costs a few tens of
microseconds per request and does not hide server slowness: latency is measured from the moment a
request is written to the moment its full response has been read.
"""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass, field


@dataclass
class Result:
    """One response: which request, its status, latency in seconds, and the body."""

    index: int
    status: int
    latency: float
    body: bytes


@dataclass
class StageResult:
    """Everything one stage measured."""

    rate: float
    results: list[Result] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep_alive) of one response."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    keep_alive = True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"connection" and value.strip().lower() == b"close":
            keep_alive = False
    body = await reader.readexactly(length) if length else b""
    return status, body, keep_alive


async def _connection(
    host: str,
    port: int,
    requests: list[bytes],
    schedule: list[float],
    queue: asyncio.Queue[int],
    out: StageResult,
    deadline: float,
) -> None:
    # The connection opens when its first request is due, not before: gunicorn's gthread
    # worker gives a new connection a thread until its first bytes arrive (up to 5 s), so
    # connections opened early and idle would hold every thread while others queue.
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        while True:
            try:
                index = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            delay = schedule[index] - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if time.perf_counter() > deadline:
                out.errors += 1
                continue
            if reader is None or writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            sent = time.perf_counter()
            try:
                writer.write(requests[index])
                status, body, keep_alive = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                out.errors += 1
                keep_alive = False
            else:
                out.results.append(Result(index, status, time.perf_counter() - sent, body))
            if not keep_alive:  # an error, or a server without keep-alive (sync workers)
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


async def _run(
    host: str, port: int, requests: list[bytes], rate: float, connections: int, limit_s: float
) -> StageResult:
    out = StageResult(rate)
    start = time.perf_counter() + 0.2
    schedule = [start + i / rate for i in range(len(requests))]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(requests)):
        queue.put_nowait(index)
    deadline = start + limit_s
    tasks = [
        asyncio.create_task(_connection(host, port, requests, schedule, queue, out, deadline))
        for _ in range(connections)
    ]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=limit_s + 30)
    out.elapsed = time.perf_counter() - start
    return out


def run_stage(
    host: str,
    port: int,
    requests: list[bytes],
    rate: float,
    connections: int = 32,
    limit_s: float = 60.0,
) -> StageResult:
    """Send `requests` at `rate` per second; stop sending after `limit_s` seconds.

    The garbage collector is off while a stage runs: the generator holds thousands of requests
    and results, and a full collection would pause it for tens of milliseconds, adding that
    pause to every response in flight as if the server had been slow.
    """
    gc.collect()
    gc.disable()
    try:
        return asyncio.run(_run(host, port, requests, rate, connections, limit_s))
    finally:
        gc.enable()


def http_request(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """A complete keep-alive HTTP/1.1 POST as bytes."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() != "content-length"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def percentile(values: list[float], pct: float) -> float:
    """The `pct` percentile (nearest rank) of `values`; 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]
