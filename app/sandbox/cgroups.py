"""One cgroup per sandboxed run, so the kernel counts and enforces its memory and processes.

The watchdog samples from user space: it can be outrun between two samples, and memory that no
process maps (a memfd written with write(2), a detached SysV segment) is easy to miss. A cgroup
charges every page the run touches (anonymous, shmem, memfd, tmpfs, page cache) to the run, and
the kernel's OOM killer acts at the limit with no sampling gap. So each run gets its own group:

- cgroup v2, where this process sits in a writable, delegated subtree with the memory and pids
  controllers (systemd `Delegate=yes`, or a container's own cgroup namespace): memory.max,
  memory.swap.max=0, memory.oom.group=1, pids.max, cpu.weight;
- else cgroup v1, where the memory hierarchy is writable (root on a hybrid host):
  memory.limit_in_bytes and memory.memsw.limit_in_bytes, pids.max, cpu.shares;
- else nothing, and the watchdog alone bounds memory (the documented fallback).

`FIXWURX_CGROUPS=off` forces the fallback (tests of the watchdog, or a host where creating
groups is not wanted). The first process of the run joins the group before it execs anything
(`launcher`: a shell writes its own pid to cgroup.procs, then execs the sandbox), so every
process of the run, bubblewrap included, is counted from its first page. At the end the group
is killed (cgroup.kill, else SIGKILL to every pid it lists) and removed.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import itertools
import os
import signal
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app.errors import SandboxError
from app.sandbox.tools import tool

#: "auto" (default): v2 where delegated, else v1 where writable, else none; "off": none.
CGROUPS_ENV_VAR = "FIXWURX_CGROUPS"
#: Name prefix of the groups FixWurx creates; the creator's pid follows, so a restarted worker
#: can tell its dead predecessor's leftovers from a live sibling's groups.
GROUP_PREFIX = "fixwurx-run-"
#: CPU weight of a run against its siblings (v2 cpu.weight, v1 cpu.shares): the default of one
#: ordinary group, so a run of 40 busy processes weighs as much as a run of one, and parallel
#: candidates share the cores evenly. (Half the default made a 1 s CPU limit take 5 s of wall
#: time on this busy shared host.)
CPU_WEIGHT_V2 = 100
CPU_SHARES_V1 = 1024
#: Seconds `close` keeps killing and retrying rmdir before it gives up on a group (the kernel
#: can take seconds to reclaim an OOM-killed run's memory on a loaded host).
REMOVE_WITHIN_S = 15.0
#: The v1 controllers used, in order of need: memory is required, the others are taken when
#: their hierarchy is mounted and writable.
V1_CONTROLLERS = ("memory", "pids", "cpu")

_MIB = 1024 * 1024
_serial = itertools.count()


@dataclass(frozen=True)
class Support:
    """What this host lets FixWurx do: `version` is "v2", "v1" or "none".

    `parents` maps each controller in force to the directory its run groups are created in
    (v2: one directory for all). `reason` says why a stronger option is not in force.
    """

    version: str
    parents: tuple[tuple[str, Path], ...] = ()
    reason: str = ""

    @property
    def controllers(self) -> tuple[str, ...]:
        """The controllers a run group gets, e.g. ("memory", "pids", "cpu")."""
        return tuple(name for name, _ in self.parents)

    def describe(self) -> str:
        """One line for `fixwurx doctor` and the worker's start-up log."""
        if self.version == "none":
            return f"none, the watchdog samples memory ({self.reason})"
        where = sorted({str(parent) for _, parent in self.parents})
        return f"{self.version} ({', '.join(self.controllers)}) under {', '.join(where)}"


def support() -> Support:
    """The enforcement in force for the next run (the env var is read every time)."""
    setting = os.environ.get(CGROUPS_ENV_VAR, "auto").strip().lower() or "auto"
    if setting == "off":
        return Support("none", reason=f"{CGROUPS_ENV_VAR}=off")
    if setting != "auto":
        raise SandboxError(
            f"{CGROUPS_ENV_VAR}={setting!r} is not a cgroup setting; use 'auto', 'off' or unset it"
        )
    return detect()


@functools.cache
def detect() -> Support:
    """Probe this host once per process: a real group is created and removed in each hierarchy."""
    mounts = _cgroup_mounts()
    own = _own_paths()
    why_not_v2 = "no cgroup v2 mount"
    if "" in mounts and "" in own:
        found = _try_v2(mounts[""], own[""])
        if isinstance(found, Support):
            return found
        why_not_v2 = found
    parents: list[tuple[str, Path]] = []
    for controller in V1_CONTROLLERS:
        if controller in mounts and controller in own:
            parent = _below(mounts[controller], own[controller])
            if _can_create_in(parent):
                parents.append((controller, parent))
    if parents and parents[0][0] == "memory":
        _sweep_stale(parent for _, parent in parents)
        return Support("v1", tuple(parents), f"cgroup v2: {why_not_v2}")
    return Support("none", reason=f"cgroup v2: {why_not_v2}; cgroup v1: no writable memory group")


