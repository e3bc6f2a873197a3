"""The sandbox contract. Backends live next to this module.

PLACEHOLDER: a minimal subprocess runner so the pipeline can run while the real backends
(bubblewrap + fallback) are written.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from app import defaults


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sandboxed process tree."""

    memory_mb: int = defaults.SANDBOX_MEMORY_MB
    processes: int = defaults.SANDBOX_MAX_PROCESSES
    file_size_mb: int = defaults.SANDBOX_MAX_FILE_MB
    cpu_seconds: int | None = None
    output_bytes: int = defaults.SANDBOX_MAX_OUTPUT_BYTES


@dataclass(frozen=True)
class SandboxResult:
    """How a sandboxed command ended and what it printed (possibly truncated)."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration: float
    timed_out: bool = False
    truncated: bool = False
    backend: str = "subprocess"
    warnings: tuple[str, ...] = field(default=())


def run(
    argv: Sequence[str],
    cwd: Path,
    timeout: float,
    *,
    env: Mapping[str, str] | None = None,
    limits: Limits | None = None,
) -> SandboxResult:
    """Run `argv` in `cwd` (the only writable place) within `timeout` seconds."""
    clean = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(cwd)}
    clean.update(env or {})
    start = time.monotonic()
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=clean,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        text=True,
        errors="replace",
    )
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        timed_out = True
    return SandboxResult(
        tuple(argv), proc.returncode, out, err, time.monotonic() - start, timed_out
    )
