"""How long a disk flush takes here: the wait every synchronously committed transaction pays.

Writes 8 KB and calls fdatasync (PostgreSQL's default `wal_sync_method` on Linux) in a loop, about
400 times a second, and prints the latency distribution and every flush over `--stall-ms`. Run it
next to the database's WAL (`--dir`, default the current directory; `SHOW data_directory` in psql
names it), idle and while `webhook_load.py --sync-commit` runs, to see whether flush stalls, not
CPU, set the acknowledgement tail (benchmarks/README.md, "Disk flushes").
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from loadgen import percentile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--dir", default=".", help="a directory on the disk to measure")
    parser.add_argument("--stall-ms", type=float, default=20.0, help="report flushes over this")
    args = parser.parse_args()
    latencies: list[float] = []
    with tempfile.NamedTemporaryFile(dir=args.dir, prefix="fixwurx-flush-") as probe:
        started = time.monotonic()
        while time.monotonic() - started < args.seconds:
            os.pwrite(probe.fileno(), b"x" * 8192, 0)
            before = time.perf_counter()
            os.fdatasync(probe.fileno())
            ms = 1000 * (time.perf_counter() - before)
            latencies.append(ms)
            if ms > args.stall_ms:
                print(f"{time.monotonic() - started:7.2f} s  flush took {ms:.1f} ms", flush=True)
            time.sleep(0.002)
    stalls = sum(ms > args.stall_ms for ms in latencies)
    print(
        f"{len(latencies)} flushes in {args.seconds:.0f} s: "
        f"p50 {percentile(latencies, 50):.2f} ms, p99 {percentile(latencies, 99):.2f} ms, "
        f"p99.9 {percentile(latencies, 99.9):.2f} ms, "
        f"max {max(latencies):.1f} ms; {stalls} over {args.stall_ms:.0f} ms"
    )


if __name__ == "__main__":
    main()
