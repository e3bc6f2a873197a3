"""The RQ worker FixWurx runs: priority queues, the sweeper on its own timer, Sentry.

RQ's `Worker` forks a work horse per job (a crash or leak in one repair cannot take the worker
down) and handles SIGTERM as a warm shutdown: the current job finishes, then the worker exits.
A second SIGTERM (or SIGINT) is a cold shutdown; the run it interrupts is resumed by the sweeper.

The sweep runs on a timer thread in the worker's parent process, not on RQ's maintenance tick:
an idle worker blocks in `dequeue_any` for up to `worker_ttl - 15` seconds (405 by default) and
a busy one waits on its work horse for the whole job, so a tick-driven sweep ran every ~7
minutes when idle and not at all during a long repair.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from redis import Redis
from rq import Worker
from rq.job import Job
from rq.queue import Queue
from rq.worker import BaseWorker
from sqlalchemy import select

from app.config import Settings
from app.db import session_scope
from app.models import Run
from app.observability import init_sentry
from app.ops import metrics, retention
from workers import jobs, queues, sweeper

log = logging.getLogger(__name__)

#: Seconds between sweeps; abandoned runs are recovered this quickly, idle or busy.
SWEEP_INTERVAL_S = 60
#: Overrides SWEEP_INTERVAL_S (seconds, a positive number): tests and impatient operators.
SWEEP_INTERVAL_ENV = "FIXWURX_SWEEP_INTERVAL_S"
#: When set, the worker serves its host's metrics (multiprocess mode) on this port, for
#: deployments where workers run apart from the web app (Kubernetes).
METRICS_PORT_ENV = "METRICS_PORT"
#: The address that endpoint binds: loopback unless set (a pod scraped by its IP sets
#: `0.0.0.0`); a worker's metrics are no one else's business by default.
METRICS_ADDR_ENV = "METRICS_ADDR"
DEFAULT_METRICS_ADDR = "127.0.0.1"


class FixwurxWorker(Worker):
    """An RQ worker that prunes on its maintenance tick and logs how each run ended.

    RQ logs "Job OK" for every job that returned, including a run that failed; the line that
    says a run's outcome ("run 23: failed: ...") replaces it for `process_run` jobs.
    """

    fixwurx_settings: Settings | None = None

    def execute_job(self, job: Any, queue: Any) -> Any:
        """Run the job in a work horse, then fold the horse's metric files into the archive.

        Each horse is a process of its own in prometheus_client's multiprocess folder; once it
        has exited its counts are merged and its files removed, so the folder holds a bounded
        number of files however many jobs ran (app/metrics.py, `absorb_dead_process`).
        """
        try:
            return super().execute_job(job, queue)
        finally:
            horse, self._fixwurx_horse = self._fixwurx_horse, 0
            if horse and _exited(horse):
                _absorb_quietly(horse)

    def fork_work_horse(self, job: Any, queue: Any) -> None:
        super().fork_work_horse(job, queue)
        self._fixwurx_horse = self.horse_pid

    _fixwurx_horse = 0

    def run_maintenance_tasks(self) -> None:
        """RQ's registry cleaning, and the daily retention prune (a lock makes it once a day)."""
        super().run_maintenance_tasks()
        _prune_quietly(self.fixwurx_settings, self.connection)

    def bootstrap(self, *args: Any, **kwargs: Any) -> None:
        super().bootstrap(*args, **kwargs)
        if _drop_job_ok not in self.log.filters:
            self.log.addFilter(_drop_job_ok)

    def handle_job_success(self, job: Job, queue: Queue, *args: Any, **kwargs: Any) -> None:
        super().handle_job_success(job, queue, *args, **kwargs)
        _log_outcome(self.fixwurx_settings, job)


