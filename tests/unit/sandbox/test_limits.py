"""Resource limits and the deadline: runaway code is stopped and leaves nothing behind.

Every bomb here is bounded by itself (a fixed number of forks, a fixed allocation), so a broken
limit fails the test instead of taking the shared machine down.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app import defaults
from app.sandbox import Limits, run
from tests.unit.sandbox.conftest import wait_gone

SLACK_S = 3.0  # start-up and kill latency allowed on a busy 2-core machine

FORK_BOMB = """
import os, sys, time
made = 0
for _ in range(150):  # bounded even if the limit failed
    try:
        pid = os.fork()
    except OSError as exc:
        print("fork refused errno", exc.errno, "after", made, flush=True)
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    made += 1
print("made", made, flush=True)
time.sleep(60)
"""

DETACH = """
import os, sys, time
marker = sys.argv[1]
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        # A daemon: new session, stdio closed, deaf to SIGTERM and SIGHUP.
        for fd in (0, 1, 2):
            os.close(fd)
        os.execv(sys.executable, [sys.executable, "-c",
            "import signal, time, sys; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "signal.signal(signal.SIGHUP, signal.SIG_IGN); open('ready', 'w').close(); "
            "time.sleep(60)", marker])
    os._exit(0)
while not os.path.exists("ready"):
    time.sleep(0.01)
print("daemon started", flush=True)
if sys.argv[2] == "hang":
    time.sleep(60)
"""


def test_infinite_loop_is_killed_at_the_deadline(backend: str, work: Path, marker: str) -> None:
    result = run([sys.executable, "-c", "while True: pass", marker], work, 1.0)
    assert result.timed_out
    assert not result.ok
    assert 1.0 <= result.duration < 1.0 + SLACK_S
    assert wait_gone(marker) == []


def test_fork_bomb_is_contained_and_killed(backend: str, work: Path, marker: str) -> None:
    limits = Limits(processes=20)
    result = run([sys.executable, "-c", FORK_BOMB, marker], work, 5.0, limits=limits)
    assert "fork refused errno 11" in result.stdout, result  # EAGAIN from RLIMIT_NPROC
    made = int(result.stdout.split("after")[1].split()[0])
    assert made < limits.processes
    assert result.timed_out and result.duration < 5.0 + SLACK_S
    assert wait_gone(marker) == []


def test_detached_daemon_is_killed_when_the_command_exits(
    backend: str, work: Path, marker: str
) -> None:
    result = run([sys.executable, "-c", DETACH, marker, "exit"], work, 20)
    assert result.stdout == "daemon started\n", result
    assert not result.timed_out and result.duration < 10
    assert wait_gone(marker) == []


def test_detached_daemon_is_killed_at_the_deadline(backend: str, work: Path, marker: str) -> None:
    result = run([sys.executable, "-c", DETACH, marker, "hang"], work, 4.0)
    assert result.stdout == "daemon started\n", result
    assert result.timed_out
    assert wait_gone(marker) == []


def test_memory_limit_stops_a_big_allocation(backend: str, work: Path) -> None:
    grab = "b = bytearray(1024 * 1024 * 1024); print('allocated', len(b))"
    result = run([sys.executable, "-c", grab], work, 20, limits=Limits(memory_mb=256))
    assert result.returncode != 0
    assert "MemoryError" in result.stderr
    assert "allocated" not in result.stdout


def test_file_size_limit_stops_a_big_write(backend: str, work: Path) -> None:
    write = "open('big.bin', 'wb').write(b'x' * (4 * 1024 * 1024))"
    result = run([sys.executable, "-c", write], work, 20, limits=Limits(file_size_mb=1))
    assert result.returncode != 0
    assert "File too large" in result.stderr
    assert (work / "big.bin").stat().st_size <= 1024 * 1024


def test_cpu_limit_stops_a_busy_loop_before_the_deadline(backend: str, work: Path) -> None:
    result = run([sys.executable, "-c", "while True: pass"], work, 30, limits=Limits(cpu_seconds=1))
    assert not result.timed_out
    assert result.returncode != 0
    assert result.duration < 1 + SLACK_S + 1


def test_unlimited_work_within_the_limits_succeeds(backend: str, work: Path) -> None:
    """The limits do not get in the way of ordinary code (threads, subprocesses, files)."""
    script = (
        "import subprocess, threading, sys\n"
        "ts = [threading.Thread(target=lambda: None) for _ in range(8)]\n"
        "[t.start() for t in ts]; [t.join() for t in ts]\n"
        "out = subprocess.run([sys.executable, '-c', 'print(6 * 7)'], capture_output=True)\n"
        "open('answer.txt', 'w').write(out.stdout.decode())\n"
    )
    result = run([sys.executable, "-c", script], work, 20)
    assert result.ok, result
    assert (work / "answer.txt").read_text().strip() == "42"


def test_a_signal_death_reads_the_same_on_both_backends(backend: str, work: Path) -> None:
    result = run([sys.executable, "-c", "import os; os.kill(os.getpid(), 9)"], work, 20)
    assert (result.returncode, result.timed_out) == (128 + 9, False)


def test_parallel_runs_each_get_their_own_uid_and_limits(backend: str, work: Path) -> None:
    """Candidates are validated in parallel: concurrent runs must not share a process budget."""
    if os.geteuid() != 0:
        pytest.skip("per-run uids need root")
    show = "import os, time; time.sleep(0.3); print(os.getuid())"
    limits = Limits(processes=4)
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(lambda _: run([sys.executable, "-c", show], work, 30, limits=limits), range(4))
        )
    assert all(r.ok for r in results), results
    uids = {r.stdout.strip() for r in results}
    assert len(uids) == 4 and str(os.getuid()) not in uids


def test_private_tmp_is_capped(bwrap: str, work: Path) -> None:
    """/tmp and /dev/shm live in RAM; a test filling them hits the cap, not the machine."""
    fill = (
        "import sys\n"
        "for target in ('/tmp/fill', '/dev/shm/fill'):\n"
        "    try:\n"
        "        open(target, 'wb').write(b'x' * (16 * 1024 * 1024))\n"
        "        print('wrote', target)\n"
        "    except OSError as exc:\n"
        "        print('full', target, exc.errno)\n"
    )
    result = run([sys.executable, "-c", fill], work, 20, limits=Limits(tmp_mb=8))
    assert result.stdout == "full /tmp/fill 28\nfull /dev/shm/fill 28\n", result  # ENOSPC


HOLDERS = """
import os, sys, time
for _ in range(4):
    if os.fork() == 0:
        hold = b"x" * (100 * 1024 * 1024)  # written, so resident
        print("holding", flush=True)
        time.sleep(30)
        os._exit(0)
