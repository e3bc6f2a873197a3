"""Who a sandboxed command runs as: a fresh unprivileged uid per run, when we are root.

Workers and CI run as root, and RLIMIT_NPROC does not bind root, so a fork bomb would only stop
at the machine's limits. Running each command as its own unused uid fixes three things at once:
the process limit binds and counts only this run's processes; every process of the run, even
one that left our process group with setsid(), can be killed with `kill(-1)` sent as that uid;
and the command cannot signal or ptrace the worker. Inside bubblewrap the uid keeps one
capability, DAC_OVERRIDE, so it can write the root-owned work copy (see
`constants.KEPT_CAPABILITY`); the host's files are not mounted there. The plain-subprocess
fallback sees the whole host, so there the uid keeps no capability at all (it could otherwise
read /etc/shadow) and is lent the work copy instead (see ownership.py).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from app.sandbox.constants import KEPT_CAPABILITY, SANDBOX_UID_BASE, SANDBOX_UID_SPAN
from app.sandbox.tools import tool

_in_use: set[int] = set()
_lock = threading.Lock()


@dataclass(frozen=True)
class Identity:
    """The uid a run executes as; `uid is None` means "as ourselves" (we are not root)."""

    uid: int | None

    def wrap(self, argv: Sequence[str], *, keep_capability: bool = True) -> list[str]:
        """`argv` prefixed with the switch to this identity (setpriv).

        `keep_capability` keeps `KEPT_CAPABILITY` (bubblewrap); False drops every capability
        from the inheritable, ambient and bounding sets (the fallback, which sees the host).
        Without a uid to switch to, setpriv still sets no_new_privs: a test must not gain
        privileges through a setuid binary such as sudo.
        """
        if self.uid is None:
            return [tool("setpriv"), "--no-new-privs", "--", *argv]
        keep = f"-all,+{KEPT_CAPABILITY}" if keep_capability else "-all"
        return [
            tool("setpriv"),
            f"--reuid={self.uid}",
            f"--regid={self.uid}",
            "--clear-groups",
            f"--inh-caps={keep}",
            f"--ambient-caps={keep}",
            f"--bounding-set={keep}",
            # setuid binaries under /usr must not give root back.
            "--no-new-privs",
            "--",
            *argv,
        ]

    def kill_all(self) -> None:
        """SIGKILL every process running as this uid (nothing to do without one)."""
        if self.uid is None:
            return
        # kill(-1) signals every process the sender may signal: exactly those of this uid.
        # The kernel holds the task list while it does, so a fork bomb cannot outrun it.
        # setpriv switches the uid rather than Popen(user=...): Python cannot vfork() when it
        # must change credentials, and fork() of a big worker costs ~20 ms, this ~2 ms.
        switch = [tool("setpriv"), f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups"]
        subprocess.run(
            # The shell's built-in kill: /bin/sh is on every system, /usr/bin/kill (procps) not.
            [*switch, "--", tool("sh"), "-c", "kill -9 -1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )


@contextmanager
def fresh_identity() -> Iterator[Identity]:
    """A uid no other live run uses; the caller kills its processes, we release it on exit."""
    if os.geteuid() != 0:
        yield Identity(None)
        return
    uid = _allocate()
    try:
        yield Identity(uid)
    except BaseException:
        # Interrupted mid-run (e.g. KeyboardInterrupt): leave no process of this uid behind.
        Identity(uid).kill_all()
        raise
    finally:
        with _lock:
            _in_use.discard(uid)


def _allocate() -> int:
    with _lock:
        while True:
            uid = SANDBOX_UID_BASE + secrets.randbelow(SANDBOX_UID_SPAN)
            if uid not in _in_use:
                _in_use.add(uid)
                return uid
