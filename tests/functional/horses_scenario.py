"""Run by tests/functional/test_horse_metrics.py in a fresh interpreter (prometheus_client must
see PROMETHEUS_MULTIPROC_DIR when first imported).

argv: Redis URL, number of jobs, metrics port. Serves the worker's metrics endpoint on the port
(as `METRICS_PORT` does; the test scrapes it while the jobs run), enqueues that many jobs, each counting one row and observing
one run duration in its own forked work horse, runs FixWurx's RQ worker over them in burst mode,
then prints one JSON line: the files left in the metrics folder and the totals a scrape reads.
"""

from __future__ import annotations

import json
import os
import sys

from redis import Redis
from rq import Queue

from app.ops import metrics
from workers import queues
from workers.worker import FixwurxWorker


def count_one() -> None:
    """The job: what a repair's horse does to the metrics, in miniature."""
    metrics.PRUNED_ROWS.labels("horse").inc()
    metrics.RUN_DURATION.labels("issue").observe(2.0)


def main(redis_url: str, jobs: int, port: int) -> None:
    directory = os.environ[metrics.MULTIPROC_ENV]
    metrics.start_worker_endpoint(port)
    conn = Redis.from_url(redis_url)
    queue = Queue(queues.DEFAULT, connection=conn)
    with conn.pipeline() as pipe:
        for _ in range(jobs):
            queue.enqueue("tests.functional.horses_scenario.count_one", pipeline=pipe)
        pipe.execute()
    worker = FixwurxWorker([queue], connection=conn)
    worker.work(burst=True, with_scheduler=False)
    runs = metrics.registry_for_scrape().get_sample_value(
        "fixwurx_run_duration_seconds_count", {"kind": "issue"}
    )
    print(
        json.dumps(
            {
                "files": sorted(os.listdir(directory)),
                "rows": {
                    ",".join(f"{k}={v}" for k, v in labels): value
                    for labels, value in metrics.counter_values(
                        "fixwurx_retention_deleted_rows"
                    ).items()
                },
                "runs": runs,
                "failed": queue.failed_job_registry.count,
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
