"""Prometheus metrics: the series FixWurx exports, and `GET /metrics`.

Why prometheus_client's multiprocess mode: gunicorn runs several web workers and RQ forks a work
horse per job, so a counter kept in one process's memory would be lost with the horse or seen by
only one of the web workers. With `PROMETHEUS_MULTIPROC_DIR` set (before this module is first
imported: prometheus_client picks its value class at import), every process writes its counts to
memory-mapped files in that folder and `/metrics` sums them. Without it (a single-process dev
server, the CLI) the counts live in the process and `/metrics` shows the default registry.

Cost on the webhook hot path: one counter `inc` and one histogram `observe` per request, each a
lock and a write to a memory-mapped page (microseconds; no system call, no network). Queue depth,
the oldest job's age, live workers and budget use are not kept as counters at all: they are read
from Redis and the database when Prometheus scrapes (`ScrapeCollector`).

Names follow Prometheus conventions: `fixwurx_` prefix, base units (seconds, US dollars), `_total`
on counters, and only bounded labels (event, outcome, kind, status, source, provider, model, queue)
— never a run id or a repository name.
"""

from __future__ import annotations

import datetime as dt
import glob
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, Response, current_app
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import event as orm_events
from sqlalchemy import func, select

from app import redisconn
from app.models import aware

log = logging.getLogger(__name__)
blueprint = Blueprint("metrics", __name__)

#: Environment variable prometheus_client reads to switch to multiprocess mode.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: The webhook events FixWurx knows; any other X-GitHub-Event value is counted as "other", so an
#: unauthenticated sender cannot create label values.
KNOWN_EVENTS = frozenset(
    {
        "ping",
        "issues",
        "issue_comment",
        "check_run",
        "check_suite",
        "workflow_run",
        "pull_request",
        "installation",
        "installation_repositories",
    }
)
#: Webhook latency buckets, seconds: the hot path answers in ~2 ms, an outage costs up to ~1.5 s.
WEBHOOK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
#: Run duration buckets, seconds: a status reply takes seconds, a repair up to the 30 min limit.
RUN_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600)
#: The RQ queues, as workers/queues.py names them (app never imports workers; a unit test keeps
#: the two equal).
QUEUE_NAMES = ("fixwurx-high", "fixwurx-default", "fixwurx-low")
#: Redis timeouts for scrape-time reads: a stalled Redis must not hang the scrape.
SCRAPE_REDIS_TIMEOUT_S = redisconn.WEB_TIMEOUT_S

DELIVERIES_TOTAL = Counter(
    "fixwurx_webhook_deliveries_total",
    "Webhook deliveries answered, by event and outcome "
    "(handled, duplicate, ignored, refused, unavailable).",
    ["event", "outcome"],
)
WEBHOOK_LATENCY = Histogram(
    "fixwurx_webhook_request_duration_seconds",
    "Time to answer POST /webhooks/github.",
    buckets=WEBHOOK_BUCKETS,
)
RUNS_TOTAL = Counter(
    "fixwurx_runs_finished_total",
    "Runs that reached a final status, by kind and status.",
    ["kind", "status"],
)
RUN_DURATION = Histogram(
    "fixwurx_run_duration_seconds",
    "Time from a run's trigger to its final status.",
    ["kind"],
    buckets=RUN_BUCKETS,
)
CANDIDATES = Counter(
    "fixwurx_candidates_total",
    "Candidate patches recorded, by source and verdict.",
    ["source", "verdict"],
)
MODEL_TOKENS = Counter(
    "fixwurx_model_tokens_total",
    "Language-model tokens, by provider, model and direction (input, output).",
    ["provider", "model", "direction"],
)
MODEL_COST = Counter(
    "fixwurx_model_cost_usd_total",
    "Language-model spend in US dollars, by provider and model.",
    ["provider", "model"],
)
SWEEPER_ACTIONS = Counter(
    "fixwurx_sweeper_actions_total",
    "Runs the sweeper acted on, by action (resumed, failed, enqueued).",
    ["action"],
)
PRUNED_ROWS = Counter(
    "fixwurx_retention_deleted_rows_total",
    "Rows deleted by retention, by table.",
    ["table"],
)