def _try_v2(mount: tuple[str, str], own: str) -> Support | str:
    parent = _below(mount, own)
    try:
        available = (parent / "cgroup.controllers").read_text().split()
    except OSError as exc:
        return f"cannot read {parent}/cgroup.controllers: {exc.strerror}"
    if not {"memory", "pids"} <= set(available):
        return f"{parent} does not offer the memory and pids controllers (not delegated)"
    wanted = [c for c in ("memory", "pids", "cpu") if c in available]
    if not _enable_v2(parent, wanted):
        return f"cannot enable {', '.join(wanted)} for groups below {parent}"
    if not _can_create_in(parent):
        return f"{parent} is not writable (not delegated to this user)"
    _sweep_stale([parent])
    return Support("v2", tuple((c, parent) for c in wanted))


def _enable_v2(parent: Path, wanted: Sequence[str]) -> bool:
    """Turn the controllers on for children of `parent`.

    cgroup v2 lets only a group without processes of its own hand controllers to its children
    ("no internal processes"), and a delegated service or container starts inside its group.
    So when enabling fails with EBUSY, and the group holds only this process and its ancestors
    (a container's init, a service's main process), they move to a leaf `fixwurx-host` below
    it, as systemd's delegation guide and container init systems do, and we try again. A group
    shared with unrelated processes (a desktop terminal's scope) is left alone.
    """
    control = parent / "cgroup.subtree_control"
    try:
        if set(wanted) <= set(control.read_text().split()):
            return True
        line = " ".join(f"+{c}" for c in wanted)
        try:
            control.write_text(line)
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                return False
            members = [int(p) for p in (parent / "cgroup.procs").read_text().split()]
            if not set(members) <= _ancestry():
                return False
            leaf = parent / "fixwurx-host"
            leaf.mkdir(exist_ok=True)
            for pid in members:
                with contextlib.suppress(OSError):  # a process that exited meanwhile
                    (leaf / "cgroup.procs").write_text(str(pid))
            control.write_text(line)
        return True
    except OSError:
        return False


