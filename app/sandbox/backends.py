"""Which backend runs a command: bubblewrap when it works here, else a plain subprocess.

Whether bwrap works is probed once per process (it needs user namespaces or root, which some
containers forbid) by running a real, tiny sandbox. The fallback is loud: every result carries a
warning, and the first use logs one, because without bubblewrap the network and the host's
files are reachable from the tests.
"""

from __future__ import annotations

import functools
import logging
import os
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from app.errors import SandboxError
from app.sandbox.bubblewrap import bwrap_prefix
from app.sandbox.constants import BACKEND_ENV_VAR, BUBBLEWRAP, PROBE_TIMEOUT_S, SUBPROCESS
from app.sandbox.identity import fresh_identity
from app.sandbox.tools import find_tool

log = logging.getLogger(__name__)

FALLBACK_WARNING = (
    "bubblewrap is not in use: network isolation is OFF and the host file system is exposed "
    "to the sandboxed command (readable, and writable wherever this worker can write) ({reason})"
)


@dataclass(frozen=True)
class Probe:
    """Whether bubblewrap works on this machine, and why not when it does not."""

    usable: bool
    reason: str


def choose_backend() -> tuple[str, tuple[str, ...]]:
    """The backend for the next call and the warnings its result must carry."""
    forced = os.environ.get(BACKEND_ENV_VAR, "").strip().lower()
    if forced not in ("", "auto", BUBBLEWRAP, SUBPROCESS):
        raise SandboxError(
            f"{BACKEND_ENV_VAR}={forced!r} is not a sandbox backend; "
            f"use {BUBBLEWRAP!r}, {SUBPROCESS!r} or leave it unset"
        )
    if forced == SUBPROCESS:
        return SUBPROCESS, (_fallback_warning(f"{BACKEND_ENV_VAR}={SUBPROCESS}"),)
    probe = detect_bubblewrap()
    if probe.usable:
        return BUBBLEWRAP, ()
    if forced == BUBBLEWRAP:
        raise SandboxError(
            f"{BACKEND_ENV_VAR}={BUBBLEWRAP} but bubblewrap does not work here: {probe.reason}. "
            "Install it (apt-get install -y bubblewrap) or unset the variable."
        )
    return SUBPROCESS, (_fallback_warning(probe.reason),)


def check_service_backend(probe: Probe | None = None) -> None:
    """SandboxError, in one line, unless bubblewrap works here or the operator chose the fallback.

    The App worker runs code from repositories it does not know; without bubblewrap that code
    reads the host and reaches the network, so the worker must not start silently without it.
    The CLI (the user's own checkout) only warns. `probe` defaults to this machine's.
    """
    if os.environ.get(BACKEND_ENV_VAR, "").strip().lower() == SUBPROCESS:
        return
    probe = probe or detect_bubblewrap()
    if not probe.usable:
        raise SandboxError(
            f"refusing to start: bubblewrap does not work here ({probe.reason}), and without it "
            "repository code could read this host's files and reach its network; install "
            f"bubblewrap, or set {BACKEND_ENV_VAR}={SUBPROCESS} to accept that risk"
        )


@functools.cache
def detect_bubblewrap() -> Probe:
    """`probe_bubblewrap()` for the installed bwrap, run once per process."""
    return probe_bubblewrap(find_tool("bwrap"))


def probe_bubblewrap(bwrap: str | None) -> Probe:
    """Run `true` in a real sandbox built the way `run` builds one, with the given bwrap."""
    if bwrap is None:
        return Probe(False, "bwrap is not installed")
    with tempfile.TemporaryDirectory(prefix="fixwurx-probe-") as tmp, fresh_identity() as who:
        work = Path(tmp, "nested", "work")  # nested, so the probe covers --dir parents too
        work.mkdir(parents=True)
        argv = bwrap_prefix(work, (), as_root=who.uid is not None)
        argv[0] = bwrap
        try:
            done = subprocess.run(
                [*argv, *who.wrap(["true"])],
                capture_output=True,
                timeout=PROBE_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired, SandboxError) as exc:
            return Probe(False, f"{bwrap} failed to start: {exc}")
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip() or f"exit {done.returncode}"
        return Probe(False, f"{bwrap} cannot create a sandbox here: {detail}")
    return Probe(True, "")


_logged = threading.Event()


def _fallback_warning(reason: str) -> str:
    message = FALLBACK_WARNING.format(reason=reason)
    if not _logged.is_set():
        _logged.set()
        log.warning("sandbox: %s", message)
    return message
