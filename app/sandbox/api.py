"""The sandbox contract: `run(argv, cwd, timeout, ...) -> SandboxResult`.

Every command from a repository under repair goes through `run`. The chain of programs it
starts is short and exec-only, so the per-call cost stays at a few milliseconds:

    prlimit (rlimits) -> bwrap (namespaces, mounts) -> setpriv (fresh uid) -> argv
    prlimit (rlimits) -> setpriv (fresh uid, no capability) -> argv   [fallback without bubblewrap]
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import stat
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app import defaults, workfiles
from app.errors import SandboxError
from app.sandbox import limit_settings
from app.sandbox.backends import choose_backend
from app.sandbox.bubblewrap import bwrap_prefix, python_roots
from app.sandbox.constants import BUBBLEWRAP, LIMIT_MARKER, SANDBOX_TMP_MB
from app.sandbox.egress import EgressProxy, forwarder_python, forwarder_roots
from app.sandbox.egress_policy import EgressPolicy
from app.sandbox.environment import check_caller_env, sandbox_env
from app.sandbox.identity import Identity, fresh_identity
from app.sandbox.ownership import lent_to, let_others_search_above
from app.sandbox.process import ProcessResult, supervise
from app.sandbox.rlimits import nproc_prefix, prlimit_prefix
from app.sandbox.watchdog import Watchdog

log = logging.getLogger(__name__)

#: Without bubblewrap and without root there is no fresh uid: RLIMIT_NPROC would count all of
#: the user's processes (so it is not set), and kill(-1) would hit the user's own programs.
NOT_ROOT_WARNING = (
    "not running as root: the process limit is off, and processes that leave the command's "
    "process group (setsid daemons) are not killed"
)


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed run.

    `memory_mb`, `cpu_seconds` and `disk_mb` bind the run as a whole (the run's cgroup where the
    host has one, else watchdog.py: every process of the run together, its RAM-backed /tmp
    included; `disk_mb` is what the run may add to the work copy and its other writable places);
    `processes` binds the run's cgroup and its uid; `memory_mb`, `cpu_seconds` and
    `file_size_mb` also bind each process (prlimit).
    `cpu_seconds=None` lifts the CPU limit. `tmp_mb` caps the private /tmp and /dev/shm, which
    bubblewrap alone provides.
    """

    # Memory, CPU and disk: the operator's FIXWURX_SANDBOX_* settings, else the defaults
    # (limit_settings.py); a stop reason names the setting that raises the limit it hit.
    memory_mb: int = field(default_factory=limit_settings.memory_mb)
    processes: int = defaults.SANDBOX_MAX_PROCESSES
    file_size_mb: int = defaults.SANDBOX_MAX_FILE_MB
    cpu_seconds: int | None = field(default_factory=limit_settings.cpu_seconds)
    output_bytes: int = defaults.SANDBOX_MAX_OUTPUT_BYTES
    tmp_mb: int = SANDBOX_TMP_MB
    disk_mb: int = field(default_factory=limit_settings.disk_mb)

    def __post_init__(self) -> None:
        names = ("memory_mb", "processes", "file_size_mb", "output_bytes", "tmp_mb", "disk_mb")
        for name in names:
            value = getattr(self, name)
            if not isinstance(value, int) or value < (0 if name == "output_bytes" else 1):
                raise ValueError(f"Limits.{name} must be a positive integer, got {value!r}")
        if self.cpu_seconds is not None and self.cpu_seconds < 1:
            raise ValueError(f"Limits.cpu_seconds must be >= 1 or None, got {self.cpu_seconds!r}")


@dataclass(frozen=True)
class Mounts:
    """What a call sees beyond its work copy; the default is a test run's view.

    `network`: reach the package indexes `egress` allows (PyPI when None) through the egress
    proxy, and get the operator's package-index settings (install steps only); the call still
    has its own network namespace, so the host's loopback and every other address stay out of
    reach. `host_python` False: FixWurx's own interpreter and venv are neither mounted nor on
    PATH (a repository's own environment runs the tests). `writable_paths`: extra host paths
    bound read-write, such as an installer's download cache; the watchdog measures their growth
    with the work copy's.
    """

    network: bool = False
    host_python: bool = True
    writable_paths: tuple[Path, ...] = ()
    egress: EgressPolicy | None = None


@dataclass(frozen=True)
class SandboxResult:
    """How a sandboxed command ended and what it printed (possibly truncated).

    `returncode` is 128 + N when the command was killed by signal N (137 after the deadline's
    SIGKILL, with `timed_out` set), on both backends. `stopped` names the per-run limit the run
    was stopped for: "memory" (the kernel's OOM killer in the run's cgroup, or the watchdog),
    "cpu" or "disk", else None; `stop_reason` says it with the numbers, and stderr ends with it.
    """

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False
    truncated: bool = False
    backend: str = "subprocess"
    warnings: tuple[str, ...] = field(default=())
    stopped: str | None = None
    stop_reason: str | None = None
    #: The run's highest memory use in MiB as its cgroup counted it (0 where there is none).
    peak_mb: int = 0

    @property
    def ok(self) -> bool:
        """The command finished in time and within its limits, and exited 0."""
        return self.returncode == 0 and not self.timed_out and self.stopped is None