def _ancestry() -> set[int]:
    """This process and its ancestors, by /proc/PID/stat's parent field."""
    found: set[int] = set()
    pid = os.getpid()
    while pid > 0 and pid not in found:
        found.add(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return found


def _can_create_in(parent: Path) -> bool:
    probe = parent / f"{GROUP_PREFIX}{os.getpid()}-probe"
    try:
        probe.mkdir()
    except FileExistsError:
        pass
    except OSError:
        return False
    with contextlib.suppress(OSError):
        probe.rmdir()
    return True


def _cgroup_mounts() -> dict[str, tuple[str, str]]:
    """controller -> (mount point, mount root); "" names the v2 hierarchy."""
    found: dict[str, tuple[str, str]] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            fields = line.split()
            sep = fields.index("-")
            fstype, options = fields[sep + 1], fields[sep + 3].split(",")
            root, point = _unescape(fields[3]), _unescape(fields[4])
            if fstype == "cgroup2":
                found.setdefault("", (point, root))
            elif fstype == "cgroup":
                for option in options:
                    found.setdefault(option, (point, root))
    return found


def _own_paths() -> dict[str, str]:
    """controller -> this process's group path, from /proc/self/cgroup ("" for v2)."""
    own: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            for name in names.split(",") if names else [""]:
                own[name] = path
    return own


def _below(mount: tuple[str, str], own: str) -> Path:
    """The directory of group `own` in a hierarchy mounted at mount[0] from its mount[1]."""
    point, root = mount
    if root != "/" and (own == root or own.startswith(root + "/")):
        own = own[len(root) :]
    return Path(point, own.lstrip("/"))


def _unescape(field: str) -> str:
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")


def _sweep_stale(parents: Iterable[Path]) -> None:
    """Kill and remove groups left by a FixWurx process that no longer exists."""
    for parent in parents:
        with contextlib.suppress(OSError):
            for entry in parent.iterdir():
                creator = entry.name.removeprefix(GROUP_PREFIX).split("-")[0]
                if not entry.name.startswith(GROUP_PREFIX) or not creator.isdigit():
                    continue
                if int(creator) != os.getpid() and not Path(f"/proc/{creator}").exists():
                    _kill_and_remove([entry], within=1.0)


class RunCgroup:
    """The group of one run: created with its limits, joined by the launcher, then closed."""

    def __init__(self, found: Support, memory_mb: int, processes: int | None) -> None:
        self.version = found.version
        self.memory_mb = memory_mb
        name = f"{GROUP_PREFIX}{os.getpid()}-{next(_serial)}"
        self.dirs: dict[str, Path] = {}
        for controller, parent in found.parents:
            self.dirs.setdefault(controller, parent / name)
        self._made: list[Path] = []
        try:
            for path in dict.fromkeys(self.dirs.values()):
                path.mkdir()
                self._made.append(path)
            self._limit(memory_mb, processes)
        except OSError as exc:
            self.close()
            raise SandboxError(f"could not set up the run's cgroup: {exc}") from exc

    def _limit(self, memory_mb: int, processes: int | None) -> None:
        memory, pids = self.dirs["memory"], self.dirs.get("pids")
        cpu = self.dirs.get("cpu")
        limit = str(memory_mb * _MIB)
        most = "max" if processes is None else str(processes)
        if self.version == "v2":
            _write(memory / "memory.max", limit)
            _write(memory / "memory.swap.max", "0", optional=True)  # no swap to hide pages in
            _write(memory / "memory.oom.group", "1", optional=True)  # the run dies as one
            if pids:
                _write(pids / "pids.max", most)
            if cpu:
                _write(cpu / "cpu.weight", str(CPU_WEIGHT_V2), optional=True)
            return
        _write(memory / "memory.limit_in_bytes", limit)
        # memory+swap: without it a run past its limit is swapped out rather than stopped.
        _write(memory / "memory.memsw.limit_in_bytes", limit, optional=True)
        if pids:
            _write(pids / "pids.max", most)
        if cpu:
            _write(cpu / "cpu.shares", str(CPU_SHARES_V1), optional=True)

    @property
    def controllers(self) -> tuple[str, ...]:
        """The controllers this group has."""
        return tuple(self.dirs)

    def launcher(self, argv: Sequence[str]) -> list[str]:
        """`argv`, started by a shell that first joins this group (fails closed if it cannot).

        The group paths are arguments, never spliced into the script.
        """
        script = (
            'while [ "$1" != -- ]; do '
            'echo $$ > "$1/cgroup.procs" || { echo "fixwurx: cannot join cgroup $1" >&2; '
            'exit 126; }; shift; done; shift; exec "$@"'
        )
        joins = [str(p) for p in dict.fromkeys(self.dirs.values())]
        return [tool("sh"), "-c", script, "fixwurx-cgroup", *joins, "--", *argv]

    def oom_killed(self) -> bool:
        """Whether the kernel's OOM killer has killed a process of this group."""
        memory = self.dirs["memory"]
        if self.version == "v2":
            return _counter(memory / "memory.events", "oom_kill") > 0
        control = _read(memory / "memory.oom_control")
        if "oom_kill " in control:
            return _counter(memory / "memory.oom_control", "oom_kill") > 0
        # Kernels before 4.13 do not count kills: the limit was hit and could not be reclaimed.
        return "under_oom 1" in control or _read(memory / "memory.failcnt").strip() not in ("", "0")

    def peak_mb(self) -> int:
        """Highest memory use of the group so far, in MiB (0 when the kernel does not say)."""
        name = "memory.peak" if self.version == "v2" else "memory.max_usage_in_bytes"
        value = _read(self.dirs["memory"] / name).strip()
        return int(value) // _MIB if value.isdigit() else 0

    def pids(self) -> list[int]:
        """The processes in the group now."""
        found: set[int] = set()
        for path in self._made:
            found.update(int(p) for p in _read(path / "cgroup.procs").split())
        return sorted(found)

    def kill(self) -> None:
        """SIGKILL every process of the group (cgroup.kill on v2, else one by one)."""
        _kill(self._made)

    def close(self) -> None:
        """Kill what is left and remove the group's directories."""
        _kill_and_remove(self._made, within=REMOVE_WITHIN_S)
        self._made = [p for p in self._made if p.exists()]


def open_run_cgroup(memory_mb: int, processes: int | None) -> RunCgroup | None:
    """A group for one run with these limits, or None where the host offers none."""
    found = support()
    if found.version == "none":
        return None
    return RunCgroup(found, memory_mb, processes)


def _kill(dirs: Sequence[Path]) -> None:
    for path in dirs:
        kill_file = path / "cgroup.kill"
        if kill_file.exists():
            with contextlib.suppress(OSError):
                kill_file.write_text("1")
                continue
        for pid in _read(path / "cgroup.procs").split():
            with contextlib.suppress(OSError):
                os.kill(int(pid), signal.SIGKILL)


def _kill_and_remove(dirs: Sequence[Path], within: float) -> None:
    deadline = time.monotonic() + within
    for path in dirs:
        while path.exists():
            _kill(dirs)
            try:
                path.rmdir()
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    break  # left for the next start-up's sweep
                time.sleep(0.01)


def _write(path: Path, value: str, *, optional: bool = False) -> None:
    try:
        path.write_text(value)
    except OSError:
        if not optional:
            raise


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _counter(path: Path, name: str) -> int:
    for line in _read(path).splitlines():
        key, _, value = line.partition(" ")
        if key == name and value.strip().isdigit():
            return int(value)
    return 0
