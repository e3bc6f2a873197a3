"""A live `fixwurx fix` beside a real worker whose sweeper ticks every half second (issue 23).

They share one database, as the CLI's default and a worker on the same machine do. The sweeper
must act on the App's runs (a bait run left by a dead worker proves it ticked) and never on the
CLI's, which has no queue job: the terminal and the history must agree the run was fixed.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import select, update

from app import runs
from app.db import session_scope
from app.models import CLI_KIND, AuditLog, Run
from app.ops.migrate import upgrade
from app.runs.sweep import SWEEPER_ACTOR
from tests.conftest import ROOT
from tests.unit.workers.conftest import make_settings, new_run
from tests.unit.workers.test_sweep_timer import start_worker, stop_worker, wait_until_idle

pytestmark = pytest.mark.slow

EXAMPLE = ROOT / "examples" / "buggy_calc"


def fixwurx_fix(project: Path, database_url: str, home: Path) -> subprocess.Popen[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": database_url,
        "XDG_CACHE_HOME": str(home / "cache"),
        "ENVIRONMENT_CACHE_DIR": os.environ["ENVIRONMENT_CACHE_DIR"],
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app", "fix", str(project)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def dead_worker_run(database_url: str, redis_url: str) -> int:
    """An App run a killed worker left running, heartbeat long stale: the sweeper's to resume."""
    run_id = new_run(make_settings(database_url, redis_url), "bait")
    assert runs.claim(database_url, run_id)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=runs.STALE_AFTER_S + 60)
    with session_scope(database_url) as session:
        session.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=past))
    return run_id


def sweeper_actions(database_url: str) -> list[tuple[str, int | None]]:
    with session_scope(database_url) as session:
        rows = session.execute(
            select(AuditLog.action, AuditLog.run_id).where(AuditLog.actor == SWEEPER_ACTOR)
        )
        return [(action, run_id) for action, run_id in rows]


def test_a_live_cli_run_beside_a_sweeping_worker_ends_fixed(
    tmp_path: Path, redis_url: str, redis_conn: Redis
) -> None:
    database_url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    upgrade(database_url)
    project = tmp_path / "buggy_calc"
    shutil.copytree(EXAMPLE, project)
    worker = start_worker(database_url, redis_url, tmp_path / "worker.log", "0.5")
    try:
        wait_until_idle(redis_conn)
        cli = fixwurx_fix(project, database_url, tmp_path / "home")
        bait = dead_worker_run(database_url, redis_url)
        stdout, stderr = cli.communicate(timeout=300)
        assert cli.returncode == 0, stdout + stderr
        with session_scope(database_url) as session:
            cli_run = session.scalars(select(Run).where(Run.kind == CLI_KIND)).one()
            status, reason = cli_run.status, cli_run.reason
            resumes = cli_run.resumes
        deadline = time.monotonic() + 20
        while not any(run_id == bait for _, run_id in sweeper_actions(database_url)):
            assert time.monotonic() < deadline, "the sweeper never ticked"
            time.sleep(0.2)
    finally:
        stop_worker(worker)
    assert f"run {cli_run.id} recorded" in stderr
    assert (status, resumes) == ("fixed", 0), reason
    assert ("sweeper.resumed", bait) in sweeper_actions(database_url)
    assert all(run_id != cli_run.id for _, run_id in sweeper_actions(database_url))


def test_a_killed_cli_run_reads_failed_in_the_history(tmp_path: Path) -> None:
    """kill -9 leaves no chance to record an end; the next CLI call on the host records it."""
    database_url = f"sqlite:///{tmp_path / 'history.sqlite3'}"
    upgrade(database_url)
    project = tmp_path / "buggy_calc"
    shutil.copytree(EXAMPLE, project)
    cli = fixwurx_fix(project, database_url, tmp_path / "home")
    deadline = time.monotonic() + 60
    run_id = None
    while run_id is None:
        assert time.monotonic() < deadline and cli.poll() is None, "the CLI run never started"
        with session_scope(database_url) as session:
            run_id = session.scalar(select(Run.id).where(Run.status == "running"))
        time.sleep(0.1)
    cli.kill()
    cli.communicate(timeout=30)
    assert runs.status_of(database_url, run_id) == "running"
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": database_url}
    shown = subprocess.run(
        [sys.executable, "-m", "app", "show", str(run_id)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert f"run {run_id}  cli/fixwurx fix  failed" in shown.stdout
    assert f":{cli.pid} ended without recording an end" in shown.stdout
