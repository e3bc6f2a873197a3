"""`fixwurx serve [--port N]`: the web app under gunicorn, or Werkzeug's server with `--dev`."""

from __future__ import annotations

import os
from typing import Any

import click
from gunicorn.app.base import BaseApplication

#: gunicorn workers and threads for a small host (2 cores): two processes use both cores, threads
#: hide database and Redis latency. Threads stay below the database pool size (5, app/db.py): a
#: thread beyond it opens and closes a fresh connection per request, which costs more than it
#: hides. Tune with WEB_CONCURRENCY / --workers; benchmarks/webhook_load.py measures the effect.
DEFAULT_WORKERS = "2"
DEFAULT_THREADS = 4
#: Build the app once, before the workers fork (the Procfile's `--preload` too). Every worker is
#: ready when the port opens: without it, the first worker to finish importing accepted every
#: connection opened meanwhile, and kept those keep-alive connections (measured: 74% of the
#: requests on one of two workers). The objects `gc.freeze()` keeps out of collections are then
#: shared by the workers' memory. create_app opens no connection, so none crosses the fork.
PRELOAD = True


@click.command("serve")
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "8000")))
@click.option("--host", default="127.0.0.1", show_default=True, help="Use 0.0.0.0 behind a proxy.")
@click.option(
    "--workers", type=int, default=lambda: int(os.environ.get("WEB_CONCURRENCY", DEFAULT_WORKERS))
)
@click.option("--threads", type=int, default=DEFAULT_THREADS, show_default=True)
@click.option("--dev", is_flag=True, help="Werkzeug's development server instead of gunicorn.")
def serve(port: int, host: str, workers: int, threads: int, dev: bool) -> None:
    """Serve POST /webhooks/github."""
    from webhooks import create_app

    if dev:
        create_app().run(host=host, port=port)
        return
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "preload_app": PRELOAD,
        }
    ).run()


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