def run(
    argv: Sequence[str],
    cwd: Path,
    timeout: float,
    *,
    env: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    readonly_paths: Sequence[Path] = (),
    mounts: Mounts | None = None,
) -> SandboxResult:
    """Run `argv` in `cwd` (the only writable host path) within `timeout` seconds.

    `env` adds variables to the allow-listed environment; a name or value that looks like a
    credential raises `SandboxError`. `readonly_paths` are extra host paths to expose read-only.
    `mounts` widens or narrows the default view (see `Mounts`).
    """
    mounts = mounts or Mounts()
    cwd = _check_call(argv, cwd, timeout)
    check_caller_env(env)  # before anything is touched or started
    limits = limits or Limits()
    backend, warnings = choose_backend()
    with fresh_identity() as who, opened_cwd(cwd) as cwd_fd:
        if who.uid is not None:
            _let_others_traverse(cwd_fd)
        if backend == BUBBLEWRAP:
            outcome = _run_bubblewrap(
                argv, cwd, cwd_fd, timeout, env, limits, readonly_paths, who, mounts
            )
        else:
            outcome = _run_subprocess(
                argv, cwd, cwd_fd, timeout, env, limits, readonly_paths, who, mounts
            )
            if who.uid is None:
                warnings = (*warnings, NOT_ROOT_WARNING)
    result = _result(argv, outcome, backend, (*warnings, *outcome.warnings))
    _log_call(result)
    return result


def _log_call(result: SandboxResult) -> None:
    # The program name and the outcome only: arguments and output may carry anything.
    log.debug(
        "sandbox[%s] %s: exit %s in %.2fs%s%s",
        result.backend,
        os.path.basename(result.argv[0]),
        result.returncode,
        result.duration,
        " (timed out)" if result.timed_out else "",
        " (output truncated)" if result.truncated else "",
    )


def _check_call(argv: Sequence[str], cwd: Path, timeout: float) -> Path:
    if isinstance(argv, str) or not argv:
        raise ValueError(f"sandbox argv must be a non-empty list of strings, got {argv!r}")
    if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"sandbox timeout must be a positive number of seconds, got {timeout!r}")
    cwd = Path(cwd).absolute()
    if not cwd.is_dir():
        raise ValueError(f"sandbox cwd {str(cwd)!r} is not a directory; pass the work copy")
    return cwd


@contextlib.contextmanager
def opened_cwd(cwd: Path) -> Iterator[int]:
    """The work copy as an O_DIRECTORY fd reached through no symbolic link, for the whole call.

    The sandbox binds this fd (bwrap --bind-fd) and starts the command in it, never the path:
    a work copy that is, or lies under, a link (one a test planted where a slot's copy was) is
    refused with SandboxError, and a swap after this check changes nothing that is bound.
    """
    try:
        fd = workfiles.open_root(cwd)
    except workfiles.UnsafeWorkPath as exc:
        raise SandboxError(
            f"sandbox cwd {str(cwd)!r} is reached through a symbolic link; refusing to bind where "
            "it points. Pass the work copy's real path (one FixWurx created)"
        ) from exc
    try:
        yield fd
    finally:
        os.close(fd)


def fd_path(fd: int) -> Path:
    """A path that names the directory `fd` is open on, for chdir in a child before exec."""
    return Path(f"/proc/self/fd/{fd}")


def _let_others_traverse(cwd_fd: int) -> None:
    """Add search permission for others to the work copy's top directory if it lacks it.

    The sandboxed uid is not the owner. It opens files through DAC_OVERRIDE, but access(2)
    ignores capabilities for a non-root uid, so tools that ask first (git's discovery asks
    `access(".git/objects", X_OK)`) would fail under a 0700 work copy such as a mkdtemp() one.
    Search permission reveals no names; nothing below the top directory is changed.
    """
    mode = os.fstat(cwd_fd).st_mode
    if not mode & stat.S_IXOTH:
        os.fchmod(cwd_fd, stat.S_IMODE(mode) | stat.S_IXGRP | stat.S_IXOTH)


