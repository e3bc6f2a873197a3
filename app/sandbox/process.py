"""Start one sandboxed command, stream its output into bounded buffers, enforce the deadline.

One thread does everything with a selector over stdout, stderr and a pidfd (readable when the
command exits), so a call costs no extra threads. When the command exits, or the deadline
passes, `kill_rest` removes whatever it left behind (daemons, grandchildren that ignore SIGTERM)
before the pipes are drained: a detached child holding stdout must not keep the call waiting.

With a watchdog, the run gets its own cgroup where the host offers one (cgroups.py): the
command is started through the group's launcher, so it is in the group before it runs, and
the group is killed and removed before `supervise` returns.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from app.errors import SandboxError
from app.sandbox.capture import BoundedBuffer
from app.sandbox.cgroups import RunCgroup, open_run_cgroup
from app.sandbox.constants import DRAIN_GRACE_S, POLL_INTERVAL_S, READ_CHUNK_BYTES
from app.sandbox.watchdog import Breach, Watchdog


@dataclass(frozen=True)
class ProcessResult:
    """What `supervise` saw: exit status, kept output, whether the deadline struck."""

    returncode: int
    stdout: BoundedBuffer
    stderr: BoundedBuffer
    timed_out: bool
    duration: float
    warnings: tuple[str, ...]
    #: The per-run limit the command was stopped for ("memory", "cpu", "disk"), if it was.
    stopped: str | None = None
    #: The sentence that says so, with the numbers.
    stop_reason: str | None = None
    #: Highest memory of the run as its cgroup counted it, in MiB (0 where there is no cgroup):
    #: what the memory default must fit, measured on real suites (benchmarks/real_repos.py).
    peak_mb: int = 0


def supervise(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
    output_bytes: int,
    kill_rest: Callable[[], None],
    watchdog: Watchdog | None = None,
    pass_fds: Sequence[int] = (),
) -> ProcessResult:
    """Run `argv` to completion or until `timeout` seconds pass, whichever comes first.

    `watchdog`, when given, is sampled every `watchdog.interval` seconds; the first per-run
    limit it reports ends the command as the deadline would.
    """
    start = time.monotonic()
    group = open_run_cgroup(watchdog.memory_mb, watchdog.processes) if watchdog else None
    try:
        proc = _spawn(group.launcher(argv) if group else argv, cwd, env, pass_fds)
        buffers = {"stdout": BoundedBuffer(output_bytes), "stderr": BoundedBuffer(output_bytes)}
        if watchdog is not None:
            watchdog.start(proc.pid, group)
        try:
            pump = _Pump(proc, buffers, _with_group(kill_rest, group), watchdog)
            timed_out = pump.run_until(start + timeout)
            warnings = pump.drain()
            returncode = proc.wait()
        finally:
            _close(proc)
        breach = pump.stopped or (watchdog.after_exit() if watchdog else None)
        peak_mb = group.peak_mb() if group is not None else 0
    finally:
        if group is not None:
            group.close()
    return ProcessResult(
        returncode,
        buffers["stdout"],
        buffers["stderr"],
        timed_out,
        time.monotonic() - start,
        warnings,
        breach.limit if breach else None,
        breach.reason if breach else None,
        peak_mb,
    )


def _with_group(kill_rest: Callable[[], None], group: RunCgroup | None) -> Callable[[], None]:
    """`kill_rest`, then every process left in the run's cgroup."""
    if group is None:
        return kill_rest

    def kill_all() -> None:
        kill_rest()
        group.kill()

    return kill_all


def _spawn(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str], pass_fds: Sequence[int] = ()
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # Its own process group, so the deadline can kill the group in one call.
            start_new_session=True,
            close_fds=True,
            pass_fds=tuple(pass_fds),  # the work copy's fd, which bwrap binds (--bind-fd)
        )
    except OSError as exc:
        raise SandboxError(f"could not start the sandbox ({argv[0]!r}): {exc}") from exc


def _close(proc: subprocess.Popen[bytes]) -> None:
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    if proc.returncode is None:
        _kill_group(proc)
        proc.wait()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(proc.pid, signal.SIGKILL)


class _Pump:
    """The select loop of one call."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        buffers: dict[str, BoundedBuffer],
        kill_rest: Callable[[], None],
        watchdog: Watchdog | None = None,
    ) -> None:
        self._proc = proc
        self._kill_rest = kill_rest
        self._watchdog = watchdog
        # The first sample one interval in: a command that ends sooner costs no sampling at all.
        self._next_watch = time.monotonic() + (watchdog.interval if watchdog else 0.0)
        self.stopped: Breach | None = None
        self._sel = selectors.DefaultSelector()
        self._exited = False
        for name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            assert stream is not None
            os.set_blocking(stream.fileno(), False)
            self._sel.register(stream, selectors.EVENT_READ, buffers[name])
        self._pidfd = _open_pidfd(proc.pid)
        if self._pidfd is not None:
            self._sel.register(self._pidfd, selectors.EVENT_READ, None)

    def run_until(self, deadline: float) -> bool:
        """Pump output until the command exits (False) or the deadline passes (True)."""
        while not self._exited:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._terminate()
                return True
            if self._watchdog is not None:
                if self._over_limit():
                    self._terminate()
                    return False
                remaining = min(remaining, max(0.0, self._next_watch - time.monotonic()))
            self._step(remaining)
        self._kill_rest()
        return False

    def _over_limit(self) -> bool:
        """Sample the watchdog when its interval has passed; True once a limit is exceeded."""
        assert self._watchdog is not None
        now = time.monotonic()
        if now < self._next_watch:
            return False
        self._next_watch = now + self._watchdog.interval
        self.stopped = self._watchdog.sample()
        return self.stopped is not None

    def drain(self) -> tuple[str, ...]:
        """Read what is left in the pipes; give up after a grace period."""
        deadline = time.monotonic() + DRAIN_GRACE_S
        try:
            while self._open_streams():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._terminate()
                    return ("output pipes stayed open after the command ended; rest dropped",)
                self._step(remaining)
            return ()
        finally:
            self._sel.close()
            if self._pidfd is not None:
                os.close(self._pidfd)

    def _open_streams(self) -> bool:
        return any(key.data is not None for key in self._sel.get_map().values())

    def _step(self, remaining: float) -> None:
        wait = remaining if self._pidfd is not None else min(remaining, POLL_INTERVAL_S)
        for key, _ in self._sel.select(wait):
            if key.data is None:
                self._sel.unregister(key.fileobj)
                self._exited = True
            else:
                self._read(key)
        if self._pidfd is None and self._proc.poll() is not None:
            self._exited = True

    def _read(self, key: selectors.SelectorKey) -> None:
        stream: IO[bytes] = key.fileobj  # type: ignore[assignment]
        try:
            chunk = os.read(stream.fileno(), READ_CHUNK_BYTES)
        except BlockingIOError:
            return
        if chunk:
            key.data.feed(chunk)
        else:
            self._sel.unregister(stream)

    def _terminate(self) -> None:
        _kill_group(self._proc)
        self._kill_rest()
        self._exited = True


def _open_pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when `pid` exits; None on kernels without pidfds."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None
