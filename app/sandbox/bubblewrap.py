"""The bubblewrap command line: namespaces, and a root file system built from read-only binds.

Only what a Python test run needs is mounted: /usr (and the merged-/usr symlinks), a few /etc
files, this interpreter's installation and venv, and `readonly_paths`. Everything else on the
host (/root, /home, /work, the rest of /etc) does not exist inside. The work copy is the only
writable host path; /tmp is a private tmpfs; the root itself is remounted read-only.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from app.errors import SandboxError
from app.sandbox.constants import SANDBOX_TMP_MB, SYSTEM_DIRS
from app.sandbox.etc import staged_etc
from app.sandbox.tools import tool

#: Namespaces and process hygiene. Every call gets its own network namespace, with nothing in it
#: but its own loopback (install steps reach their index only through egress.py); bwrap's pid 1
#: takes the whole tree down with it; --new-session stops TIOCSTI injection into a terminal.
_ISOLATION = (
    "--unshare-net",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    "--hostname",
    "sandbox",
    "--die-with-parent",
    "--new-session",
)
#: What the first process inside needs to become the run's unprivileged uid (see identity.py).
_ROOT_CAPS = ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_DAC_OVERRIDE")


def bwrap_prefix(
    cwd: Path,
    readonly_paths: Sequence[Path],
    *,
    as_root: bool,
    tmp_mb: int = SANDBOX_TMP_MB,
    network: bool = False,
    host_python: bool = True,
    writable_paths: Sequence[Path] = (),
    egress_binds: Sequence[tuple[str, ...]] = (),
    cwd_fd: int | None = None,
) -> list[str]:
    """The bwrap arguments, up to and including `--`, for a command that runs in `cwd`.

    The network namespace is never shared with the host, not even for install steps: `network`
    only adds name resolution files, and `egress_binds` the egress proxy's socket and forwarder
    (egress.py), the one way out, which leads only to the configured package indexes.
    `host_python` False leaves FixWurx's own interpreter and venv out, so a repository's tests
    run on their own environment and cannot import FixWurx's packages. `writable_paths` are
    extra host paths bound read-write (an installer's download cache). `cwd_fd`, an fd the
    caller opened on `cwd` through no link, is what gets bound (`--bind-fd`): never a path that
    sandboxed code could have swapped for a link since (app/sandbox/api.py `opened_cwd`).
    """
    work = _existing(cwd, "cwd")
    mounts = [*_system_mounts(host_python), ("--ro-bind", staged_etc(network), "/etc")]
    mounts += [("--proc", "/proc"), ("--dev", "/dev")]
    size = str(tmp_mb * 1024 * 1024)
    for tmpfs in ("/tmp", "/dev/shm"):  # in RAM: capped, or a test could fill the machine's
        mounts.append(("--perms", "1777", "--size", size, "--tmpfs", tmpfs))
    for path in readonly_paths:
        real = _existing(path, "readonly_paths entry")
        mounts.append(("--ro-bind", real, real))
    for path in writable_paths:
        real = _existing(path, "writable_paths entry")
        mounts.append(("--bind", real, real))
    mounts += [tuple(bind) for bind in egress_binds]
    if cwd_fd is not None:
        work = str(cwd)
        mounts.append(("--bind-fd", str(cwd_fd), work))
    else:
        mounts.append(("--bind", work, work))
        if str(cwd) != work:  # reached through a symlink: the caller may use either spelling
            mounts.append(("--bind", work, str(cwd)))
    mounts += _traversable_parents(mounts)
    args = [tool("bwrap"), *_ISOLATION, *_capability_args(as_root)]
    for mount in _parents_first(mounts):
        args += mount
    return [*args, "--remount-ro", "/", "--chdir", work, "--"]


def _traversable_parents(mounts: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Create the directories above each bind as 0755, where bwrap would copy the host's 0700.

    The sandboxed uid reaches its files through DAC_OVERRIDE, but access(2) ignores capabilities
    for a non-root uid: git's `access(".git/objects", X_OK)` fails under a 0700 parent such as
    pytest's /tmp/pytest-of-root, and git then says "not a git repository".
    """
    binds = [m[-1] for m in mounts if m[0] in ("--bind", "--ro-bind", "--bind-fd")]
    parents: set[str] = set()
    for dest in binds:
        parents.update(str(p) for p in Path(dest).parents if str(p) != "/")
    mounted = {m[-1] for m in mounts}  # e.g. the /tmp tmpfs keeps its own 1777
    return [
        ("--perms", "0755", "--dir", parent)
        for parent in sorted(parents)
        if parent not in mounted and not any(_within(parent, b) for b in binds)
    ]


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _parents_first(mounts: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Order mounts so none hides a later one: a work copy at /w must not cover a venv at /w/.venv.

    Sorting by the depth of the destination (the last argument) mounts parents before children;
    the sort is stable, so at equal depth the later entry (the work copy) wins.
    """
    return sorted(mounts, key=lambda mount: len(Path(mount[-1]).parts))


def _capability_args(as_root: bool) -> list[str]:
    if not as_root:
        # An ordinary user gets its own user namespace; RLIMIT_NPROC then counts per namespace.
        return ["--unshare-user"]
    # As root bwrap would keep every capability; keep only those setpriv needs to drop to the uid.
    args = ["--cap-drop", "ALL"]
    for cap in _ROOT_CAPS:
        args += ["--cap-add", cap]
    return args


@functools.cache
def _system_mounts(host_python: bool = True) -> tuple[tuple[str, ...], ...]:
    """The system part of the mount plan; it cannot change while we run, so it is built once."""
    mounts: list[tuple[str, ...]] = [("--ro-bind", "/usr", "/usr")]
    for top in SYSTEM_DIRS:
        if os.path.islink(top):
            mounts.append(("--symlink", os.readlink(top), top))
        elif os.path.isdir(top):
            mounts.append(("--ro-bind", top, top))
    for root in python_roots() if host_python else ():
        mounts.append(("--ro-bind", root, root))
    return tuple(mounts)


def python_roots() -> list[str]:
    """This interpreter's installation and venv: the host paths `python -m pytest` needs."""
    candidates = {
        sys.prefix,
        sys.exec_prefix,
        sys.base_prefix,
        sys.base_exec_prefix,
        str(Path(os.path.realpath(sys.executable)).parent),
    }
    return _outermost(os.path.realpath(p) for p in candidates if os.path.isdir(p))


def _outermost(paths: Iterable[str]) -> list[str]:
    """Drop paths under /usr (already bound) or under another path of the set."""
    kept: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(_within(path, c) for c in ["/usr", *kept]):
            kept.append(path)
    return kept


def _existing(path: Path, what: str) -> str:
    real = os.path.realpath(path)
    if not os.path.exists(real):
        raise SandboxError(f"sandbox {what} {str(path)!r} does not exist; pass an existing path")
    return real