def _run_bubblewrap(
    argv: Sequence[str],
    cwd: Path,
    cwd_fd: int,
    timeout: float,
    env: Mapping[str, str] | None,
    limits: Limits,
    readonly_paths: Sequence[Path],
    who: Identity,
    mounts: Mounts,
) -> ProcessResult:
    as_root = who.uid is not None
    with contextlib.ExitStack() as stack:
        proxy = None
        if mounts.network:  # the step's one way out: the egress proxy, for this call only
            proxy = stack.enter_context(EgressProxy(mounts.egress or EgressPolicy.pypi()))
            readonly_paths = [*readonly_paths, *map(Path, forwarder_roots())]
            argv = proxy.wrap(forwarder_python(), list(argv))
        prefix = bwrap_prefix(
            cwd,
            readonly_paths,
            as_root=as_root,
            tmp_mb=limits.tmp_mb,
            network=mounts.network,
            host_python=mounts.host_python,
            writable_paths=mounts.writable_paths,
            egress_binds=proxy.binds() if proxy else (),
            cwd_fd=cwd_fd,
        )
        command = [
            *prlimit_prefix(limits, limit_processes=as_root),
            *prefix,
            *([] if as_root else nproc_prefix(limits)),
            *who.wrap(argv),
        ]
        # HOME and TMPDIR point into the private /tmp: tools writing ~/.cache stay out of the diff.
        clean = sandbox_env(
            "/tmp", "/tmp", env, network=mounts.network, host_python=mounts.host_python
        )
        if proxy is not None:
            clean.update(proxy.env())
        # When bwrap ends, or is killed at the deadline, the kernel kills its whole pid namespace
        # (--die-with-parent): there is nothing left to kill, and no extra process to spawn.
        outcome = supervise(
            command,
            cwd=fd_path(cwd_fd),
            env=clean,
            timeout=timeout,
            output_bytes=limits.output_bytes,
            kill_rest=_nothing_left,
            pass_fds=(cwd_fd,),
            # The pid namespace holds every process of the run: its tree is enough, no uid scan.
            watchdog=_watchdog(
                limits, [cwd, *mounts.writable_paths], None, ram_dirs=("/tmp", "/dev/shm")
            ),
        )
        if proxy is not None and proxy.refusals:
            refused = tuple(f"egress proxy refused: {r}" for r in dict.fromkeys(proxy.refusals))
            outcome = dataclasses.replace(outcome, warnings=(*outcome.warnings, *refused))
        return outcome


def _run_subprocess(
    argv: Sequence[str],
    cwd: Path,
    cwd_fd: int,
    timeout: float,
    env: Mapping[str, str] | None,
    limits: Limits,
    readonly_paths: Sequence[Path],
    who: Identity,
    mounts: Mounts,
) -> ProcessResult:
    # The host is visible here: no capability, not even DAC_OVERRIDE (it reads /etc/shadow).
    command = [
        *prlimit_prefix(limits, limit_processes=who.uid is not None),
        *who.wrap(argv, keep_capability=False),
    ]
    home = tempfile.mkdtemp(prefix="fixwurx-sandbox-home-")
    if who.uid is not None:  # its own HOME, so tools that check access(2) first may use it
        os.chown(home, who.uid, who.uid)
    if who.uid is not None:  # without DAC_OVERRIDE the uid must be able to reach these
        reached = [Path(root) / "bin" for root in python_roots()] + [
            Path(p) for p in readonly_paths
        ]
        for path in reached:
            let_others_search_above(path)
    lent = contextlib.ExitStack()
    if who.uid is not None:  # the capability-less uid writes only what it is lent
        for path in (cwd, *mounts.writable_paths):
            lent.enter_context(lent_to(Path(path), who.uid))
    try:
        with lent:
            clean = sandbox_env(
                home, home, env, network=mounts.network, host_python=mounts.host_python
            )
            return supervise(
                command,
                cwd=fd_path(cwd_fd),
                env=clean,
                timeout=timeout,
                output_bytes=limits.output_bytes,
                kill_rest=who.kill_all,
                watchdog=_watchdog(limits, [cwd, Path(home), *mounts.writable_paths], who.uid),
            )
    finally:  # the run's uid owns home and may have swapped it for a link: never followed
        with contextlib.suppress(OSError):
            workfiles.rmtree(home)


def _watchdog(
    limits: Limits, paths: Sequence[Path], uid: int | None, ram_dirs: Sequence[str] = ()
) -> Watchdog:
    return Watchdog(
        memory_mb=limits.memory_mb,
        cpu_seconds=limits.cpu_seconds,
        disk_mb=limits.disk_mb,
        paths=paths,
        uid=uid,
        ram_dirs=ram_dirs,
        processes=limits.processes,
    )


def _shell_style(returncode: int) -> int:
    """128 + N for a process killed by signal N, as bwrap (and a shell) report it.

    The fallback execs straight into the command, so Popen reports -N there; one convention for
    both backends keeps callers from caring which one ran.
    """
    return 128 - returncode if returncode < 0 else returncode


def _nothing_left() -> None:
    """The pid namespace took every process of the run with it."""


def _result(
    argv: Sequence[str], outcome: ProcessResult, backend: str, warnings: tuple[str, ...]
) -> SandboxResult:
    return SandboxResult(
        argv=tuple(argv),
        returncode=_shell_style(outcome.returncode),
        stdout=outcome.stdout.text(),
        stderr=outcome.stderr.text()
        + (LIMIT_MARKER.format(reason=outcome.stop_reason) if outcome.stop_reason else ""),
        duration=outcome.duration,
        timed_out=outcome.timed_out,
        truncated=bool(outcome.stdout.dropped or outcome.stderr.dropped),
        backend=backend,
        warnings=warnings,
        stopped=outcome.stopped,
        stop_reason=outcome.stop_reason,
        peak_mb=outcome.peak_mb,
    )