def event_label(event: str | None) -> str:
    """The `event` label for an X-GitHub-Event value: itself when known, else "other"."""
    return event if event in KNOWN_EVENTS else "other"


def delivery_outcome(status: int, duplicate: bool = False) -> str:
    """The `outcome` label of a webhook answer, from its status code."""
    if status == 202:
        return "handled"
    if status == 200:
        return "duplicate" if duplicate else "handled"
    if status == 204:
        return "ignored"
    if status >= 500:
        return "unavailable"
    return "refused"


def observe_delivery(event: str | None, outcome: str, seconds: float) -> None:
    """One webhook answer: a counter inc and a histogram observe (the hot path's whole cost)."""
    DELIVERIES_TOTAL.labels(event_label(event), outcome).inc()
    WEBHOOK_LATENCY.observe(seconds)


def observe_run(database_url: str, run_id: int) -> None:
    """Count a run that has just finished, and observe its duration (one primary-key read)."""
    from app.db import session_scope
    from app.models import Run
    from app.runs import FINAL_STATUSES

    with session_scope(database_url) as session:
        run = session.get(Run, run_id)
        if run is None or run.status not in FINAL_STATUSES:
            return
        observe_finished(run.kind, run.status, run.created_at, run.finished_at)


def observe_finished(
    kind: str | None,
    status: str | None,
    created_at: dt.datetime | None,
    finished_at: dt.datetime | None,
) -> None:
    """Count a finished run from what the job already holds (`app.runs.conclude`): no read."""
    from app.runs import FINAL_STATUSES

    if kind is None or status not in FINAL_STATUSES:
        return
    RUNS_TOTAL.labels(kind, status).inc()
    if finished_at is not None and created_at is not None:
        seconds = (aware(finished_at) - aware(created_at)).total_seconds()
        RUN_DURATION.labels(kind).observe(max(seconds, 0.0))


def observe_sweep(resumed: int, failed: int, enqueued: int) -> None:
    """Count one sweep's actions."""
    for action, count in (("resumed", resumed), ("failed", failed), ("enqueued", enqueued)):
        if count:
            SWEEPER_ACTIONS.labels(action).inc(count)


_model_hooks_installed = False


def install_model_hooks() -> None:
    """Count candidates and model calls as their rows are inserted, in whichever process.

    ORM insert events rather than calls in the chain and the budget ledger: those packages stay
    unaware of Prometheus, and no code path that writes the rows can forget to count them.
    """
    global _model_hooks_installed
    if _model_hooks_installed:
        return
    from app.models import CandidateRecord, LlmCall

    orm_events.listen(CandidateRecord, "after_insert", _candidate_inserted)
    orm_events.listen(LlmCall, "after_insert", _llm_call_inserted)
    _model_hooks_installed = True


def _candidate_inserted(_mapper: Any, _connection: Any, target: Any) -> None:
    CANDIDATES.labels(str(target.source), str(target.status or "pending")).inc()


def _llm_call_inserted(_mapper: Any, _connection: Any, target: Any) -> None:
    provider, model = str(target.provider), str(target.model)
    MODEL_TOKENS.labels(provider, model, "input").inc(int(target.input_tokens or 0))
    MODEL_TOKENS.labels(provider, model, "output").inc(int(target.output_tokens or 0))
    MODEL_COST.labels(provider, model).inc(float(target.cost_usd or 0.0))


