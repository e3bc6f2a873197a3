"""Resource limits, applied with prlimit(1) right before the sandbox starts.

Limits are inherited across fork and exec, so setting them on the first process of the chain
covers every process the command starts. prlimit execs into the next program, which keeps the
per-call cost to one exec and avoids `preexec_fn` (unsafe in a threaded worker).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.sandbox.tools import tool

if TYPE_CHECKING:
    from app.sandbox.api import Limits

_MIB = 1024 * 1024


def prlimit_prefix(limits: Limits, *, limit_processes: bool) -> list[str]:
    """The prlimit command line that applies `limits` to what follows it.

    `limit_processes` is False when RLIMIT_NPROC would count processes that are not the sandbox's
    (we are an ordinary user, not root switching to a fresh uid) and so could refuse every fork.
    """
    args = [
        tool("prlimit"),
        f"--as={limits.memory_mb * _MIB}",
        f"--fsize={limits.file_size_mb * _MIB}",
        # No core dumps: they would land in the work copy and could be as big as the memory limit.
        "--core=0",
    ]
    if limit_processes:
        args.append(f"--nproc={limits.processes}")
    if limits.cpu_seconds is not None:
        # SIGXCPU at the soft limit (a process may print a traceback), SIGKILL a second later.
        args.append(f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 1}")
    return [*args, "--"]


def nproc_prefix(limits: Limits) -> list[str]:
    """prlimit setting only RLIMIT_NPROC, for use inside bwrap's user namespace (not root).

    A user namespace counts processes per namespace, but checks the parent namespace's count
    (all of the user's processes) against the limit its creator had: set before bwrap, the
    limit would count the user's desktop too; set inside, it counts the sandbox alone.
    """
    return [tool("prlimit"), f"--nproc={limits.processes}", "--"]
