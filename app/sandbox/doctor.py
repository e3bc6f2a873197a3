"""What isolation and limits are in force on this host, in words an operator can act on.

The sandbox picks its enforcement at run time (bubblewrap or the plain fallback, a cgroup v2 or
v1 group or the watchdog alone, a fresh uid or the caller's), so the same code base is strong on
one host and weak on another. `fixwurx doctor` prints this report, and the worker logs its
one-line summary at start-up, so nobody has to guess which one they got.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from app.errors import SandboxError
from app.sandbox.backends import choose_backend
from app.sandbox.bubblewrap import bwrap_prefix
from app.sandbox.cgroups import CGROUPS_ENV_VAR, Support, support
from app.sandbox.constants import BACKEND_ENV_VAR, BUBBLEWRAP, SANDBOX_UID_BASE


@dataclass(frozen=True)
class Enforcement:
    """One host's answer for each kind of enforcement, as short phrases."""

    backend: str
    resources: str
    uid: str
    network: str

    def lines(self) -> list[str]:
        """The report of `fixwurx doctor`, one line per kind."""
        return [
            f"sandbox backend:   {self.backend}",
            f"resource limits:   {self.resources}",
            f"uid switching:     {self.uid}",
            f"network isolation: {self.network}",
        ]

    def summary(self) -> str:
        """The same, on one line (the worker's start-up log)."""
        return (
            f"backend {self.backend}; resources {self.resources}; uid {self.uid}; "
            f"network {self.network}"
        )


def enforcement() -> Enforcement:
    """Probe this host as the next sandboxed run would see it."""
    try:
        backend, warnings = choose_backend()
    except SandboxError as exc:
        return Enforcement(f"none ({exc})", _resources(), _uid(), "none")
    name = backend if backend == BUBBLEWRAP else f"{backend} (fallback: {'; '.join(warnings)})"
    return Enforcement(name, _resources(), _uid(), _network(backend))


def _resources() -> str:
    try:
        found: Support = support()
    except SandboxError as exc:
        return f"unknown ({exc})"
    if found.version == "none":
        return (
            f"cgroup none: the watchdog samples memory, CPU and disk ({found.reason}); "
            f"prlimit binds each process"
        )
    return (
        f"cgroup {found.describe()}; the watchdog samples CPU and disk; prlimit binds each "
        f"process (set {CGROUPS_ENV_VAR}=off for the watchdog alone)"
    )


def _uid() -> str:
    if os.geteuid() == 0:
        return f"on: each run gets a fresh uid from {SANDBOX_UID_BASE} up"
    return "off: runs keep this user's uid (not root), so the process limit is off"


def _network(backend: str) -> str:
    if backend != BUBBLEWRAP:
        return f"OFF: the fallback shares the host's network ({BACKEND_ENV_VAR})"
    with tempfile.TemporaryDirectory(prefix="fixwurx-doctor-") as work:
        install = bwrap_prefix(Path(work), (), as_root=os.geteuid() == 0, network=True)
    steps = "own network namespace" if "--unshare-net" in install else "the host's network"
    return f"test runs: own network namespace, no route out; install steps: {steps}"