for _ in range(4):
    os.wait()
print("all four held 100 MiB", flush=True)
"""


def test_memory_is_limited_per_run_not_per_process(backend: str, work: Path, marker: str) -> None:
    """Four children of 100 MiB each fit a 128 MiB per-process limit; the run as a whole does not."""
    result = run([sys.executable, "-c", HOLDERS, marker], work, 60, limits=Limits(memory_mb=128))
    assert result.stopped == "memory", result
    assert (
        "memory limit of 128 MiB" in result.stderr or "over its limit of 128 MiB" in result.stderr
    )
    assert "all four held" not in result.stdout
    assert "raise it with FIXWURX_SANDBOX_MEMORY_MB" in result.stderr  # the setting, named
    assert result.returncode == 137 and not result.timed_out and not result.ok
    assert wait_gone(marker) == []


FILL_WORK_COPY = """
import os
chunk = b"x" * (4 * 1024 * 1024)
for n in range(32):  # 32 files of 64 MiB: 2 GiB in all, unless something stops it
    with open(f"fill-{n}.bin", "wb") as out:
        for _ in range(16):
            out.write(chunk)
print("wrote 2 GiB", flush=True)
"""


def test_disk_use_of_the_work_copy_is_limited_per_run(backend: str, work: Path) -> None:
    (work / "already-there.bin").write_bytes(b"y" * (8 * 1024 * 1024))  # counts as the start
    limits = Limits(disk_mb=16, file_size_mb=64)
    result = run([sys.executable, "-c", FILL_WORK_COPY], work, 120, limits=limits)
    assert result.stopped == "disk", result
    assert result.stop_reason is not None
    assert "into the work copy" in result.stop_reason
    assert "over its disk limit of 16 MiB" in result.stop_reason
    assert "raise it with FIXWURX_SANDBOX_DISK_MB" in result.stop_reason
    assert result.stop_reason in result.stderr  # the reason reaches whoever reads the output
    assert "wrote 2 GiB" not in result.stdout
    written = sum(p.stat().st_size for p in work.glob("fill-*.bin"))
    assert written < 1024 * 1024 * 1024, written  # stopped well before 2 GiB


BUSY_CHILDREN = """
import os
for _ in range(4):
    if os.fork() == 0:
        while True:
            pass
for _ in range(4):
    os.wait()
"""


def test_cpu_time_is_limited_per_run(backend: str, work: Path, marker: str) -> None:
    """Each of four busy children stays under the per-process limit for a while; the run does not."""
    result = run(
        [sys.executable, "-c", BUSY_CHILDREN, marker], work, 120, limits=Limits(cpu_seconds=3)
    )
    assert result.stopped == "cpu", result
    assert result.stop_reason is not None and "CPU time" in result.stop_reason
    assert "over its limit of 3 s" in result.stop_reason
    assert "raise it with FIXWURX_SANDBOX_CPU_SECONDS" in result.stop_reason
    assert wait_gone(marker) == []


def test_there_is_a_cpu_limit_by_default() -> None:
    assert Limits().cpu_seconds == defaults.SANDBOX_CPU_SECONDS
    assert Limits().disk_mb == defaults.SANDBOX_DISK_MB


def test_ram_backed_tmp_counts_towards_the_run_memory(bwrap: str, work: Path) -> None:
    """Files in bubblewrap's /tmp live in RAM: they count as the run's memory."""
    fill = (
        "import time\n"
        "for n in range(8):  # 8 files of 64 MiB: each under the per-file limit\n"
        "    with open(f'/tmp/fill-{n}', 'wb') as out:\n"
        "        for _ in range(64):\n"
        "            out.write(b'x' * (1024 * 1024))\n"
        "print('filled 512 MiB of /tmp', flush=True)\n"
        "time.sleep(30)\n"
    )
    result = run([sys.executable, "-c", fill], work, 60, limits=Limits(memory_mb=160))
    assert result.stopped == "memory", (result.stdout, result.stderr)
    assert "filled" not in result.stdout
