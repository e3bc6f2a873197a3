"""The watchdog on its own: what it counts as the run, and where its disk reference is taken."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from app.sandbox.watchdog import Watchdog, descendants, disk_usage, run_memory

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


SHARERS = """
import os, sys, time
block = bytearray(230 * 1024 * 1024)
for off in range(0, len(block), 4096):
    block[off] = 1
for _ in range(84):
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
print("forked", flush=True)
time.sleep(60)
"""


def _rss_anon_sum(pids: set[int]) -> int:
    """What the watchdog summed before: RssAnon of every process."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("RssAnon:"):
                    total += int(line.split()[1]) * 1024
    return total


def test_forked_children_count_their_shared_pages_once() -> None:
    """85 processes sharing one 230 MiB allocation hold ~0.23 GiB, not 85 x 230 MiB."""
    parent = subprocess.Popen([sys.executable, "-c", SHARERS], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline() == "forked\n"
        pids = descendants(parent.pid)
        assert len(pids) == 85
        counted, summed = run_memory(pids), _rss_anon_sum(pids)
        print(
            f"85 processes: run_memory {counted // _MIB} MiB, RssAnon summed {summed // _MIB} MiB"
        )
        assert 230 * _MIB <= counted < 400 * _MIB, counted // _MIB
        assert summed > 2048 * _MIB  # what stopped a healthy suite before
    finally:
        _kill_tree(parent)


HIDDEN = """
import mmap, os, time
memfd = os.memfd_create("hidden")
os.write(memfd, b"m" * (64 * 1024 * 1024))  # written, never mapped
shared = mmap.mmap(-1, 64 * 1024 * 1024, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
shared.write(b"s" * (64 * 1024 * 1024))
mapped = os.memfd_create("mapped")
os.ftruncate(mapped, 32 * 1024 * 1024)
view = mmap.mmap(mapped, 32 * 1024 * 1024)
view.write(b"v" * (32 * 1024 * 1024))
os.close(mapped)  # held through the mapping alone
for _ in range(3):  # three children map the same shared objects
    if os.fork() == 0:
        time.sleep(60)
        os._exit(0)
print("ready", flush=True)
time.sleep(60)
"""


def test_memfd_and_shared_anonymous_memory_count_once_each() -> None:
    parent = subprocess.Popen([sys.executable, "-c", HIDDEN], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline() == "ready\n"
        pids = descendants(parent.pid)
        counted = run_memory(pids)
        assert len(pids) == 4
        # 64 + 64 + 32 MiB of shared memory, once, plus four small interpreters.
        assert 160 * _MIB <= counted < 260 * _MIB, counted // _MIB
        assert _rss_anon_sum(pids) < 100 * _MIB  # none of it is in RssAnon
    finally:
        _kill_tree(parent)


def _kill_tree(parent: subprocess.Popen[str]) -> None:
    for pid in descendants(parent.pid) - {parent.pid}:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    parent.kill()
    parent.wait()