class ScrapeCollector(Collector):
    """Gauges read when Prometheus scrapes: queue depth and oldest-job age per RQ queue, live
    workers, and the highest share of a daily or monthly budget spent."""

    def __init__(self, redis_url: str, database_url: str, settings: Any) -> None:
        self.redis_url = redis_url
        self.database_url = database_url
        self.settings = settings

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._redis_gauges()
        yield from self._budget_gauges()

    def _redis_gauges(self) -> Iterator[GaugeMetricFamily]:
        from redis.exceptions import RedisError

        depth = GaugeMetricFamily(
            "fixwurx_queue_jobs", "Jobs waiting in each RQ queue.", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "fixwurx_queue_oldest_job_age_seconds",
            "Age of the job at the head of each RQ queue (0 when empty).",
            labels=["queue"],
        )
        workers = GaugeMetricFamily("fixwurx_workers_alive", "RQ workers registered in Redis.")
        up = GaugeMetricFamily("fixwurx_redis_up", "1 when the scrape could read Redis.")
        try:
            snapshot = queue_snapshot(self.redis_url)
        except RedisError as exc:
            log.warning("metrics: Redis unreadable at scrape (%s)", exc)
            up.add_metric([], 0.0)
            yield up
            return
        for queue in snapshot.queues:
            depth.add_metric([queue.name], float(queue.depth))
            age.add_metric([queue.name], queue.oldest_age_s)
        workers.add_metric([], float(snapshot.workers_alive))
        up.add_metric([], 1.0)
        yield from (depth, age, workers, up)

    def _budget_gauges(self) -> Iterator[GaugeMetricFamily]:
        from sqlalchemy.exc import SQLAlchemyError

        from app.db import session_scope
        from app.models import LlmCall

        gauge = GaugeMetricFamily(
            "fixwurx_budget_max_used_ratio",
            "The highest share of a budget spent by any one repository (today) or installation "
            "(this month), in US dollars; 1 means exhausted.",
            labels=["scope"],
        )
        now = dt.datetime.now(dt.UTC)
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        month = day.replace(day=1)
        scopes = (
            ("repository_day", LlmCall.repository_id, day, self.settings.budget_repo_day_usd),
            (
                "installation_month",
                LlmCall.installation_id,
                month,
                self.settings.budget_installation_month_usd,
            ),
        )
        try:
            with session_scope(self.database_url) as session:
                for scope, column, since, limit in scopes:
                    spent = session.execute(
                        select(func.sum(LlmCall.cost_usd).label("usd"))
                        .where(LlmCall.created_at >= since, column.is_not(None))
                        .group_by(column)
                        .order_by(func.sum(LlmCall.cost_usd).desc())
                        .limit(1)
                    ).scalar()
                    ratio = float(spent or 0.0) / limit if limit > 0 else 0.0
                    gauge.add_metric([scope], ratio)
        except SQLAlchemyError as exc:
            log.warning("metrics: database unreadable at scrape (%s)", exc)
            return
        yield gauge


@dataclass(frozen=True)
class QueueState:
    """One RQ queue as Redis holds it now."""

    name: str
    depth: int
    oldest_age_s: float


@dataclass(frozen=True)
class QueueSnapshot:
    queues: list[QueueState]
    workers_alive: int


def queue_snapshot(redis_url: str) -> QueueSnapshot:
    """Depth and oldest-job age of each queue, and live workers; raises RedisError."""
    from rq.job import Job
    from rq.queue import Queue
    from rq.worker import Worker

    conn = redisconn.redis_client(redis_url, SCRAPE_REDIS_TIMEOUT_S)
    try:
        now = dt.datetime.now(dt.UTC)
        states = []
        for name in QUEUE_NAMES:
            key = Queue.redis_queue_namespace_prefix + name
            head = conn.lindex(key, 0)
            seconds = 0.0
            if head is not None:
                enqueued = conn.hget(Job.redis_job_namespace_prefix + _text(head), "enqueued_at")
                if enqueued:
                    seconds = max((now - _rq_time(_text(enqueued))).total_seconds(), 0.0)
            states.append(QueueState(name, int(conn.llen(key)), seconds))
        # A worker killed hard stays in RQ's set until cleaned; its own key expires.
        keys = conn.smembers(Worker.redis_workers_keys)
        alive = sum(1 for k in keys if conn.exists(k))
    finally:
        conn.close()
    return QueueSnapshot(states, alive)


