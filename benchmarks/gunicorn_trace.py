"""gunicorn config for `webhook_load.py --trace`: where each request's time goes, per worker.

A diagnostic, not production code: it wraps gunicorn 27's gthread worker (`enqueue_req`,
`handle`) and the web tier's hot-path connections to time each request in phases:

- `wait`:  the connection was handed to the worker's thread pool -> a thread picked it up;
- `read`:  the thread started -> the request was parsed (headers and body read);
- `app`:   Flask and the view, wall clock (`app_cpu`: CPU time of that thread meanwhile);
- `redis`, `db`: the part of `app` spent in Redis commands and the PostgreSQL statement.

It also times every garbage collection (`gc.callbacks`): a full collection stops every thread
of the worker. Each worker writes its records (requests: end time, pid, the phases in ms;
collections: end time, pid, generation, ms) to `$FIXWURX_TRACE_DIR/<pid>.json` when it exits;
`webhook_load.py` summarises them.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from typing import Any

_records: list[dict[str, float]] = []
_collections: list[dict[str, float]] = []
_local = threading.local()
_gc_started = 0.0


def post_fork(server: Any, worker: Any) -> None:
    from gunicorn.workers import gthread

    from webhooks import hotpath

    _time_calls(hotpath.HotRedis, "execute", "redis")
    _time_calls(hotpath.HotConnections, "execute_one", "db")
    enqueue, handle = gthread.ThreadWorker.enqueue_req, gthread.ThreadWorker.handle

    def timed_enqueue(self: Any, conn: Any) -> Any:
        conn.fixwurx_enqueued = time.perf_counter()
        return enqueue(self, conn)

    def timed_handle(self: Any, conn: Any) -> Any:
        _local.started = time.perf_counter()
        _local.enqueued = getattr(conn, "fixwurx_enqueued", _local.started)
        return handle(self, conn)

    gthread.ThreadWorker.enqueue_req = timed_enqueue
    gthread.ThreadWorker.handle = timed_handle
    gc.callbacks.append(_time_collection)


def _time_collection(phase: str, info: dict[str, int]) -> None:
    global _gc_started
    if phase == "start":
        _gc_started = time.perf_counter()
        return
    _collections.append(
        {
            "at": time.time(),
            "pid": os.getpid(),
            "generation": info["generation"],
            "ms": 1000 * (time.perf_counter() - _gc_started),
        }
    )


def _time_calls(cls: type, method: str, phase: str) -> None:
    original = getattr(cls, method)

    def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent = getattr(_local, "spent", None)
            if spent is not None:
                spent[phase] += time.perf_counter() - start

    setattr(cls, method, timed)


def pre_request(worker: Any, req: Any) -> None:
    _local.app_start = time.perf_counter()
    _local.app_cpu = time.thread_time()
    _local.spent = {"redis": 0.0, "db": 0.0}


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    now = time.perf_counter()
    started = getattr(_local, "started", _local.app_start)
    _records.append(
        {
            "at": time.time(),
            "pid": os.getpid(),
            "wait": 1000 * (started - getattr(_local, "enqueued", started)),
            "read": 1000 * (_local.app_start - started),
            "app": 1000 * (now - _local.app_start),
            "app_cpu": 1000 * (time.thread_time() - _local.app_cpu),
            "redis": 1000 * _local.spent["redis"],
            "db": 1000 * _local.spent["db"],
        }
    )
    _local.spent = None


def worker_exit(server: Any, worker: Any) -> None:
    directory = os.environ.get("FIXWURX_TRACE_DIR")
    if directory:
        with open(os.path.join(directory, f"{os.getpid()}.json"), "w") as out:
            json.dump({"requests": _records, "collections": _collections}, out)
