"""Lend the work copy to the run's uid for one fallback call, and take it back afterwards.

The plain-subprocess fallback has no mount namespace: the sandboxed uid sees the host's files.
Giving it DAC_OVERRIDE (as inside bubblewrap) would let it read /etc/shadow, so it keeps no
capability at all, and writes the work copy because it owns it for the duration of the call.
Afterwards everything under the work copy belongs to us again, so our own git does not call
the repository "dubious" and the next call's uid starts from the same state.

The directories above the work copy and above this interpreter's installation get search
permission for others where they lack it (a mkdtemp() parent is 0700, a pyenv Python lives under
/root): search reveals no names, and the uid needs it to reach its own files and `python` by
absolute path. The files themselves keep their permission bits, which now bind. Ownership
changes never follow a link (`lchown`), so a link the tests plant cannot hand a host file to
anyone.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@contextlib.contextmanager
def lent_to(work: Path, uid: int) -> Iterator[None]:
    """Own `work` (and everything in it) as `uid` inside the block; as ourselves after it.

    A work copy has one owner at a time: concurrent fallback calls in the same directory take
    turns (the chain gives each parallel candidate its own copy, so they do not wait).
    """
    with _lock_for(work):
        let_others_search_above(work)
        _chown_tree(work, uid, uid)
        try:
            yield
        finally:
            # The caller has killed every process of `uid` by now: nothing can race the walk.
            _chown_tree(work, os.geteuid(), os.getegid())


def _lock_for(work: Path) -> threading.Lock:
    key = os.path.realpath(work)
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    lending = uid != os.geteuid()
    os.lchown(root, uid, gid)
    for top, dirs, files in os.walk(root, followlinks=False):
        for name in (*dirs, *files):
            path = os.path.join(top, name)
            with contextlib.suppress(FileNotFoundError):  # removed while we walk: nothing to do
                # A file with several names may have one outside the work copy (a hard link a
                # test made): it is not ours to lend.
                if lending and _shared_inode(path):
                    continue
                os.lchown(path, uid, gid)


def _shared_inode(path: str) -> bool:
    st = os.lstat(path)
    return not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1


def let_others_search_above(path: Path) -> None:
    """Add search permission for others to each directory above `path` that lacks it."""
    for parent in Path(path).absolute().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
