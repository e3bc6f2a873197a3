"""Per-run limits: memory, CPU time and disk use of a whole sandboxed run, not of each process.

prlimit's limits bind each process on its own: four children of 100 MiB each passed a 128 MiB
`--as`, a tmpfs in RAM came on top, and nothing bounded what the run wrote into the work copy.
cgroup v2 would do this in the kernel, but hosts (and this one: cgroup v1, nothing delegated)
often do not delegate it to a worker, so a watchdog measures instead, from `supervise`'s loop:

- memory: the private (anonymous) resident memory of every process of the run, plus what the
  run keeps in bubblewrap's RAM-backed /tmp and /dev/shm;
- CPU: user + system time of every live process of the run and of the children they reaped;
- disk: how much the work copy (and the fallback's private HOME) grew since the first sample,
  taken one interval after the command started.

The processes of a run are the command's descendants (inside bubblewrap that is its whole pid
namespace) and, in the fallback with its own uid, every process of that uid (a setsid daemon
leaves the tree but not the uid). Each measure is a sample,
so a run can overshoot by what it allocates between two samples; the per-process prlimit values
stay as the backstop for that.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import psutil

from app.sandbox.constants import DISK_WALK_SHARE, WATCH_INTERVAL_S

_MIB = 1024 * 1024
#: The /proc/<pid>/status line that holds a process's private resident memory (files in a tmpfs
#: are counted once, by `ram_dirs`, not per process that maps them).
_ANON_FIELD = b"RssAnon:"


class Watchdog:
    """Samples one run; `check()` names the first per-run limit it exceeds, or returns None."""

    def __init__(
        self,
        *,
        memory_mb: int,
        cpu_seconds: int | None,
        disk_mb: int,
        paths: Sequence[Path],
        uid: int | None,
        ram_dirs: Sequence[str] = (),
    ) -> None:
        self.memory_mb = memory_mb
        self.cpu_seconds = cpu_seconds
        self.disk_mb = disk_mb
        self.paths = tuple(paths)
        self.uid = uid
        self.ram_dirs = tuple(ram_dirs)
        self.interval = WATCH_INTERVAL_S
        self._pid: int | None = None
        self._disk_start: int | None = None
        self._next_disk = 0.0

    def start(self, pid: int) -> None:
        """Watch the run whose first process is `pid`."""
        self._pid = pid

    def check(self) -> str | None:
        """Sample now; a sentence naming the exceeded limit, or None."""
        if self._pid is None:
            return None
        pids = self._run_pids(self._pid)
        used = sum(_private_memory(pid) for pid in pids) + self._ram_dirs_used(self._pid)
        if used > self.memory_mb * _MIB:
            return (
                f"the run used {used // _MIB} MiB of memory across {len(pids)} processes, "
                f"over its limit of {self.memory_mb} MiB"
            )
        if self.cpu_seconds is not None:
            spent = sum(_cpu_seconds(pid) for pid in pids)
            if spent > self.cpu_seconds:
                return (
                    f"the run used {spent:.0f} s of CPU time, over its limit of "
                    f"{self.cpu_seconds} s"
                )
        return self._check_disk()

    def _check_disk(self) -> str | None:
        now = time.monotonic()
        if now < self._next_disk:
            return None
        used = disk_usage(self.paths)
        spent = time.monotonic() - now
        # A big tree is walked less often, so the walk costs at most DISK_WALK_SHARE of a core.
        self._next_disk = now + max(self.interval, spent / DISK_WALK_SHARE)
        if self._disk_start is None:
            # The first sample is the reference: taken while the command starts rather than
            # before it, so a short call pays no walk at all (a 20k-file tree takes ~0.5 s).
            self._disk_start = used
            return None
        grown = used - self._disk_start
        if grown > self.disk_mb * _MIB:
            return (
                f"the run wrote {grown // _MIB} MiB into the work copy, over its limit of "
                f"{self.disk_mb} MiB"
            )
        return None

    def _run_pids(self, pid: int) -> set[int]:
        found = descendants(pid)
        if self.uid is not None:
            for proc in psutil.process_iter(["uids"]):
                uids = proc.info.get("uids")
                if uids is not None and uids.real == self.uid:
                    found.add(proc.pid)
        return found

    def _ram_dirs_used(self, pid: int) -> int:
        """Bytes in the run's private tmpfs mounts, seen through a process in its namespace."""
        total = 0
        for inside in self.ram_dirs:
            with contextlib.suppress(OSError):
                host = f"/proc/{_innermost(pid)}/root{inside}"
                if os.stat(host).st_dev == os.stat(inside).st_dev:
                    continue  # not mounted yet: this is still the host's own directory
                st = os.statvfs(host)
                total += (st.f_blocks - st.f_bfree) * st.f_frsize
        return total


def descendants(pid: int) -> set[int]:
    """`pid` and every process below it, from /proc/<pid>/task/*/children.

    Reading the run's own entries costs microseconds per process; psutil's `children()` scans
    every process on the machine (about 6 ms here), ten times a second.
    """
    found = {pid}
    todo = [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.scandir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                kids += [int(c) for c in Path(task.path, "children").read_text().split()]
    return kids


def _innermost(pid: int) -> int:
    """The deepest first child of `pid`: a process inside bubblewrap's namespaces."""
    while kids := _children(pid):
        pid = kids[0]
    return pid


def _private_memory(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_bytes()
    except OSError:
        return 0  # exited between listing and reading
    total = 0
    for line in status.splitlines():
        if line.startswith(_ANON_FIELD):
            total += int(line.split()[1]) * 1024
    return total


def _cpu_seconds(pid: int) -> float:
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system + times.children_user + times.children_system


def disk_usage(paths: Iterable[Path]) -> int:
    """Bytes allocated to the files under `paths` (links not followed, hard links counted once)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    stack = [str(p) for p in paths]
    while stack:
        top = stack.pop()
        with contextlib.suppress(OSError), os.scandir(top) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    st = entry.stat(follow_symlinks=False)
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    key = (st.st_dev, st.st_ino)
                    if key not in seen:
                        seen.add(key)
                        total += st.st_blocks * 512
    return total
