"""A long-lived sandboxed process that FixWurx talks to in JSON lines (bubblewrap only).

`run` starts a fresh sandbox per command, and most of a short test run is then the
interpreter's start-up. A session keeps one process alive in the same sandbox a test run gets
(namespaces, read-only root, fresh uid, prlimit, no network, scrubbed environment) and sends it
requests over stdin; `app/testing/warm.py` uses it to fork a warm test process per candidate.

Only bubblewrap backs a session: its pid namespace is what lets the process inside kill every
leftover of one request before the next, and the plain-subprocess fallback has none, so there
`open_session` raises and callers run their commands the ordinary way.

A session gets its own cgroup as a run does (cgroups.py), held until `close`; the per-run
watchdog samples it from a thread: the group's OOM kills, or where there is no group memory
across its processes and its RAM-backed /tmp, and growth of the work area. CPU time is bound
per process (prlimit's RLIMIT_CPU, which a forked child starts afresh) and by each request's
wall-clock limit; the watchdog's sum would count every request the session ever served.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from app.errors import SandboxError
from app.sandbox.api import Limits, Mounts, _check_call, _let_others_traverse, fd_path, opened_cwd
from app.sandbox.backends import choose_backend
from app.sandbox.bubblewrap import bwrap_prefix
from app.sandbox.cgroups import RunCgroup, open_run_cgroup
from app.sandbox.constants import BUBBLEWRAP
from app.sandbox.environment import check_caller_env, sandbox_env
from app.sandbox.identity import Identity, fresh_identity
from app.sandbox.rlimits import nproc_prefix, prlimit_prefix
from app.sandbox.watchdog import Watchdog

log = logging.getLogger(__name__)

#: Longest line a session may send back (a reply carries a bounded output tail).
MAX_LINE_BYTES = 4 * 1024 * 1024


class SessionError(SandboxError):
    """The session cannot answer: not started, gone, over a limit, late, or garbled."""


class Session:
    """One sandboxed process; `request` sends a JSON object and waits for the reply line."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        identity: contextlib.ExitStack,
        group: RunCgroup | None = None,
    ) -> None:
        self._proc = proc
        self._group = group
        self._identity = identity
        self._buffer = b""
        self._lock = threading.Lock()
        self.stopped: str | None = None
        self._closed = threading.Event()

    def watch(self, watchdog: Watchdog) -> None:
        """Sample `watchdog` every interval from a daemon thread; a breach ends the session."""
        watchdog.start(self._proc.pid, self._group)
        threading.Thread(target=self._watch, args=(watchdog,), daemon=True).start()

    def _watch(self, watchdog: Watchdog) -> None:
        while not self._closed.wait(watchdog.interval):
            reason = watchdog.check()
            if reason is not None:
                self.stopped = reason
                log.info("sandbox session stopped: %s", reason)
                self._kill()
                return

    def read(self, timeout: float) -> dict[str, Any]:
        """The next line from the process, parsed; SessionError when none comes in time."""
        deadline = time.monotonic() + timeout
        stdout = self._proc.stdout
        assert stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(stdout, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._kill()
                    raise SessionError(f"the session did not answer within {timeout:.0f}s")
                if not sel.select(remaining):
                    continue
                chunk = os.read(stdout.fileno(), 65536)
                if not chunk:
                    raise SessionError(self.stopped or "the session ended")
                self._buffer += chunk
                if len(self._buffer) > MAX_LINE_BYTES:
                    self._kill()
                    raise SessionError("the session sent an oversized reply")
        line, _, self._buffer = self._buffer.partition(b"\n")
        try:
            reply = json.loads(line)
        except ValueError as exc:
            self._kill()
            raise SessionError("the session sent a reply that is not JSON") from exc
        if not isinstance(reply, dict):
            self._kill()
            raise SessionError("the session sent a reply that is not an object")
        return reply

    def request(self, message: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        """Send `message`, wait at most `timeout` seconds for its reply (one at a time)."""
        with self._lock:
            if self._closed.is_set() or self._proc.poll() is not None:
                raise SessionError(self.stopped or "the session ended")
            stdin = self._proc.stdin
            assert stdin is not None
            try:
                stdin.write(json.dumps(message).encode() + b"\n")
                stdin.flush()
            except OSError as exc:
                raise SessionError(f"the session ended: {exc}") from exc
            return self.read(timeout)

    @property
    def alive(self) -> bool:
        """Still running and not stopped by the watchdog."""
        return not self._closed.is_set() and self._proc.poll() is None

    def _kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, signal.SIGKILL)
        if self._group is not None:
            self._group.kill()

    def close(self) -> None:
        """End the process (its pid namespace goes with it) and release its uid."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._kill()
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._proc.wait()
        self._identity.close()  # removes the cgroup too, then releases the uid


def open_session(
    argv: Sequence[str],
    cwd: Path,
    *,
    env: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    readonly_paths: Sequence[Path] = (),
    mounts: Mounts | None = None,
) -> Session:
    """Start `argv` in a sandbox whose only writable host path is `cwd`; see the module doc."""
    mounts = mounts or Mounts()
    if mounts.network:
        raise SandboxError("a sandbox session never gets the network")
    cwd = _check_call(argv, cwd, 1.0)
    check_caller_env(env)
    limits = limits or Limits()
    backend, _ = choose_backend()
    if backend != BUBBLEWRAP:
        raise SessionError("sandbox sessions need bubblewrap (a pid namespace per session)")
    stack = contextlib.ExitStack()
    who: Identity = stack.enter_context(fresh_identity())
    try:
        group = open_run_cgroup(limits.memory_mb, limits.processes)
        if group is not None:
            stack.callback(group.close)
        with opened_cwd(cwd) as cwd_fd:  # bound by fd; the child holds its own once started
            if who.uid is not None:
                _let_others_traverse(cwd_fd)
            proc = _spawn(argv, cwd, cwd_fd, env, limits, readonly_paths, who, mounts, group)
    except BaseException:
        stack.close()
        raise
    session = Session(proc, stack, group)
    session.watch(
        Watchdog(
            memory_mb=limits.memory_mb,
            cpu_seconds=None,
            disk_mb=limits.disk_mb,
            paths=[cwd],
            uid=None,
            ram_dirs=("/tmp", "/dev/shm"),
        )
    )
    return session


def _spawn(
    argv: Sequence[str],
    cwd: Path,
    cwd_fd: int,
    env: Mapping[str, str] | None,
    limits: Limits,
    readonly_paths: Sequence[Path],
    who: Identity,
    mounts: Mounts,
    group: RunCgroup | None = None,
) -> subprocess.Popen[bytes]:
    as_root = who.uid is not None
    prefix = bwrap_prefix(
        cwd,
        readonly_paths,
        as_root=as_root,
        tmp_mb=limits.tmp_mb,
        host_python=mounts.host_python,
        writable_paths=mounts.writable_paths,
        cwd_fd=cwd_fd,
    )
    command = [
        *prlimit_prefix(limits, limit_processes=as_root),
        *prefix,
        *([] if as_root else nproc_prefix(limits)),
        *who.wrap(argv),
    ]
    clean = sandbox_env("/tmp", "/tmp", env, network=False, host_python=mounts.host_python)
    try:
        return subprocess.Popen(
            group.launcher(command) if group else command,
            cwd=fd_path(cwd_fd),
            env=dict(clean),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            # Nobody reads it: a host file here grew with whatever the sandbox wrote (up to the
            # per-file limit, outside every disk count), and a pipe nobody drains would block it.
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
            pass_fds=(cwd_fd,),  # bwrap binds this directory (--bind-fd), not a path
        )
    except OSError as exc:
        raise SandboxError(f"could not start the sandbox session ({argv[0]!r}): {exc}") from exc
