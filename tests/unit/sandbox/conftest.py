"""Fixtures for the sandbox tests: a work copy, the backend under test, and process inspection.

Each property test runs against both backends where it applies. The bubblewrap cases run
wherever bwrap works, CI or not; when CI is set (.ci/run sets it and installs bubblewrap) a bwrap
that does not work fails them loudly, and only elsewhere does a machine without one skip them.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.sandbox.backends import Probe, detect_bubblewrap
from app.sandbox.cgroups import CGROUPS_ENV_VAR, Support, detect
from app.sandbox.constants import BACKEND_ENV_VAR, BUBBLEWRAP, SUBPROCESS


def _require_bubblewrap() -> None:
    require_bubblewrap(detect_bubblewrap())


def require_bubblewrap(probe: Probe) -> None:
    """Return when `probe` says bwrap works; else fail under CI, skip elsewhere."""
    if probe.usable:
        return
    if os.environ.get("CI"):
        pytest.fail(f"bubblewrap must work in CI: {probe.reason}")
    pytest.skip(f"bubblewrap unusable here: {probe.reason}")


def require_cgroups(found: Support | None = None) -> None:
    """Return when this host lets FixWurx make a run cgroup; else fail under CI, skip elsewhere.

    CI runs as root on a host with cgroup v1 mounted, so a CI run without one is a broken CI.
    `found` defaults to this host's probe.
    """
    found = found or detect()
    if found.version != "none":
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must offer a cgroup for sandbox runs: {found.reason}")
    pytest.skip(f"no cgroup for sandbox runs here: {found.reason}")


@pytest.fixture
def cgroups(monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs get their own cgroup (FIXWURX_CGROUPS unset); the version in force."""
    require_cgroups()
    monkeypatch.delenv(CGROUPS_ENV_VAR, raising=False)
    return detect().version


@pytest.fixture(params=[BUBBLEWRAP, SUBPROCESS])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Forces the backend named by the parameter for the test."""
    name: str = request.param
    if name == BUBBLEWRAP:
        _require_bubblewrap()
    monkeypatch.setenv(BACKEND_ENV_VAR, name)
    return name


@pytest.fixture
def bwrap(monkeypatch: pytest.MonkeyPatch) -> str:
    """Forces bubblewrap, for properties only it provides."""
    _require_bubblewrap()
    monkeypatch.setenv(BACKEND_ENV_VAR, BUBBLEWRAP)
    return BUBBLEWRAP


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """An empty work copy; its siblings under tmp_path are 'outside'."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def marker() -> Iterator[str]:
    """A unique word to put in sandboxed command lines; no such process may outlive the test."""
    word = f"fixwurx-sandbox-test-{uuid.uuid4().hex}"
    yield word
    survivors = processes_with(word)
    for pid in survivors:  # never leave a stray process on a shared machine
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)


def processes_with(word: str) -> list[int]:
    """Host pids whose command line contains `word`."""
    found = []
    needle = word.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline:
            found.append(int(entry))
    return found


def wait_gone(word: str, within: float = 2.0) -> list[int]:
    """Pids still running with `word` after up to `within` seconds (empty when all are gone)."""
    deadline = time.monotonic() + within
    while (alive := processes_with(word)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive
