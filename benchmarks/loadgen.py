"""An open-loop HTTP/1.1 load generator on asyncio with keep-alive connections.

Requests are pre-serialised bytes (pre-signed bodies), sent on a fixed schedule (request i at
t0 + i / rate) over a bounded pool of persistent connections, so the generator costs a few tens of
microseconds per request and does not hide server slowness.

Latency is measured from the moment a request was *due* (its scheduled send time) to the moment
its full response has been read. Measuring from the moment it was written instead hides a stall
(coordinated omission): while the server is stuck, the requests that should have been sent wait
in the generator, and once it answers they go out late and come back fast. Against a server
with one 250 ms stall that way printed p99 7.4 ms; from the schedule it is over 100 ms.

Only 2xx answers count as served (`StageResult.ok`); any other status, a broken connection, and
a request not sent before the stage's deadline are errors (`StageResult.errors`).
"""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass, field


@dataclass
class Result:
    """One response: which request, its status, latency in seconds from when it was due, body."""

    index: int
    status: int
    latency: float
    body: bytes

    @property
    def ok(self) -> bool:
        """A 2xx answer; anything else is an error."""
        return 200 <= self.status < 300


@dataclass
class StageResult:
    """Everything one stage measured.

    `sent` is how many requests the stage was to send; `failed` counts those that got no
    response (a broken connection, or not sent before the deadline). Every request is in
    exactly one of `ok`, `rejected` (a non-2xx response) and `failed`.
    """

    rate: float
    sent: int = 0
    results: list[Result] = field(default_factory=list)
    failed: int = 0
    elapsed: float = 0.0

    @property
    def ok(self) -> list[Result]:
        """The 2xx responses: the only ones that count towards the rate and the latencies."""
        return [r for r in self.results if r.ok]

    @property
    def rejected(self) -> list[Result]:
        """The non-2xx responses (a fast 503 is not a served request)."""
        return [r for r in self.results if not r.ok]

    @property
    def errors(self) -> int:
        """Requests not served: non-2xx answers plus requests that got no answer at all."""
        return len(self.rejected) + self.failed

    @property
    def achieved_rate(self) -> float:
        """2xx answers per second of the stage."""
        return len(self.ok) / self.elapsed if self.elapsed else 0.0

    def latencies_ms(self) -> list[float]:
        """Latency of each 2xx answer from its scheduled send time, in milliseconds."""
        return [r.latency * 1000 for r in self.ok]


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
                out.failed += 1
                continue
            try:
                if reader is None or writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                writer.write(requests[index])
                status, body, keep_alive = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                out.failed += 1
                keep_alive = False
            else:
                # From when it was due, not when it was written (see the module docstring).
                out.results.append(
                    Result(index, status, time.perf_counter() - schedule[index], body)
                )
            if not keep_alive:  # an error, or a server without keep-alive (sync workers)
                if writer is not None:
                    writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


async def _run(
    host: str, port: int, requests: list[bytes], rate: float, connections: int, limit_s: float
) -> StageResult:
    out = StageResult(rate, sent=len(requests))
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
