"""Issue 22 finding 3, for real: links an install step plants in its own folder carry no write.

A `setup:` step runs with `envs/<key>/` as its writable cwd. It plants links named after every
file FixWurx's own process writes for that build (pins.txt, declared.txt, ready.json.tmp,
ready.json, used), all pointing at a host file. The build goes on (uv from the index, in the
sandbox), and the host file keeps its content and its times.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.environments import EnvironmentRequest, prepare
from app.environments import cache as env_cache

pytestmark = pytest.mark.slow

PLANTED = ("pins.txt", "declared.txt", "ready.json.tmp", "ready.json", "used")


def test_links_planted_by_a_setup_step_never_carry_the_hosts_writes(
    tmp_path: Path, environment_cache: Path
) -> None:
    victim = tmp_path / "host" / "victim.txt"
    victim.parent.mkdir()
    victim.write_text("HOST\n")
    os.utime(victim, (1_000, 1_000))
    root = tmp_path / "repo"
    (root / "tests").mkdir(parents=True)
    (root / "tests" / "test_it.py").write_text("def test_it():\n    pass\n")
    plant = " && ".join(f"ln -sf {victim} ../{name}" for name in PLANTED)
    try:
        env = prepare(root, EnvironmentRequest(cache_dir=environment_cache, setup=(plant,)))
    finally:  # the host file, not how the build went, is the verdict
        assert victim.read_text() == "HOST\n"
        assert victim.stat().st_mtime == 1_000
    assert env.tools_added  # pins.txt was written for this build (the tools were missing)
    assert env_cache.ready(environment_cache, env.key) is not None
