"""Where environments live, one lock per key, reuse, and least-recently-used eviction.

Layout under the cache directory (one per CLI user or App worker):

    envs/<key>/venv        the virtualenv (read-only to test runs)
    envs/<key>/ready.json  written last: an environment without it is a failed or partial build
    envs/<key>/used        touched on every use: its mtime orders eviction
    choices/<digest>.json  which key a request (dependency files, setup, python, probe) chose
    locks/<key>.lock       flock(2): two runs never build the same key at once
    uv/<scope>/            uv's download cache, shared only by the builds of one scope (one
                           repository: the App's repository id, the CLI's origin URL or path),
                           removed with that scope's last environment, capped in size
    uv-used/<scope>        touched on every build of the scope: its mtime orders eviction (kept
                           outside uv/<scope>/, which install steps can write)

The key is a hash of the interpreter and of the dependency files and setup commands, so an edit
to any of them builds a new environment, and everything else reuses the old one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)


def env_dir(cache: Path, key: str) -> Path:
    """The directory of environment `key`."""
    return cache / "envs" / key


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


def ready(cache: Path, key: str) -> dict[str, Any] | None:
    """The record of a complete environment, or None."""
    path = env_dir(cache, key) / "ready.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and (env_dir(cache, key) / "venv").is_dir() else None


def mark_ready(cache: Path, key: str, record: dict[str, Any]) -> None:
    """Write the record last, atomically: from now on the environment may be reused."""
    folder = env_dir(cache, key)
    record = {**record, "mb": _size_mb(folder)}
    tmp = folder / "ready.json.tmp"
    tmp.write_text(json.dumps(record), encoding="utf-8")
    os.replace(tmp, folder / "ready.json")
    touch(cache, key)


def touch(cache: Path, key: str) -> None:
    """Record a use of `key` (for least-recently-used eviction)."""
    (env_dir(cache, key) / "used").touch()


def discard(cache: Path, key: str) -> None:
    """Remove a partial or failed build."""
    shutil.rmtree(env_dir(cache, key), ignore_errors=True)


def remember_choice(cache: Path, digest: str, key: str) -> None:
    """Which environment a request ended up with, so the next run skips the ladder."""
    folder = cache / "choices"
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{digest}.tmp"
    tmp.write_text(json.dumps({"key": key}), encoding="utf-8")
    os.replace(tmp, folder / f"{digest}.json")


def recall_choice(cache: Path, digest: str) -> str | None:
    """The key chosen earlier for this request, if that environment still exists."""
    try:
        key = json.loads((cache / "choices" / f"{digest}.json").read_text(encoding="utf-8"))["key"]
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
        used = folder / "used"
        stamp = used.stat().st_mtime if used.exists() else 0.0
        entries.append((stamp, "env", folder.name, float(record.get("mb", 0.0))))
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
            shutil.rmtree(cache / "uv" / name, ignore_errors=True)
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
            shutil.rmtree(folder, ignore_errors=True)
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
