"""The sandbox's /etc: a copy of the few public files Python and test tools read.

Binding each file costs two mount calls, and with seventeen of them bwrap took ~10 ms longer
per call; one directory prepared once per process and bound as /etc costs one mount. A copy
also lets us leave out what must stay hidden, such as /etc/ssl/private.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading

from app.sandbox.constants import ETC_FILES

#: Never copied, wherever they appear under a copied directory: private keys live there.
_PRIVATE_NAMES = ("private",)

#: Added for calls with network access (install steps): name resolution for the package index.
NETWORK_ETC_FILES = ("/etc/resolv.conf",)

_lock = threading.Lock()
_staged: dict[bool, str] = {}


def staged_etc(network: bool = False) -> str:
    """The prepared /etc directory, rebuilt if something (a /tmp cleaner) removed it."""
    with _lock:
        if network in _staged and os.path.isdir(_staged[network]):
            return _staged[network]
        path = _build(NETWORK_ETC_FILES if network else ())
        _staged[network] = path
        # Removed when this process exits; a forked child (an RQ work horse) exits through
        # os._exit and leaves it to its parent.
        atexit.register(shutil.rmtree, path, True)
        return path


def _build(extra: tuple[str, ...] = ()) -> str:
    root = tempfile.mkdtemp(prefix="fixwurx-sandbox-etc-")
    os.chmod(root, 0o755)  # the sandbox's uid must be able to traverse it (see bubblewrap.py)
    for source in (*ETC_FILES, *extra):
        if os.path.lexists(source):
            _copy(source, os.path.join(root, os.path.relpath(source, "/etc")))
    return root


def _copy(source: str, dest: str) -> None:
    if os.path.islink(source):
        os.symlink(os.readlink(source), dest)
    elif os.path.isdir(source):
        shutil.copytree(source, dest, symlinks=True, ignore=shutil.ignore_patterns(*_PRIVATE_NAMES))
    else:
        shutil.copy2(source, dest)
