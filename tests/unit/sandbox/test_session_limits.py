"""A long-lived sandbox session is bounded like a run: its own cgroup, no host stderr file."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from app.sandbox import Limits
from app.sandbox.session import SessionError, open_session
from tests.unit.sandbox.test_cgroups import _fixwurx_groups, _group_dirs

#: Answers each request line; {"hold": N} holds N MiB in memfds, {"spew": N} writes N MiB to
#: stderr.
SERVER = """
import json, os, sys, time
print(json.dumps({"ready": True}), flush=True)
held = []
for line in sys.stdin:
    req = json.loads(line)
    for _ in range(req.get("hold", 0) // 64):
        fd = os.memfd_create("hold")
        os.write(fd, b"h" * (64 * 1024 * 1024))
        held.append(fd)
    for _ in range(req.get("spew", 0)):
        os.write(2, b"e" * (1024 * 1024))
    print(json.dumps({"pid": os.getpid()}), flush=True)
"""


def test_the_session_stderr_is_no_host_file(bwrap: str, work: Path) -> None:
    session = open_session([sys.executable, "-c", SERVER], work)
    try:
        assert session.read(30) == {"ready": True}
        assert session.request({"spew": 8}, 30)
        target = os.readlink(f"/proc/{session._proc.pid}/fd/2")
        assert target == "/dev/null", target  # was a deleted host temp file that kept growing
    finally:
        session.close()


def test_a_session_is_held_in_its_own_cgroup_and_stopped_by_the_kernel(
    bwrap: str, cgroups: str, work: Path
) -> None:
    before = _fixwurx_groups()
    session = open_session([sys.executable, "-c", SERVER], work, limits=Limits(memory_mb=512))
    try:
        assert session.read(30) == {"ready": True}
        dirs = _group_dirs(session._proc.pid)
        assert "memory" in dirs and all(p.exists() for p in dirs.values())
        with pytest.raises(SessionError):
            session.request({"hold": 1024}, 30)
        deadline = time.monotonic() + 5
        while session.stopped is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert session.stopped is not None and "OOM" in session.stopped, session.stopped
    finally:
        session.close()
    assert _fixwurx_groups() == before
