"""Absolute paths of the helper programs the sandbox execs (bwrap, prlimit, setpriv, sh)."""

from __future__ import annotations

import functools
import shutil

from app.errors import SandboxError
from app.sandbox.constants import SYSTEM_PATH

#: Debian package that provides each helper, for the error message.
_PACKAGES = {"bwrap": "bubblewrap", "prlimit": "util-linux", "setpriv": "util-linux", "sh": "dash"}


def tool(name: str) -> str:
    """The absolute path of helper `name`; SandboxError naming the package when it is missing."""
    path = find_tool(name)
    if path is None:
        package = _PACKAGES.get(name, name)
        raise SandboxError(
            f"sandbox helper {name!r} not found in {SYSTEM_PATH}; install it "
            f"(apt-get install -y {package})"
        )
    return path


@functools.cache
def find_tool(name: str) -> str | None:
    """Look `name` up once per process, in the system directories only."""
    return shutil.which(name, path=SYSTEM_PATH)
