"""Where environments live, one lock per key, reuse, and least-recently-used eviction.

Layout under the cache directory (one per CLI user or App worker):

    envs/<key>/            the build folder: the install steps' writable cwd (never trusted)
    envs/<key>/venv        the virtualenv (read-only to test runs)
    meta/<key>.json        written last: an environment without it is a failed or partial build
    meta/<key>.used        touched on every use: its mtime orders eviction
    choices/<digest>.json  which key a request (dependency files, setup, python, probe) chose
    locks/<key>.lock       flock(2): two runs never build the same key at once
    uv/<scope>/            uv's download cache, shared only by the builds of one scope (one
                           repository: the App's repository id, the CLI's origin URL or path),
                           removed with that scope's last environment, capped in size
    uv-used/<scope>        touched on every build of the scope: its mtime orders eviction (kept
                           outside uv/<scope>/, which install steps can write)

The key is a hash of the interpreter and of the dependency files and setup commands, so an edit
to any of them builds a new environment, and everything else reuses the old one.

What FixWurx decides from (the ready record, the use stamp, the choices) lives outside every
directory a sandbox binds writable: an install step can plant links in `envs/<key>/`, and a
write there would follow them to any host file. Every file call here goes through
app/workfiles.py (no link followed), host-only directories included.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app import workfiles

#: Bumped when the build recipe changes, so old environments are not reused by mistake.
RECIPE_VERSION = "1"


def key_for(*parts: str) -> str:
    """A short stable digest of the parts (and the recipe version)."""
    digest = hashlib.sha256("\0".join((RECIPE_VERSION, *parts)).encode()).hexdigest()
    return digest[:24]


def scope_id(scope: str) -> str:
    """The directory name of a scope's uv cache ("shared" for the CLI's empty scope)."""
    return key_for("scope", scope)[:16] if scope else "shared"


def uv_cache(cache: Path, scope: str) -> Path:
    """uv's download cache for the builds of `scope`."""
    return cache / "uv" / scope_id(scope)


def touch_uv_cache(cache: Path, scope: str) -> None:
    """Record a use of `scope`'s uv cache (for least-recently-used eviction)."""
    folder = cache / "uv-used"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / scope_id(scope)).touch()


def uv_cache_mb(folder: Path) -> float:
    """How many MB a uv cache holds (files only, links not followed)."""
    return _size_mb(folder)


def empty_uv_cache(folder: Path) -> None:
    """Remove everything in a uv cache, keeping the (empty) directory for the next step."""
    with contextlib.suppress(OSError):  # written by install steps: links never followed
        workfiles.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)


def env_dir(cache: Path, key: str) -> Path:
    """The directory of environment `key` (the build steps' writable folder), by its real path:
    the sandbox binds only a directory reached through no link."""
    return Path(os.path.realpath(cache)) / "envs" / key


def meta_dir(cache: Path) -> Path:
    """Where the ready records and use stamps live: host-only, never bound into a sandbox."""
    folder = Path(os.path.realpath(cache)) / "meta"
    folder.mkdir(parents=True, exist_ok=True)  # host-only
    return folder


@contextlib.contextmanager
def locked(cache: Path, key: str) -> Iterator[None]:
    """Hold the build lock of `key` (blocking: a second run waits for the first build)."""
    folder = cache / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{key}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def record_path(cache: Path, key: str) -> Path:
    """The ready record of `key` (host-only)."""
    return meta_dir(cache) / f"{key}.json"


def used_path(cache: Path, key: str) -> Path:
    """The use stamp of `key` (host-only)."""
    return meta_dir(cache) / f"{key}.used"


def ready(cache: Path, key: str) -> dict[str, Any] | None:
    """The record of a complete environment, or None (also when its venv is not a real
    directory: a build step could have left a link there, and test runs bind the venv)."""
    try:
        data = json.loads(workfiles.read_text(meta_dir(cache), f"{key}.json", max_bytes=1 << 20))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or workfiles.is_link(env_dir(cache, key), "venv"):
        return None
    return data if workfiles.exists(env_dir(cache, key), "venv") else None


def mark_ready(cache: Path, key: str, record: dict[str, Any]) -> None:
    """Write the record last, atomically, outside the build folder: from now on the
    environment may be reused."""
    record = {**record, "mb": _size_mb(env_dir(cache, key))}
    meta = meta_dir(cache)
    workfiles.write_text(meta, f"{key}.json.tmp", json.dumps(record), replace_link=True)
    workfiles.replace(meta, f"{key}.json.tmp", f"{key}.json")
    touch(cache, key)


def touch(cache: Path, key: str) -> None:
    """Record a use of `key` (for least-recently-used eviction)."""
    workfiles.touch(meta_dir(cache), f"{key}.used")


