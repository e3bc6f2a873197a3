"""The watchdog on its own: what it counts as the run, and where its disk reference is taken."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from app.sandbox.watchdog import Watchdog, descendants, disk_usage

_MIB = 1024 * 1024


def _watch(work: Path, disk_mb: int) -> Watchdog:
    return Watchdog(memory_mb=1024, cpu_seconds=None, disk_mb=disk_mb, paths=[work], uid=None)


def _until_stopped(dog: Watchdog, within: float = 10.0) -> str | None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        reason = dog.check()
        if reason is not None:
            return reason
        time.sleep(dog.interval)
    return None


def test_disk_growth_is_measured_from_the_first_sample_not_from_empty(work: Path) -> None:
    (work / "big-before.bin").write_bytes(b"x" * (8 * _MIB))  # more than the limit, already there
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        dog = _watch(work, disk_mb=2)
        dog.start(sleeper.pid)
        assert dog.check() is None  # the reference sample: the 8 MiB already there is not growth
        assert _until_stopped(dog, within=0.5) is None
        (work / "grown.bin").write_bytes(b"y" * (4 * _MIB))
        reason = _until_stopped(dog)
        assert reason is not None and "wrote 4 MiB into the work copy" in reason
    finally:
        sleeper.kill()
        sleeper.wait()


def test_descendants_follow_the_whole_tree(work: Path) -> None:
    script = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(30)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    grandchild = None
    try:
        assert parent.stdout is not None
        grandchild = int(parent.stdout.readline())
        assert descendants(parent.pid) == {parent.pid, grandchild}
    finally:
        if grandchild is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(grandchild, signal.SIGKILL)
        parent.kill()
        parent.wait()


def test_disk_usage_counts_hard_links_once_and_follows_no_link(work: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"o" * (4 * _MIB))
    (work / "a.bin").write_bytes(b"a" * _MIB)
    (work / "b.bin").hardlink_to(work / "a.bin")
    (work / "link").symlink_to(outside)
    assert _MIB <= disk_usage([work]) < 2 * _MIB
