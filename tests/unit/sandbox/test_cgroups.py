"""The run's cgroup: made before the command runs, holding its limits, gone when the run ends.

These need a cgroup this host lets FixWurx create (cgroup v1 as root here and in CI; a delegated
v2 subtree elsewhere): in CI they fail rather than skip without one (conftest.require_cgroups).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.sandbox import Limits, run
from app.sandbox.api import SandboxResult
from app.sandbox.cgroups import (
    CGROUPS_ENV_VAR,
    GROUP_PREFIX,
    Support,
    detect,
    open_run_cgroup,
    support,
)
from tests.unit.sandbox.conftest import processes_with, require_cgroups, wait_gone

#: Forks until the kernel refuses, says how many it made, then holds them all.
FORK_UNTIL_REFUSED = """
import os, sys, time
made = 0
for _ in range(200):  # bounded even if every limit failed
    try:
        pid = os.fork()
    except OSError as exc:
        print("refused errno", exc.errno, "after", made, flush=True)
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    made += 1
open("ready", "w").close()
time.sleep(30)
"""


def _group_dirs(pid: int) -> dict[str, Path]:
    """controller -> the host directory of `pid`'s group, for the controllers FixWurx uses."""
    found = detect()
    dirs: dict[str, Path] = {}
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        for controller, parent in found.parents:
            wanted = controller if found.version == "v1" else ""
            if wanted in (names.split(",") if names else [""]) and GROUP_PREFIX in path:
                dirs[controller] = parent / Path(path).name
    return dirs


def _watch_while_running(
    argv: list[str], work: Path, marker: str, limits: Limits, timeout: float
) -> tuple[SandboxResult, dict[str, Path], dict[str, str]]:
    """Run `argv`; once it wrote `ready`, read its groups' files from the host; then kill it."""
    seen: dict[str, str] = {}
    dirs: dict[str, Path] = {}
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(run, argv, work, timeout, limits=limits)
        deadline = time.monotonic() + timeout
        while not (work / "ready").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = processes_with(marker)
        assert pids, "the command never started"
        dirs = _group_dirs(pids[0])
        for controller, path in dirs.items():
            for name in os.listdir(path):
                if name.startswith(("memory.limit_in_bytes", "memory.max", "pids.", "cpu.")):
                    seen[f"{controller}/{name}"] = (path / name).read_text().strip()
            for pid in pids:  # every process of the command is in the group
                assert str(pid) in (path / "cgroup.procs").read_text().split()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        result = future.result()
    return result, dirs, seen


def test_each_run_is_in_its_own_group_with_its_limits_and_the_group_goes(
    backend: str, cgroups: str, work: Path, marker: str
) -> None:
    limits = Limits(memory_mb=700, processes=40)
    hold = "import time; open('ready', 'w').close(); time.sleep(30)"
    result, dirs, seen = _watch_while_running(
        [sys.executable, "-c", hold, marker], work, marker, limits, 30
    )
    assert set(dirs) >= {"memory", "pids"}, (dirs, detect())
    memory_key = "memory/memory.max" if cgroups == "v2" else "memory/memory.limit_in_bytes"
    assert seen[memory_key] == str(700 * 1024 * 1024), seen
    assert seen["pids/pids.max"] == "40", seen
    assert result.returncode != 0
    assert all(not path.exists() for path in dirs.values()), dirs  # removed at the end
    assert wait_gone(marker) == []


def test_the_process_limit_binds_in_the_group(
    bwrap: str, cgroups: str, work: Path, marker: str
) -> None:
    """The group refuses the fork (pids.events counts it), not only the uid's RLIMIT_NPROC."""
    limits = Limits(processes=24)
    result, dirs, seen = _watch_while_running(
        [sys.executable, "-c", FORK_UNTIL_REFUSED, marker], work, marker, limits, 30
    )
    assert "refused errno 11" in result.stdout, result
    made = int(result.stdout.split("after")[1].split()[0])
    assert made < 24
    events = dict(line.split() for line in seen["pids/pids.events"].splitlines())
    assert int(events["max"]) >= 1, seen  # the group's own refusal
    assert all(not path.exists() for path in dirs.values())
    assert wait_gone(marker) == []


def test_the_group_is_gone_after_a_kernel_oom_kill(backend: str, cgroups: str, work: Path) -> None:
    before = _fixwurx_groups()
    hold = (
        "import os, time\n"
        "fds = [os.memfd_create('m') for _ in range(4)]\n"
        "for fd in fds:\n"
        "    os.write(fd, b'x' * (192 * 1024 * 1024))\n"
        "print('held', flush=True)\n"
        "time.sleep(5)\n"
    )
    result = run([sys.executable, "-c", hold], work, 30, limits=Limits(memory_mb=512))
    assert result.stopped == "memory", result
    assert result.stop_reason is not None and "OOM" in result.stop_reason
    assert "raise it with FIXWURX_SANDBOX_MEMORY_MB" in result.stop_reason
    assert result.peak_mb >= 300, result.peak_mb  # the kernel's count, up to the kill
    assert _fixwurx_groups() <= before  # this run's group is gone (an older one may go too)


def test_cgroups_off_leaves_the_watchdog_alone(monkeypatch: pytest.MonkeyPatch, work: Path) -> None:
    monkeypatch.setenv(CGROUPS_ENV_VAR, "off")
    assert support().version == "none"
    assert open_run_cgroup(512, 10) is None
    monkeypatch.setenv(CGROUPS_ENV_VAR, "sometimes")
    with pytest.raises(Exception, match="FIXWURX_CGROUPS='sometimes'"):
        support()


def test_cgroup_tests_fail_loudly_in_ci_and_skip_only_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    none = Support("none", reason="no writable memory group")
    monkeypatch.setenv("CI", "1")
    with pytest.raises(BaseException) as caught:  # a skip would pass unseen as a skip
        require_cgroups(none)
    assert caught.type is pytest.fail.Exception and "CI must offer a cgroup" in str(caught.value)
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="no writable memory group"):
        require_cgroups(none)
    require_cgroups(Support("v1", (("memory", Path("/")),)))  # a group: the test runs


def _fixwurx_groups() -> set[Path]:
    """This process's run groups: another FixWurx process on the machine makes its own."""
    mine = f"{GROUP_PREFIX}{os.getpid()}-"
    found: set[Path] = set()
    for _, parent in detect().parents:
        found.update(p for p in parent.iterdir() if p.name.startswith(mine))
    return found


def test_a_group_path_is_found_below_a_mount_of_part_of_the_hierarchy() -> None:
    """A container may mount only its own subtree: /docker/abc at /sys/fs/cgroup/memory."""
    from app.sandbox.cgroups import _below

    assert _below(("/sys/fs/cgroup/memory", "/"), "/a/b") == Path("/sys/fs/cgroup/memory/a/b")
    assert _below(("/sys/fs/cgroup/memory", "/docker/abc"), "/docker/abc/w") == Path(
        "/sys/fs/cgroup/memory/w"
    )
    assert _below(("/sys/fs/cgroup", "/"), "/") == Path("/sys/fs/cgroup")


def test_this_hosts_own_groups_are_read_from_proc(cgroups: str) -> None:
    from app.sandbox.cgroups import _cgroup_mounts, _own_paths

    mounts, own = _cgroup_mounts(), _own_paths()
    if cgroups == "v1":
        assert "memory" in mounts and "memory" in own
    else:
        assert "" in mounts and "" in own


def test_groups_left_by_a_dead_worker_are_killed_and_removed(cgroups: str, marker: str) -> None:
    from app.sandbox.cgroups import _sweep_stale

    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no longer exists: the "worker" that died
    parent = detect().parents[0][1]
    stale = parent / f"{GROUP_PREFIX}{dead.pid}-7"
    stale.mkdir()
    left = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", marker])
    try:
        (stale / "cgroup.procs").write_text(str(left.pid))
        _sweep_stale([parent])
        assert not stale.exists()
        assert left.wait(timeout=5) == -9
    finally:
        left.kill()
        left.wait()
