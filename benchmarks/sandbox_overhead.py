"""Per-call overhead of each sandbox backend, against a bare subprocess.

The repair chain calls `app.sandbox.run` hundreds of times per repair, so what the sandbox adds
to each call matters. Each row times N calls of the same command, after one warm-up call (which
also pays bubblewrap's one-off probe), and prints min, median and 90th percentile in ms. On a
shared 2-core machine the median moves with the load; the min is the cost on an idle machine.

    .venv/bin/python benchmarks/sandbox_overhead.py [N]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from app.sandbox import run
from app.sandbox.backends import detect_bubblewrap

COMMANDS: dict[str, list[str]] = {
    "true": ["/bin/true"],
    "python -c pass": [sys.executable, "-c", "pass"],
}


def _time(call: Callable[[], object], n: int) -> tuple[float, float, float]:
    call()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return samples[0], statistics.median(samples), samples[int(0.9 * (n - 1))]


def _bare(argv: Sequence[str], cwd: Path) -> Callable[[], object]:
    return lambda: subprocess.run(argv, cwd=cwd, capture_output=True, check=False, timeout=30)


def _sandboxed(argv: Sequence[str], cwd: Path, backend: str) -> Callable[[], object]:
    def call() -> object:
        os.environ["FIXWURX_SANDBOX"] = backend
        result = run(argv, cwd, 30)
        if not result.ok:
            raise SystemExit(f"{backend} failed: {result}")
        return result

    return call


def main(n: int) -> None:
    backends = ["subprocess"]
    if detect_bubblewrap().usable:
        backends.insert(0, "bubblewrap")
    load = os.getloadavg()[0]
    print(f"sandbox overhead, {n} calls each (ms): min / median / p90  (load average {load:.1f})")
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        for label, argv in COMMANDS.items():
            base = _time(_bare(argv, cwd), n)
            print(f"{label:16} {'bare subprocess':16} {_row(base)}")
            for backend in backends:
                timing = _time(_sandboxed(argv, cwd, backend), n)
                added = timing[1] - base[1]
                print(f"{label:16} {backend:16} {_row(timing)}   (+{added:.2f} ms median)")


def _row(timing: tuple[float, float, float]) -> str:
    return " / ".join(f"{t:7.2f}" for t in timing)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)
