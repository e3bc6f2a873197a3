"""The environment cache: complete entries only, least recently used evicted, never the one in use."""

from __future__ import annotations

import os
from pathlib import Path

from app.environments import cache


def _entry(root: Path, key: str, used_at: float, mb: float = 1.0) -> None:
    (cache.env_dir(root, key) / "venv").mkdir(parents=True)
    cache.mark_ready(root, key, {"python_version": "3.11.0"})
    record = cache.record_path(root, key)
    record.write_text(record.read_text().replace('"mb": 0.0', f'"mb": {mb}'))
    os.utime(cache.used_path(root, key), (used_at, used_at))


def test_the_least_recently_used_go_first_and_the_current_one_stays(tmp_path: Path) -> None:
    for number, key in enumerate(["old", "middle", "new", "current"]):
        _entry(tmp_path, key, used_at=1_000_000 + number * 10)
    os.utime(cache.used_path(tmp_path, "current"), (1, 1))  # oldest stamp, but in use
    removed = cache.evict(tmp_path, keep="current", max_entries=2, max_mb=10_000)
    assert removed == ["old", "middle"]
    assert sorted(p.name for p in (tmp_path / "envs").iterdir()) == ["current", "new"]


def test_the_size_bound_evicts_too(tmp_path: Path) -> None:
    _entry(tmp_path, "a", used_at=1_000_000, mb=300)
    _entry(tmp_path, "b", used_at=1_000_010, mb=300)
    assert cache.evict(tmp_path, keep="b", max_entries=10, max_mb=400) == ["a"]


def test_a_build_without_its_ready_record_is_never_reused(tmp_path: Path) -> None:
    (cache.env_dir(tmp_path, "partial") / "venv").mkdir(parents=True)
    assert cache.ready(tmp_path, "partial") is None
    cache.remember_choice(tmp_path, "request", "partial")
    assert cache.recall_choice(tmp_path, "request") is None


def test_a_scopes_uv_cache_goes_with_its_last_environment(tmp_path: Path) -> None:
    _entry(tmp_path, "gone", used_at=1_000_000)
    _entry(tmp_path, "kept", used_at=1_000_010)
    for key, scope in (("gone", "repo:1"), ("kept", "repo:2")):
        record = cache.record_path(tmp_path, key)
        record.write_text(
            record.read_text().replace("{", f'{{"scope": "{cache.scope_id(scope)}", ', 1)
        )
        cache.uv_cache(tmp_path, scope).mkdir(parents=True)
    assert cache.evict(tmp_path, keep="kept", max_entries=1, max_mb=10_000) == ["gone"]
    assert not cache.uv_cache(tmp_path, "repo:1").exists()
    assert cache.uv_cache(tmp_path, "repo:2").is_dir()


def _uv(root: Path, scope: str, mb: int, used_at: float) -> Path:
    folder = cache.uv_cache(root, scope)
    folder.mkdir(parents=True)
    (folder / "blob").write_bytes(b"\0" * mb * 1_000_000)
    cache.touch_uv_cache(root, scope)
    stamp = root / "uv-used" / cache.scope_id(scope)
    os.utime(stamp, (used_at, used_at))
    return folder


def test_uv_caches_count_toward_the_size_bound_and_go_least_recently_used_first(
    tmp_path: Path,
) -> None:
    for key, scope, used in (("a", "repo:a", 1_000_005), ("b", "repo:b", 1_000_010)):
        _entry(tmp_path, key, used_at=used, mb=1)
        record = cache.record_path(tmp_path, key)
        record.write_text(
            record.read_text().replace("{", f'{{"scope": "{cache.scope_id(scope)}", ', 1)
        )
    old = _uv(tmp_path, "repo:a", 3, used_at=1_000_001)
    new = _uv(tmp_path, "repo:b", 3, used_at=1_000_020)
    # 2 MB of environments and 6 MB of uv caches under a 5 MB bound: the older cache goes first.
    removed = cache.evict(tmp_path, keep="b", max_entries=10, max_mb=5, keep_scope="repo:b")
    assert removed == [f"uv/{cache.scope_id('repo:a')}"]
    assert not old.exists() and new.is_dir() and cache.ready(tmp_path, "a") is not None
    assert not (tmp_path / "uv-used" / cache.scope_id("repo:a")).exists()


def test_the_uv_cache_in_use_is_never_evicted(tmp_path: Path) -> None:
    _entry(tmp_path, "current", used_at=1_000_000, mb=1)
    in_use = _uv(tmp_path, "repo:busy", 4, used_at=1)
    assert (
        cache.evict(tmp_path, keep="current", max_entries=10, max_mb=2, keep_scope="repo:busy")
        == []
    )
    assert in_use.is_dir()


def test_links_a_build_step_planted_in_its_folder_never_carry_the_hosts_writes(
    tmp_path: Path,
) -> None:
    """Issue 22 finding 3: the steps' folder is theirs; the ready record and the use stamp are
    not written there, and nothing written for a key follows a link left in its folder."""
    victim = tmp_path / "host" / "victim.txt"
    victim.parent.mkdir()
    victim.write_text("HOST\n")
    os.utime(victim, (1_000, 1_000))
    folder = cache.env_dir(tmp_path / "cache", "k")
    (folder / "venv").mkdir(parents=True)
    for name in ("ready.json.tmp", "ready.json", "used"):
        (folder / name).symlink_to(victim)
    cache.mark_ready(tmp_path / "cache", "k", {"python_version": "3.11.0"})
    cache.touch(tmp_path / "cache", "k")
    assert victim.read_text() == "HOST\n" and victim.stat().st_mtime == 1_000
    assert cache.ready(tmp_path / "cache", "k") is not None


def test_a_venv_a_build_step_swapped_for_a_link_is_not_ready(tmp_path: Path) -> None:
    folder = cache.env_dir(tmp_path, "k")
    folder.mkdir(parents=True)
    (folder / "venv").symlink_to(tmp_path)  # test runs would bind it read-only
    cache.mark_ready(tmp_path, "k", {"python_version": "3.11.0"})
    assert cache.ready(tmp_path, "k") is None
