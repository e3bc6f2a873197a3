"""The RQ worker FixWurx runs: priority queues, the sweeper on every maintenance tick, Sentry.

RQ's `Worker` forks a work horse per job (a crash or leak in one repair cannot take the worker
down) and handles SIGTERM as a warm shutdown: the current job finishes, then the worker exits.
A second SIGTERM (or SIGINT) is a cold shutdown; the run it interrupts is resumed by the sweeper.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from redis import Redis
from rq import Worker
from rq.worker import BaseWorker

from app import metrics, retention
from app.config import Settings
from app.observability import init_sentry
from workers import jobs, queues, sweeper

log = logging.getLogger(__name__)

#: Seconds between sweeps (RQ's maintenance tick); abandoned runs are recovered this quickly.
SWEEP_INTERVAL_S = 60
#: When set, the worker serves its host's metrics (multiprocess mode) on this port, for
#: deployments where workers run apart from the web app (Kubernetes).
METRICS_PORT_ENV = "METRICS_PORT"
#: The address that endpoint binds: loopback unless set (a pod scraped by its IP sets
#: `0.0.0.0`); a worker's metrics are no one else's business by default.
METRICS_ADDR_ENV = "METRICS_ADDR"
DEFAULT_METRICS_ADDR = "127.0.0.1"


class FixwurxWorker(Worker):
    """An RQ worker that also sweeps abandoned runs during maintenance."""

    fixwurx_settings: Settings | None = None

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        _sweep_quietly(self.fixwurx_settings, self.connection)
        _prune_quietly(self.fixwurx_settings, self.connection)


def _sweep_quietly(settings: Settings | None, connection: Redis) -> None:
    if settings is None:
        return
    try:
        sweeper.sweep(settings, connection)
    except Exception:
        # The sweep is a safety net; a database hiccup must not take the worker down.
        log.exception("sweep failed; the next maintenance tick retries")


def _prune_quietly(settings: Settings | None, connection: Redis) -> None:
    if settings is None:
        return
    try:
        report = retention.prune_daily(settings, connection)
    except Exception:
        log.exception("retention prune failed; tomorrow's lock expiry retries")
        return
    if report is not None:
        log.info("retention: pruned %s", report.deleted)


def build(
    settings: Settings,
    connection: Redis | None = None,
    worker_class: type[BaseWorker] | None = None,
) -> BaseWorker:
    """A worker over the FixWurx queues in priority order, with jobs configured."""
    connection = connection or Redis.from_url(settings.redis_url)
    jobs.configure(settings)
    metrics.install_model_hooks()
    cls: Any = worker_class or FixwurxWorker
    worker = cls(
        queues.queues(connection),
        connection=connection,
        maintenance_interval=SWEEP_INTERVAL_S,
        serializer=queues.SERIALIZER,  # JSON: no pickle from Redis is ever loaded here
    )
    if isinstance(worker, FixwurxWorker):
        worker.fixwurx_settings = settings
    return worker


def start_metrics(environ: Mapping[str, str]) -> Any:
    """The worker's metrics endpoint when METRICS_PORT is set (on METRICS_ADDR, loopback by
    default); None otherwise."""
    if not environ.get(METRICS_PORT_ENV):
        return None
    addr = environ.get(METRICS_ADDR_ENV) or DEFAULT_METRICS_ADDR
    return metrics.start_worker_endpoint(int(environ[METRICS_PORT_ENV]), addr)


def run(settings: Settings, burst: bool = False, with_scheduler: bool = True) -> bool:
    """Sweep once, then work until told to stop (or, with `burst`, until the queues are empty).

    The scheduler moves retried jobs back to their queue when their backoff has elapsed; without
    it, a retry would wait forever.
    """
    init_sentry(settings.sentry_dsn, settings.secret_values(), "worker")
    start_metrics(os.environ)
    worker = build(settings)
    _sweep_quietly(settings, worker.connection)
    return bool(worker.work(burst=burst, with_scheduler=with_scheduler))
