"""Per-run limits: memory, CPU time and disk use of a whole sandboxed run, not of each process.

prlimit's limits bind each process on its own: four children of 100 MiB each passed a 128 MiB
`--as`, a tmpfs in RAM came on top, and nothing bounded what the run wrote into the work copy.
Where the host gives FixWurx a cgroup (cgroups.py), the kernel enforces the run's memory and
this watchdog only reads the group's OOM-kill counter. Elsewhere it measures, from `supervise`'s
loop:

- memory: what the run really holds, each page once. Per process the proportional share of its
  anonymous memory (smaps_rollup `Pss_Anon`: a page shared by 40 forked children counts 1/40 in
  each, where summing `RssAnon` counted it 40 times and stopped a 0.23 GiB suite as 2354 MiB);
  then every shared-memory object the run holds, once, at its allocated size: memfds (held
  through a descriptor or a mapping), MAP_SHARED anonymous mappings and SysV segments, none of
  which `RssAnon` shows; then the files in bubblewrap's RAM-backed /tmp and /dev/shm;
- CPU: user + system time of every live process of the run and of the children they reaped;
- disk: how much the run's writable places grew since the first sample, taken one interval
  after the command started: the work copy, the extra writable binds (build folders, caches),
  the fallback's private HOME, and the RAM-backed /tmp and /dev/shm.

The processes of a run are the command's descendants (inside bubblewrap that is its whole pid
namespace) and, in the fallback with its own uid, every process of that uid (a setsid daemon
leaves the tree but not the uid). Each measure is a sample, so a run can overshoot by what it
allocates between two samples; the per-process prlimit values stay as the backstop for that.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from app.sandbox.cgroups import RunCgroup
from app.sandbox.constants import DISK_WALK_SHARE, WATCH_INTERVAL_S
from app.sandbox.limit_settings import raise_hint

_MIB = 1024 * 1024
#: Mappings of shared memory that belongs to no file system a run can list: memfds, MAP_SHARED
#: anonymous memory (the kernel names it /dev/zero) and SysV segments. Files of a tmpfs are
#: counted once, by `ram_dirs`, not per process that maps them.
_SHMEM_NAMES = ("/memfd:", "/dev/zero (deleted)", "/SYSV")


@dataclass(frozen=True)
class Breach:
    """A per-run limit the run went over: `limit` is "memory", "cpu" or "disk"."""

    limit: str
    reason: str


def over_limit(limit: str, reason: str) -> Breach:
    """The breach, its reason ending with the setting that raises the limit (issue 25): the
    user who hits a limit learns which one, by how much, and what turns it up."""
    return Breach(limit, f"{reason}; {raise_hint(limit)}")


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
        processes: int | None = None,
    ) -> None:
        self.memory_mb = memory_mb
        #: The run's process limit, for its cgroup (prlimit binds it per uid as well).
        self.processes = processes
        self.cpu_seconds = cpu_seconds
        self.disk_mb = disk_mb
        self.paths = tuple(paths)
        self.uid = uid
        self.ram_dirs = tuple(ram_dirs)
        self.interval = WATCH_INTERVAL_S
        self._pid: int | None = None
        self._disk_start: int | None = None
        self._next_disk = 0.0
        self.cgroup: RunCgroup | None = None

    def start(self, pid: int, cgroup: RunCgroup | None = None) -> None:
        """Watch the run whose first process is `pid`; `cgroup` holds it when the host has one."""
        self._pid = pid
        self.cgroup = cgroup

    def check(self) -> str | None:
        """Sample now; a sentence naming the exceeded limit, or None."""
        breach = self.sample()
        return breach.reason if breach else None

    def sample(self) -> Breach | None:
        """Sample now; the first per-run limit exceeded, or None."""
        if self._pid is None:
            return None
        pids = self._run_pids(self._pid)
        breach = self._check_memory(pids)
        if breach is None and self.cpu_seconds is not None:
            spent = sum(_cpu_seconds(pid) for pid in pids)
            if spent > self.cpu_seconds:
                reason = (
                    f"the run used {spent:.0f} s of CPU time, over its limit of "
                    f"{self.cpu_seconds} s"
                )
                breach = over_limit("cpu", reason)
        return breach or self._check_disk()

    def after_exit(self) -> Breach | None:
        """The memory verdict once the run has ended: the kernel may have killed it in between."""
        if self.cgroup is not None and self.cgroup.oom_killed():
            return self._kernel_stop()
        return None

    def _check_memory(self, pids: set[int]) -> Breach | None:
        if self.cgroup is not None:  # the kernel counts every page and acts at the limit
            return self._kernel_stop() if self.cgroup.oom_killed() else None
        used = run_memory(pids) + self._ram_dirs_used()
        if used > self.memory_mb * _MIB:
            reason = (
                f"the run used {used // _MIB} MiB of memory across {len(pids)} processes, "
                f"over its limit of {self.memory_mb} MiB"
            )
            return over_limit("memory", reason)
        return None

    def _kernel_stop(self) -> Breach:
        assert self.cgroup is not None
        return over_limit(
            "memory",
            f"the kernel stopped the run at its memory limit of {self.memory_mb} MiB "
            f"(cgroup {self.cgroup.version} OOM kill)",
        )

    def _check_disk(self) -> Breach | None:
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
        # The private tmpfs mounts start empty with the run: all they hold is the run's.
        grown = used - self._disk_start + self._ram_dirs_used()
        if grown > self.disk_mb * _MIB:
            reason = (
                f"the run wrote {grown // _MIB} MiB into the work copy and its other writable "
                f"places, over its disk limit of {self.disk_mb} MiB"
            )
            return over_limit("disk", reason)
        return None

    def _run_pids(self, pid: int) -> set[int]:
        found = descendants(pid)
        if self.uid is not None:
            for proc in psutil.process_iter(["uids"]):
                uids = proc.info.get("uids")
                if uids is not None and uids.real == self.uid:
                    found.add(proc.pid)
        return found

    def _ram_dirs_used(self) -> int:
        """Bytes in the run's private tmpfs mounts, seen through a process in its namespace."""
        total = 0
        if self._pid is None:
            return 0
        for inside in self.ram_dirs:
            with contextlib.suppress(OSError):
                host = f"/proc/{_innermost(self._pid)}/root{inside}"
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


