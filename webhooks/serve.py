"""`fixwurx serve [--port N]`: the web app under gunicorn, or Werkzeug's server with `--dev`."""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from webhooks import slowclients

#: gunicorn workers and threads for a small host (2 cores): two processes use both cores, threads
#: hide database and Redis latency. Threads stay below the database pool size (5, app/db.py): a
#: thread beyond it opens and closes a fresh connection per request, which costs more than it
#: hides. Tune with WEB_CONCURRENCY / --workers; benchmarks/webhook_load.py measures the effect.
DEFAULT_WORKERS = "2"
DEFAULT_THREADS = 4
#: Build the app once, before the workers fork. Every worker is ready when the port opens:
#: without it, the first worker to finish importing accepted every connection opened meanwhile,
#: and kept those keep-alive connections (measured: 74% of the requests on one of two workers).
#: The objects `gc.freeze()` keeps out of collections are then shared by the workers' memory.
#: create_app opens no connection, so none crosses the fork.
PRELOAD = True
#: The worker class: gthread, with each request read in full before a thread serves it, and
#: header and body read timeouts (webhooks/slowclients.py says why).
WORKER_CLASS = "webhooks.slowclients.BufferingThreadWorker"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@click.command("serve")
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "8000")))
@click.option("--host", default="127.0.0.1", show_default=True, help="Use 0.0.0.0 behind a proxy.")
@click.option(
    "--workers", type=int, default=lambda: int(os.environ.get("WEB_CONCURRENCY", DEFAULT_WORKERS))
)
@click.option("--threads", type=int, default=DEFAULT_THREADS, show_default=True)
@click.option(
    "--header-timeout",
    type=float,
    default=slowclients.HEADER_TIMEOUT_S,
    show_default=True,
    help="Seconds a client has to send its request header.",
)
@click.option(
    "--body-timeout",
    type=float,
    default=slowclients.BODY_TIMEOUT_S,
    show_default=True,
    help="Seconds a client has, after its header, to send the body.",
)
@click.option(
    "--max-buffered-mb",
    type=float,
    default=slowclients.MAX_BUFFERED_BYTES / 2**20,
    show_default=True,
    help="MiB a worker holds across requests still arriving; past it, 503.",
)
@click.option("--dev", is_flag=True, help="Werkzeug's development server instead of gunicorn.")
def serve(
    port: int,
    host: str,
    workers: int,
    threads: int,
    header_timeout: float,
    body_timeout: float,
    max_buffered_mb: float,
    dev: bool,
) -> None:
    """Serve POST /webhooks/github."""
    from webhooks import create_app

    if dev:
        create_app().run(host=host, port=port)
        return
    own_folder = _own_multiproc_dir()
    # Inherited by the forked gunicorn workers (the class is loaded in this, the master, process).
    slowclients.BufferingThreadWorker.header_timeout_s = header_timeout
    slowclients.BufferingThreadWorker.body_timeout_s = body_timeout
    slowclients.BufferingThreadWorker.max_buffered_bytes = int(max_buffered_mb * 2**20)
    try:
        _Gunicorn(
            {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": WORKER_CLASS,
                "preload_app": PRELOAD,
                "child_exit": _child_exit,
            }
        ).run()
    finally:
        if own_folder is not None:
            shutil.rmtree(own_folder, ignore_errors=True)


def _own_multiproc_dir() -> str | None:
    """With no PROMETHEUS_MULTIPROC_DIR, make an empty one for this server and its workers.

    Why: gunicorn's workers are separate processes; without a shared folder each keeps its own
    counters and a scrape reads whichever worker answers (after 6 deliveries, six scrapes read
    `0 0 0 6 0 6`). It must be set before prometheus_client is first imported, which happens
    when the app is built below. The folder is new, so no dead server's counts are summed, and
    it is removed when the server stops. A folder the operator names is used as given.
    """
    if os.environ.get(MULTIPROC_ENV):
        return None
    folder = tempfile.mkdtemp(prefix="fixwurx-metrics-")
    os.environ[MULTIPROC_ENV] = folder
    return folder


def _child_exit(_server: Any, worker: Any) -> None:
    """A gunicorn worker exited: drop its live-gauge files (its counters stay, and count)."""
    from prometheus_client import multiprocess

    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(worker.pid)


class _Gunicorn(BaseApplication):
    """gunicorn driven from Python, so `fixwurx serve` needs no separate config file."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from webhooks import create_app

        return create_app()
