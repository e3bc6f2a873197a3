"""Work horses leave no metric files behind: 1,000 real RQ jobs, each in its own forked horse.

Before the fix every horse left `counter_<pid>.db` and `histogram_<pid>.db` in the multiprocess
folder (1,000 jobs, 2,001 files; about 5,000 filled a worker pod's 64 MiB folder). The worker
now folds each exited horse's counts into archive files: the folder stays bounded and a scrape
still reads every job's counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from redis import Redis

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
JOBS = 1000


def test_a_thousand_horses_leave_a_bounded_folder_and_right_counts(
    tmp_path: Path, redis_url: str, redis_conn: Redis
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "SENTRY_DSN": ""}
    done = subprocess.run(
        [sys.executable, "-m", "tests.functional.horses_scenario", redis_url, str(JOBS)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["failed"] == 0, done.stderr[-3000:]
    # The worker's own files and one archive per kind: not one per horse.
    assert len(result["files"]) <= 4, result["files"][:10]
    assert result["rows"] == {"table=horse": float(JOBS)}
    assert result["runs"] == float(JOBS)
