"""The sandbox binds the directory it opened, never where a path points by the time bwrap runs.

Issue 22 finding 1: a work copy swapped for a link to a host directory between FixWurx's check
and bubblewrap's mount must not hand that directory to the run. The swap is made at the last
host step before the spawn, as a racing test process would.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app import sandbox
from app.sandbox import api


def test_a_cwd_swapped_for_a_link_after_the_check_is_not_what_gets_bound(
    bwrap: str, work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.geteuid() != 0:  # the swap hooks the root-only o+x step; CI runs as root
        if os.environ.get("CI"):
            pytest.fail("CI runs as root: this test must run there")
        pytest.skip("the swap hooks the root-only o+x step")
    host = tmp_path / "host-dir"
    host.mkdir()
    moved = tmp_path / "work-moved"
    real_traverse = api._let_others_traverse

    def swap_then_traverse(cwd_fd: int) -> None:
        work.rename(moved)
        work.symlink_to(host)
        real_traverse(cwd_fd)

    monkeypatch.setattr(api, "_let_others_traverse", swap_then_traverse)
    result = sandbox.run(["sh", "-c", "echo x > planted && pwd"], work, 20)
    assert result.ok, result.stderr
    assert os.listdir(host) == []
    assert (moved / "planted").read_text() == "x\n"
