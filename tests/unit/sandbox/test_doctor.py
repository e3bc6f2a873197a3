"""`fixwurx doctor` names the enforcement actually in force, and changes when it changes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli
from app.sandbox.cgroups import CGROUPS_ENV_VAR
from app.sandbox.constants import BACKEND_ENV_VAR
from tests.conftest import ROOT


def _doctor() -> str:
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 0, result.output
    return result.output


def test_doctor_names_bubblewrap_the_cgroup_and_its_controllers(bwrap: str, cgroups: str) -> None:
    out = _doctor()
    assert "sandbox backend:   bubblewrap\n" in out
    assert f"resource limits:   cgroup {cgroups} (memory, pids" in out, out
    assert "network isolation: test runs: own network namespace" in out
    if os.geteuid() == 0:
        assert "uid switching:     on: each run gets a fresh uid" in out


def test_doctor_says_when_only_the_watchdog_bounds_memory(
    bwrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CGROUPS_ENV_VAR, "off")
    out = _doctor()
    assert "resource limits:   cgroup none: the watchdog samples memory" in out, out
    assert f"{CGROUPS_ENV_VAR}=off" in out


def test_doctor_says_when_network_isolation_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(BACKEND_ENV_VAR, "subprocess")
    out = _doctor()
    assert "sandbox backend:   subprocess (fallback" in out
    assert "network isolation: OFF" in out


def test_the_worker_logs_the_enforcement_when_it_starts(redis_url: str, tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("APP_ID", "PRIVATE_KEY", "FIXWURX_CGROUPS"))
    }
    env.update(REDIS_URL=redis_url, DATABASE_URL=f"sqlite:///{tmp_path / 'runs.db'}")
    done = subprocess.run(
        [sys.executable, "-m", "workers", "--burst"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in done.stderr.splitlines() if "sandbox enforcement:" in line]
    assert len(lines) == 1, (done.returncode, done.stdout, done.stderr[-2000:])
    assert "backend bubblewrap" in lines[0] or "backend subprocess" in lines[0]
    assert "resources cgroup" in lines[0]
