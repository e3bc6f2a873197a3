"""Memory the run holds, counted once: the cgroup's kernel accounting, and the watchdog's fallback.

Each test runs twice: with the run's cgroup ("kernel", which CI must have: this host mounts
cgroup v1 and CI runs as root) and with cgroups turned off by FIXWURX_CGROUPS=off, where the
watchdog alone measures ("watchdog"). The holders hold their memory for seconds, far past a
sample, so a run that is not stopped prints "held".
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app.sandbox import Limits, run
from app.sandbox.cgroups import CGROUPS_ENV_VAR
from tests.unit.sandbox.conftest import require_cgroups, wait_gone

SLACK_S = 3.0

#: 3 GiB in memfds written with write(2): mapped nowhere, so no process's RSS shows them.
#: Sixteen of 192 MiB, each under the per-file size limit.
MEMFD = """
import os, sys, time
chunk = b"m" * (64 * 1024 * 1024)
fds = [os.memfd_create("hold") for _ in range(16)]
for fd in fds:
    for _ in range(3):
        os.write(fd, chunk)
print("held", flush=True)
time.sleep(5)
"""

#: 3 GiB of MAP_SHARED anonymous memory, 768 MiB in each of four children (each under the
#: per-process address-space limit); shared memory is in no process's RssAnon.
SHARED_ANON = """
import mmap, os, sys, time
size = 768 * 1024 * 1024
kids = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        m = mmap.mmap(-1, size, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
        for off in range(0, size, 4096):
            m[off] = 1
        time.sleep(8)
        os._exit(0)
    kids.append(pid)
time.sleep(4)
print("held", flush=True)
for pid in kids:
    os.waitpid(pid, 0)
"""

#: 3 GiB of files in bubblewrap's private /dev/shm (a tmpfs in RAM).
DEV_SHM = """
import time
chunk = b"s" * (64 * 1024 * 1024)
for n in range(48):
    with open(f"/dev/shm/fill-{n}", "wb") as out:
        out.write(chunk)
print("held", flush=True)
time.sleep(5)
"""

#: One 200 MiB allocation, then 40 forked children that share it (copy-on-write, never written).
FORKED_SHARERS = """
import os, sys, time
block = bytearray(200 * 1024 * 1024)
for off in range(0, len(block), 4096):
    block[off] = 1
kids = []
for _ in range(40):
    pid = os.fork()
    if pid == 0:
        time.sleep(4)
        os._exit(0)
    kids.append(pid)
for pid in kids:
    os.waitpid(pid, 0)
print("all 40 done", flush=True)
"""


@pytest.fixture(params=["kernel", "watchdog"])
def enforcement(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The run's cgroup (required in CI), or the watchdog alone with cgroups turned off."""
    if request.param == "kernel":
        require_cgroups()
        monkeypatch.delenv(CGROUPS_ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(CGROUPS_ENV_VAR, "off")
    return str(request.param)


def _stopped_for_memory(result: object, enforcement: str, limit_mb: int) -> None:
    from app.sandbox.api import SandboxResult

    assert isinstance(result, SandboxResult)
    assert "held" not in result.stdout, result
    assert result.stopped == "memory", (result.stopped, result.stderr[-2000:])
    assert not result.ok and not result.timed_out
    assert result.stop_reason is not None and f"{limit_mb} MiB" in result.stop_reason
    if enforcement == "kernel":
        assert "kernel" in result.stop_reason and "OOM" in result.stop_reason, result.stop_reason
    else:
        assert "across" in result.stop_reason, result.stop_reason


def test_memfd_memory_is_counted(backend: str, enforcement: str, work: Path, marker: str) -> None:
    limits = Limits(memory_mb=1024)
    result = run([sys.executable, "-c", MEMFD, marker], work, 60, limits=limits)
    _stopped_for_memory(result, enforcement, 1024)
    assert result.duration < 5 + SLACK_S
    assert wait_gone(marker) == []


def test_shared_anonymous_memory_is_counted(
    backend: str, enforcement: str, work: Path, marker: str
) -> None:
    limits = Limits(memory_mb=1024)
    result = run([sys.executable, "-c", SHARED_ANON, marker], work, 60, limits=limits)
    _stopped_for_memory(result, enforcement, 1024)
    assert wait_gone(marker) == []


def test_dev_shm_files_are_counted(bwrap: str, enforcement: str, work: Path, marker: str) -> None:
    limits = Limits(memory_mb=1024, tmp_mb=4096, disk_mb=8192)
    result = run([sys.executable, "-c", DEV_SHM, marker], work, 60, limits=limits)
    _stopped_for_memory(result, enforcement, 1024)
    assert wait_gone(marker) == []


def test_forked_children_sharing_one_allocation_are_counted_once(
    backend: str, enforcement: str, work: Path, marker: str
) -> None:
    """41 processes map the same 200 MiB: the run holds ~0.25 GiB, not 41 x 200 MiB."""
    limits = Limits(memory_mb=1024, processes=128)
    result = run([sys.executable, "-c", FORKED_SHARERS, marker], work, 60, limits=limits)
    assert result.stopped is None, (result.stop_reason, result.stderr[-2000:])
    assert result.ok and result.stdout == "all 40 done\n", result
    assert wait_gone(marker) == []
