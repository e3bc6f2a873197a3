"""The operator's settings behind the sandbox's per-run limits, and the words that name them.

A run stopped by a limit says which limit it hit and the setting that raises it (issue 25):
every stop reason the watchdog or the kernel gives ends with `raise_hint(limit)`. The defaults
(app/defaults.py) are sized from measured real suites (benchmarks/real_repos.py); a suite that
needs more gets it from these variables, on the CLI and on the App's workers alike.
"""

from __future__ import annotations

import os

from app import defaults
from app.errors import BadInput

#: The variable that sets each per-run limit, by the name a stop reason gives the limit.
SETTINGS = {
    "memory": "FIXWURX_SANDBOX_MEMORY_MB",
    "cpu": "FIXWURX_SANDBOX_CPU_SECONDS",
    "disk": "FIXWURX_SANDBOX_DISK_MB",
}
_DEFAULTS = {
    "memory": defaults.SANDBOX_MEMORY_MB,
    "cpu": defaults.SANDBOX_CPU_SECONDS,
    "disk": defaults.SANDBOX_DISK_MB,
}
_UNITS = {"memory": "MiB", "cpu": "seconds", "disk": "MiB"}


def configured(limit: str) -> int:
    """The limit's value: its variable when set, else the default; a bad value is bad input
    naming the variable (a typo must not silently fall back to the default)."""
    name = SETTINGS[limit]
    raw = os.environ.get(name, "").strip()
    if not raw:
        return _DEFAULTS[limit]
    if not raw.isdigit() or int(raw) < 1:
        raise BadInput(
            f"{name}={raw!r} is not a positive whole number of {_UNITS[limit]}; set it to e.g. "
            f"{_DEFAULTS[limit]} (the default) or unset it"
        )
    return int(raw)


def memory_mb() -> int:
    """Memory of one sandboxed run, in MiB."""
    return configured("memory")


def cpu_seconds() -> int:
    """CPU seconds of one sandboxed run, across its processes."""
    return configured("cpu")


def disk_mb() -> int:
    """What one sandboxed run may add to its writable places, in MiB."""
    return configured("disk")


def raise_hint(limit: str) -> str:
    """`raise it with FIXWURX_SANDBOX_MEMORY_MB (MiB)`: the words a stop reason ends with, so
    that the user who hit a limit knows which setting turns it up. Reads no variable: it is said
    from the watchdog's thread, where a bad value must not raise."""
    name = SETTINGS.get(limit)
    return f"raise it with {name} ({_UNITS[limit]})" if name else ""