def run_memory(pids: Iterable[int]) -> int:
    """Bytes the processes `pids` hold together, each page once (see the module doc)."""
    anon = 0
    shared: dict[tuple[int, int], int] = {}
    for pid in pids:
        anon += _proportional_anon(pid, shared)
        _held_memfds(pid, shared)
    return anon + sum(shared.values())


def _proportional_anon(pid: int, shared: dict[tuple[int, int], int]) -> int:
    """`pid`'s share of its anonymous pages; its shared-memory objects go into `shared`.

    An object that cannot be sized through /proc/PID/map_files (which needs root) counts as the
    process's proportional shmem share instead.
    """
    rollup = _fields(f"/proc/{pid}/smaps_rollup")
    if "Pss_Anon" not in rollup:  # before Linux 5.0, or the process is gone
        return _fields(f"/proc/{pid}/status").get("RssAnon", 0)
    unsized = False
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        maps = ""
    for line in maps.splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) < 6 or not fields[5].startswith(_SHMEM_NAMES):
            continue
        major, minor = (int(part, 16) for part in fields[3].split(":"))
        key = (os.makedev(major, minor), int(fields[4]))
        if key in shared:
            continue
        try:
            shared[key] = os.stat(f"/proc/{pid}/map_files/{fields[0]}").st_blocks * 512
        except OSError:
            unsized = True
    return rollup["Pss_Anon"] + (rollup.get("Pss_Shmem", 0) if unsized else 0)


def _held_memfds(pid: int, shared: dict[tuple[int, int], int]) -> None:
    """Add the memfds `pid` holds open: written with write(2), they may be mapped nowhere."""
    with contextlib.suppress(OSError), os.scandir(f"/proc/{pid}/fd") as fds:
        for fd in fds:
            with contextlib.suppress(OSError):
                if os.readlink(fd.path).startswith("/memfd:"):
                    st = os.stat(fd.path)
                    shared.setdefault((st.st_dev, st.st_ino), st.st_blocks * 512)


def _fields(path: str) -> dict[str, int]:
    """The "Name:  N kB" lines of a /proc file, in bytes."""
    found: dict[str, int] = {}
    try:
        text = Path(path).read_bytes()
    except OSError:
        return found
    for line in text.splitlines():
        name, _, rest = line.partition(b":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == b"kB" and parts[0].isdigit():
            found[name.decode()] = int(parts[0]) * 1024
    return found


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