def counter_values(name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The current totals of counter `name` (without `_total`) across processes, by labels."""
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in registry_for_scrape().collect():
        if family.name != name:
            continue
        for sample in family.samples:
            if sample.name == name + "_total":
                key = tuple(sorted(sample.labels.items()))
                found[key] = found.get(key, 0.0) + sample.value
    return found


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _rq_time(value: str) -> dt.datetime:
    """RQ's timestamp format (`rq.utils.utcformat`), as an aware datetime."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def registry_for_scrape(collector: Collector | None = None) -> CollectorRegistry:
    """The registry `/metrics` renders: all processes' files in multiprocess mode, else this
    process's default registry; plus the scrape-time gauges."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        _MergeSafeCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Delegate(REGISTRY))
    if collector is not None:
        registry.register(collector)
    return registry


#: Held while a dead process's files are folded into the archive, and while a scrape in the same
#: process reads the folder, so that scrape sees the counts once: neither in both files nor in
#: none (a counter that dips looks like a reset to Prometheus).
_MERGE_LOCK = threading.Lock()
#: The file kinds whose values add up across processes. Gauges are read at scrape time
#: (`ScrapeCollector`), so no process writes one; `mark_process_dead` clears any live gauge.
_SUMMED_KINDS = ("counter", "histogram", "summary")
#: The pid part of the files that hold the sums of processes that have exited.
ARCHIVE_PID = "archive"


class _MergeSafeCollector(MultiProcessCollector):
    """prometheus_client's multiprocess collector, reading under the archive lock."""

    def collect(self) -> Any:
        with _MERGE_LOCK:
            return list(super().collect())


def absorb_dead_process(pid: int, directory: str | None = None) -> int:
    """Fold the metric files of exited process `pid` into the archive files, then remove them.

    Why: RQ forks a work horse per job and each writes `counter_<pid>.db` and
    `histogram_<pid>.db`; left alone, 1,000 jobs left 2,001 files, a 411 ms scrape, and about
    5,000 jobs filled the worker's 64 MiB folder. Counts are summed into `<kind>_archive.db`
    (one per kind, so the folder stays bounded) and the totals a scrape reads do not change.
    Call it only for a process that has exited (the worker calls it after each horse).
    Returns the number of files absorbed; 0 outside multiprocess mode.
    """
    from prometheus_client.mmap_dict import MmapedDict
    from prometheus_client.multiprocess import mark_process_dead

    directory = directory or os.environ.get(MULTIPROC_ENV)
    if not directory:
        return 0
    absorbed = 0
    with _MERGE_LOCK:
        for kind in _SUMMED_KINDS:
            dead = os.path.join(directory, f"{kind}_{pid}.db")
            if not os.path.exists(dead):
                continue
            archive = MmapedDict(os.path.join(directory, f"{kind}_{ARCHIVE_PID}.db"))
            try:
                for key, value, timestamp, _pos in MmapedDict.read_all_values_from_file(dead):
                    current, _ = archive.read_value(key)
                    archive.write_value(key, current + value, timestamp)
            finally:
                archive.close()
            os.unlink(dead)
            absorbed += 1
        mark_process_dead(pid, directory)
    return absorbed


def multiproc_files(directory: str) -> list[str]:
    """The metric files in `directory` (what a scrape reads)."""
    return sorted(glob.glob(os.path.join(directory, "*.db")))


class _Delegate(Collector):
    """Renders another registry's metrics inside a fresh one (so the scrape gauges never join
    the process-wide default registry)."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterator[Any]:
        yield from self.source.collect()


@blueprint.get("/metrics")
def metrics() -> Response:
    collector: ScrapeCollector = current_app.extensions["fixwurx.scrape_collector"]
    body = generate_latest(registry_for_scrape(collector))
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def init_app(flask_app: Flask) -> None:
    """Serve `/metrics` and count candidate and model-call rows written by this process."""
    from app.config import settings_of

    settings = settings_of(flask_app)
    flask_app.extensions["fixwurx.scrape_collector"] = ScrapeCollector(
        settings.redis_url, settings.database_url, settings
    )
    install_model_hooks()
    flask_app.register_blueprint(blueprint)


def start_worker_endpoint(port: int, addr: str = "127.0.0.1") -> Any:
    """Serve this host's metrics on `port` from a daemon thread (a worker pod has no web app);
    returns the server (its `shutdown()` stops it). Loopback unless `addr` opens it: the
    worker's host also runs repository code."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=addr, registry=registry_for_scrape())
    return server