def last_used(cache: Path, key: str) -> float:
    """When `key` was last used (0 when never recorded)."""
    try:
        return workfiles.stat_inside(meta_dir(cache), f"{key}.used").st_mtime
    except OSError:
        return 0.0


def discard(cache: Path, key: str) -> None:
    """Remove a partial or failed build and its records (links removed, never followed)."""
    for name in (f"{key}.json", f"{key}.json.tmp", f"{key}.used"):
        workfiles.remove(meta_dir(cache), name)
    with contextlib.suppress(OSError):
        workfiles.rmtree(env_dir(cache, key))


def remember_choice(cache: Path, digest: str, key: str) -> None:
    """Which environment a request ended up with, so the next run skips the ladder."""
    folder = Path(os.path.realpath(cache)) / "choices"
    folder.mkdir(parents=True, exist_ok=True)  # host-only
    workfiles.write_text(folder, f"{digest}.tmp", json.dumps({"key": key}), replace_link=True)
    workfiles.replace(folder, f"{digest}.tmp", f"{digest}.json")


def recall_choice(cache: Path, digest: str) -> str | None:
    """The key chosen earlier for this request, if that environment still exists."""
    try:
        choices = Path(os.path.realpath(cache)) / "choices"
        text = workfiles.read_text(choices, f"{digest}.json", max_bytes=1 << 16)
        key = json.loads(text)["key"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return key if isinstance(key, str) and ready(cache, key) is not None else None


def evict(
    cache: Path, keep: str, max_entries: int, max_mb: int, keep_scope: str | None = None
) -> list[str]:
    """Remove the least recently used environments and uv caches beyond the bounds.

    `max_entries` counts environments; `max_mb` counts environments and uv caches together, so
    a cache a build filled is evicted like an environment. Never `keep`, nor `keep_scope`'s uv
    cache (both in use). Returns the removed keys (`uv/<scope id>` for a uv cache).
    """
    entries: list[tuple[float, str, str, float]] = []  # (last use, kind, name, MB)
    for folder in (cache / "envs").glob("*"):
        record = ready(cache, folder.name)
        if record is None:
            continue
        entries.append(
            (last_used(cache, folder.name), "env", folder.name, float(record.get("mb", 0.0)))
        )
    kept_uv = scope_id(keep_scope) if keep_scope is not None else None
    for folder in (cache / "uv").glob("*"):
        if folder.is_symlink() or not folder.is_dir():
            continue
        stamp_file = cache / "uv-used" / folder.name
        stamp = stamp_file.stat().st_mtime if stamp_file.exists() else 0.0
        entries.append((stamp, "uv", folder.name, uv_cache_mb(folder)))
    entries.sort(reverse=True)  # most recent first
    total = sum(mb for *_, mb in entries)
    count = sum(1 for _, kind, *_ in entries if kind == "env")
    removable = [e for e in entries if (e[1], e[2]) not in (("env", keep), ("uv", kept_uv))]
    removed: list[str] = []
    while True:
        over_size = total > max_mb
        if count <= max_entries and not over_size:
            break
        pool = [e for e in removable if over_size or e[1] == "env"]
        if not pool:
            break
        victim = pool[-1]  # the least recently used
        removable.remove(victim)
        _stamp, kind, name, mb = victim
        if kind == "env":
            discard(cache, name)
            removed.append(name)
            count -= 1
        else:
            with contextlib.suppress(OSError):  # written by install steps: links never followed
                workfiles.rmtree(cache / "uv" / name)
            with contextlib.suppress(OSError):
                (cache / "uv-used" / name).unlink()
            removed.append(f"uv/{name}")
        total -= mb
    if removed:
        _drop_orphan_uv_caches(cache, kept_uv)
    return removed


def _drop_orphan_uv_caches(cache: Path, in_use: str | None = None) -> None:
    """Remove the uv caches of scopes that have no environment left (they would only grow)."""
    alive = {
        str(record.get("scope", "shared"))
        for folder in (cache / "envs").glob("*")
        if (record := ready(cache, folder.name)) is not None
    } | ({in_use} if in_use else set())
    for folder in (cache / "uv").glob("*"):
        if folder.name not in alive and folder.is_dir() and not folder.is_symlink():
            with contextlib.suppress(OSError):
                workfiles.rmtree(folder)
            with contextlib.suppress(OSError):
                (cache / "uv-used" / folder.name).unlink()


def _size_mb(folder: Path) -> float:
    total = 0
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return round(total / 1_000_000, 1)


def now() -> float:
    """Monotonic seconds (a seam for timing builds)."""
    return time.monotonic()