def _drop_job_ok(record: logging.LogRecord) -> bool:
    """Drop RQ's success lines for run jobs: `_log_outcome` says how the run really ended."""
    message = record.getMessage()
    says_ok = "Job OK" in message or message.startswith("Successfully completed")
    names_a_run = f"({queues.JOB_ID_PREFIX}" in message or "process_run(" in message
    return not (says_ok and names_a_run)


def _log_outcome(settings: Settings | None, job: Job) -> None:
    """One line per finished run job: the run's status and its reason."""
    run_id = _run_id_of(job)
    if run_id is None or settings is None:
        return
    try:
        status, reason = _outcome(settings.database_url, run_id)
    except Exception:
        log.warning("run %s: job %s returned; its outcome could not be read", run_id, job.id)
        return
    level = logging.INFO if status in _GOOD_ENDS else logging.WARNING
    log.log(level, "run %s: %s%s", run_id, status, f": {reason}" if reason else "")


#: Run statuses that need no operator's attention.
_GOOD_ENDS = frozenset({"fixed", "done", "not_fixed", "stopped", "queued"})


def _outcome(database_url: str, run_id: int) -> tuple[str, str | None]:
    with session_scope(database_url) as session:
        row = session.execute(select(Run.status, Run.reason).where(Run.id == run_id)).first()
    return (row[0], row[1]) if row is not None else ("missing", None)


def _run_id_of(job: Job) -> int | None:
    if job.func_name != queues.PROCESS_RUN or not job.args:
        return None
    run_id = job.args[0]
    return run_id if isinstance(run_id, int) else None


#: Held while the timer sweeps and around every `os.fork()` (RQ's work horse, its scheduler):
#: a child forked while the sweep held a lock (logging, a connection pool, Prometheus's value
#: files) would inherit that lock taken and hang on it, so no fork happens mid-sweep.
_SWEEPING = threading.Lock()
os.register_at_fork(
    before=_SWEEPING.acquire,
    after_in_parent=_SWEEPING.release,
    after_in_child=_SWEEPING.release,
)


class SweepTimer(threading.Thread):
    """Sweeps every `interval` seconds in the worker's parent process.

    A daemon thread: RQ's loop never waits for it, and it sweeps while the worker waits on a
    long job too. Forks wait for a sweep in flight (`_SWEEPING`); the children inherit no live
    connection from it (app.db drops its pools after a fork, redis-py checks the pid).
    """

    def __init__(self, settings: Settings, connection: Redis, interval: float) -> None:
        super().__init__(name="fixwurx-sweeper", daemon=True)
        self.settings, self.connection, self.interval = settings, connection, interval
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self.interval):
            with _SWEEPING:
                _sweep_quietly(self.settings, self.connection)

    def stop(self) -> None:
        self._stopped.set()


def sweep_interval() -> float:
    """SWEEP_INTERVAL_S, or the positive number of seconds FIXWURX_SWEEP_INTERVAL_S names."""
    raw = os.environ.get(SWEEP_INTERVAL_ENV)
    if not raw:
        return SWEEP_INTERVAL_S
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise ValueError(
            f"{SWEEP_INTERVAL_ENV}={raw!r} is not a positive number of seconds; "
            f"unset it for the default {SWEEP_INTERVAL_S}"
        )
    return value


def _exited(pid: int) -> bool:
    """Whether child `pid` has exited (RQ normally reaped it already); a live horse's files are
    left alone: it may still be counting."""
    try:
        reaped, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return reaped == pid


def _absorb_quietly(pid: int) -> None:
    try:
        metrics.absorb_dead_process(pid)
    except Exception:
        # Metrics bookkeeping must never take the worker down; the files stay and still count.
        log.exception("could not fold work horse %s's metric files into the archive", pid)


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
    interval = sweep_interval()
    worker = build(settings)
    _sweep_quietly(settings, worker.connection)
    timer = SweepTimer(settings, worker.connection, interval)
    timer.start()
    try:
        return bool(worker.work(burst=burst, with_scheduler=with_scheduler))
    finally:
        timer.stop()
