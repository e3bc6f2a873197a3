"""`/metrics` after real traffic: signed deliveries through the web app and a job in a forking RQ
worker, all in prometheus_client's multiprocess mode, parsed with prometheus_client's parser."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from sqlalchemy import create_engine

from app.models import Base
from app.ops.metrics import QUEUE_NAMES
from workers.queues import QUEUES

ROOT = Path(__file__).resolve().parents[2]
SECRET = "metrics-test-secret"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_counters_move_by_what_happened(tmp_path: Path, redis_url: str, redis_conn: Redis) -> None:
    database_url = f"sqlite:///{tmp_path / 'metrics.sqlite3'}"
    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "APP_ID": "",
        "PRIVATE_KEY": "",
        "PRIVATE_KEY_PATH": "",
        "SENTRY_DSN": "",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.functional.metrics_scenario",
            database_url,
            redis_url,
            SECRET,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "STATUSES [202, 200, 401]" in done.stderr
    # The work horse (a forked process) wrote its own file: multiprocess mode was on.
    assert len(list(multiproc.glob("*.db"))) >= 2
    got = _samples(done.stdout)

    def value(name: str, **labels: str) -> float:
        return got.get((name, tuple(sorted(labels.items()))), 0.0)

    assert value("fixwurx_webhook_deliveries_total", event="issues", outcome="handled") == 1
    assert value("fixwurx_webhook_deliveries_total", event="issues", outcome="duplicate") == 1
    assert value("fixwurx_webhook_deliveries_total", event="issues", outcome="refused") == 1
    assert value("fixwurx_webhook_request_duration_seconds_count") == 3
    # No App credentials in the scenario: the job runs and fails the run with its reason.
    assert value("fixwurx_runs_finished_total", kind="issue", status="failed") == 1
    assert value("fixwurx_run_duration_seconds_count", kind="issue") == 1
    assert value("fixwurx_candidates_total", source="template", verdict="plausible") == 1
    assert value("fixwurx_candidates_total", source="template", verdict="rejected") == 1
    assert (
        value("fixwurx_model_tokens_total", provider="openai", model="gpt-x", direction="input")
        == 120
    )
    assert (
        value("fixwurx_model_tokens_total", provider="openai", model="gpt-x", direction="output")
        == 30
    )
    assert value("fixwurx_model_cost_usd_total", provider="openai", model="gpt-x") == 0.25
    # Read at scrape time: the queue is empty again and the burst worker has left.
    assert value("fixwurx_queue_jobs", queue="fixwurx-default") == 0
    assert value("fixwurx_workers_alive") == 0
    assert value("fixwurx_redis_up") == 1


def test_queue_gauges_are_read_at_scrape_time(
    tmp_path: Path, redis_url: str, redis_conn: Redis
) -> None:
    from rq import Queue

    from webhooks import create_app

    database_url = f"sqlite:///{tmp_path / 'gauges.sqlite3'}"
    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    client = create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_url}).test_client()
    queue = Queue("fixwurx-low", connection=redis_conn)
    queue.enqueue_call("workers.jobs.process_run", args=(1,), job_id="run-1")
    queue.enqueue_call("workers.jobs.process_run", args=(2,), job_id="run-2")
    got = _samples(client.get("/metrics").get_data(as_text=True))
    assert got[("fixwurx_queue_jobs", (("queue", "fixwurx-low"),))] == 2
    assert got[("fixwurx_queue_jobs", (("queue", "fixwurx-high"),))] == 0
    assert got[("fixwurx_queue_oldest_job_age_seconds", (("queue", "fixwurx-low"),))] >= 0


def test_metrics_queue_names_match_the_workers() -> None:
    assert QUEUE_NAMES == QUEUES
