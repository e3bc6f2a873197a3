"""Wires `app.runs.sweep` to RQ: job states come from Redis, re-enqueueing uses `queues`.

Runs in every worker at start-up and then on RQ's maintenance tick; the sweep's updates are
conditional, so several workers sweeping at once cannot resume one run twice.
"""

from __future__ import annotations

import logging

from redis import Redis

from app import runs
from app.config import Settings
from app.models import Run
from app.ops import metrics
from workers import queues

log = logging.getLogger(__name__)


def sweep(settings: Settings, connection: Redis) -> runs.SweepReport:
    """Resume or fail runs abandoned by dead workers; enqueue committed runs that have no job."""

    def job_state(run_id: int) -> str | None:
        return queues.job_state(connection, run_id)

    def enqueue(run: Run) -> str:
        return queues.reenqueue_run(connection, run.id, run.kind, run.command)

    report = runs.sweep(settings.database_url, job_state, enqueue)
    metrics.observe_sweep(len(report.resumed), len(report.failed), len(report.enqueued))
    if report.resumed or report.failed or report.enqueued:
        log.warning(
            "sweep: resumed %s, failed %s, enqueued %s",
            report.resumed,
            report.failed,
            report.enqueued,
        )
    if report.ci_timeouts:
        log.info("sweep: CI did not answer in time; timeout runs %s", report.ci_timeouts)
    return report
