"""The only place where code from a repository runs.

`run(argv, cwd, timeout)` executes a command with no network, a scrubbed environment, resource
limits and a wall-clock limit that kills the whole process group. Bubblewrap is used where
present; otherwise a plain subprocess with the same scrub and limits, and a warning that network
isolation is off.
"""

from __future__ import annotations

from app.sandbox.api import Limits, SandboxResult, run

__all__ = ["Limits", "SandboxResult", "run"]
