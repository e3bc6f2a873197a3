"""Work horses leave no metric files behind: 1,000 real RQ jobs, each in its own forked horse.

Before the fix every horse left `counter_<pid>.db` and `histogram_<pid>.db` in the multiprocess
folder (1,000 jobs, 2,001 files; about 5,000 filled a worker pod's 64 MiB folder). The worker
now folds each exited horse's counts into archive files: the folder stays bounded and a scrape
still reads every job's counts, and scrapes taken while horses come and go never read a count
lower than an earlier one (Prometheus would take the dip for a counter reset).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from redis import Redis

from tests.fakes.loopback import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
JOBS = 1000


def test_a_thousand_horses_leave_a_bounded_folder_and_right_counts(
    tmp_path: Path, redis_url: str, redis_conn: Redis
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "SENTRY_DSN": ""}
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.functional.horses_scenario", redis_url, str(JOBS), str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reads: list[float] = []
    scraping = threading.Thread(target=_scrape, args=(port, proc, reads), daemon=True)
    scraping.start()
    stdout, stderr = proc.communicate(timeout=600)
    scraping.join(10)
    assert proc.returncode == 0, stderr[-3000:]
    assert len(reads) >= 5, reads  # the scrapes really overlapped the jobs
    assert reads == sorted(reads), [r for i, r in enumerate(reads[1:]) if r < reads[i]][:5]
    result = json.loads(stdout.strip().splitlines()[-1])
    assert result["failed"] == 0, stderr[-3000:]
    # The worker's own files and one archive per kind: not one per horse.
    assert len(result["files"]) <= 4, result["files"][:10]
    assert result["rows"] == {"table=horse": float(JOBS)}
    assert result["runs"] == float(JOBS)


def _scrape(port: int, proc: subprocess.Popen[str], reads: list[float]) -> None:
    """Read the horses' row counter from the worker's endpoint until the worker exits."""
    while proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
                text = r.read().decode()
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)  # not listening yet
            continue
        for line in text.splitlines():
            if line.startswith('fixwurx_retention_deleted_rows_total{table="horse"}'):
                reads.append(float(line.rsplit(" ", 1)[1]))
