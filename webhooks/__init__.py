"""HTTP ingress: verify, parse, dedupe, route, enqueue. Nothing here calls GitHub or a model.

`create_app` is the entry point for gunicorn (`webhooks:create_app()`) and for tests: the app
factory from `app`, plus this package's blueprint, router and Redis connection.
"""

from __future__ import annotations

import gc
from typing import Any

from flask import Flask

#: Redis timeouts for the web process, in seconds: a stalled Redis must cost a request at most
#: this, never hang it; the delivery is still committed and the sweeper enqueues it later.
REDIS_SOCKET_TIMEOUT_S = 1.0
REDIS_CONNECT_TIMEOUT_S = 0.5


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The web app: `app.create_app(config)` with the webhook endpoint registered."""
    from redis import ConnectionPool

    from app import create_app as create_base_app
    from app.config import settings_of
    from app.github.auth import check_app_settings
    from webhooks.handlers import build_router
    from webhooks.hotpath import HotRedis
    from webhooks.view import blueprint

    flask_app = create_base_app(config)
    settings = settings_of(flask_app)
    if settings.github_app_configured:
        check_app_settings(settings)  # a bad key fails the boot, not the first job
    flask_app.extensions["fixwurx.router"] = build_router()
    flask_app.extensions["fixwurx.redis"] = HotRedis(
        ConnectionPool.from_url(
            settings.redis_url,
            socket_timeout=REDIS_SOCKET_TIMEOUT_S,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S,
        )
    )
    flask_app.extensions["fixwurx.enqueue"] = _enqueuer(settings.redis_url)  # dashboard actions
    flask_app.register_blueprint(blueprint)
    _prepare(settings.database_url)
    # Everything made so far lives as long as the process. Freezing it keeps the collector's
    # full passes from scanning those ~100k objects: such a pass paused the worker's request
    # threads for 60-90 ms (measured over 3000 deliveries through the Flask test client).
    gc.freeze()
    return flask_app


def _prepare(database_url: str) -> None:
    """One-time work a worker would otherwise do inside its first request: load the database
    dialect and driver, configure the ORM mappers, build the enqueue script (measured in
    process: a first request took 75 ms of CPU without this, 21 ms with it).
    Nothing here opens a connection, so under gunicorn's --preload it runs once, before the
    fork, and every worker starts with it done."""
    from sqlalchemy.orm import configure_mappers

    from app.db import get_engine
    from workers.enqueue_script import prepare_script

    get_engine(database_url)
    configure_mappers()
    prepare_script()


def _enqueuer(redis_url: str) -> Any:
    """Enqueue a run the dashboard created (retry, re-read CI) through `workers.queues`."""
    from redis import Redis

    from workers import queues

    def enqueue(run_id: int, kind: str, command: str | None) -> str:
        connection = Redis.from_url(
            redis_url,
            socket_timeout=REDIS_SOCKET_TIMEOUT_S,
            socket_connect_timeout=REDIS_CONNECT_TIMEOUT_S,
        )
        return queues.enqueue_run(connection, run_id, kind, command)

    return enqueue
