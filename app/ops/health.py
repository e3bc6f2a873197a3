"""`/healthz` and `/readyz`: what a load balancer or Kubernetes asks before sending traffic.

`/healthz` (liveness) answers as long as the process can serve a request: it touches nothing
else, so a database outage never makes Kubernetes restart every web pod at once. `/readyz`
(readiness) checks what a delivery needs: the database answers, its schema is at this code's
migration head or newer, and Redis answers.

Why "or newer": the release step migrates before the new pods roll out, so for a while the old
pods serve a schema one release ahead of them. Migrations follow the expand/contract rule
(docs/deployment.md; tests/unit/ops/test_migration_rules.py): a release only adds, so the
previous release's code works on its schema. Requiring equality made every old web pod
unready at once on each migrating release, and GitHub does not retry a 503. A schema behind
the code (a revision this code knows, short of its head) is still 503: the new code needs it.
Either is 200 or 503, with a JSON body naming each check and, for those that failed, why.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import orjson
from flask import Blueprint, Flask, Response, current_app
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app import redisconn

log = logging.getLogger(__name__)
blueprint = Blueprint("health", __name__)

#: Seconds a readiness probe waits for Redis; Kubernetes' own probe timeout is larger.
REDIS_TIMEOUT_S = redisconn.WEB_TIMEOUT_S


@blueprint.get("/healthz")
def healthz() -> Response:
    return _json(200, status="ok")


@blueprint.get("/readyz")
def readyz() -> Response:
    from app.config import settings_of

    settings = settings_of(current_app)
    checks = {
        "database": _check_database(settings.database_url),
        "redis": _check_redis(current_app.extensions["fixwurx.health_redis"]),
    }
    if checks["database"] == "ok":
        checks["migrations"] = _check_migrations(settings.database_url)
    down = {name: why for name, why in checks.items() if why != "ok"}
    if down:
        log.warning("not ready: %s", down)
        return _json(503, status="unavailable", checks=checks, down=sorted(down))
    return _json(200, status="ok", checks=checks)


def _check_database(database_url: str) -> str:
    from app.db import get_engine

    try:
        with get_engine(database_url).connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return f"unreachable: {type(exc).__name__}"
    return "ok"


def _check_migrations(database_url: str) -> str:
    from app.db import get_engine

    try:
        with get_engine(database_url).connect() as conn:
            current = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except SQLAlchemyError:
        return "not migrated: no alembic_version table (run `fixwurx db upgrade`)"
    heads = migration_heads()
    # At head, or at a revision this code has never seen (a newer release's, whose migrations
    # only expanded this code's schema): ready. A known revision short of head: not.
    if heads <= current or current - heads - migration_ancestors():
        return "ok"
    return f"at {sorted(current)}, head is {sorted(heads)} (run `fixwurx db upgrade`)"


@functools.cache
def migration_heads() -> frozenset[str]:
    """The head revision(s) of the migrations shipped with this code (read once per process)."""
    from alembic.script import ScriptDirectory

    from app.ops.migrate import alembic_config

    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


@functools.cache
def migration_ancestors() -> frozenset[str]:
    """Every revision this code ships that is not a head: a database there is behind it."""
    from alembic.script import ScriptDirectory

    from app.ops.migrate import alembic_config

    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(s.revision for s in scripts.walk_revisions()) - migration_heads()


def _check_redis(conn: Redis) -> str:
    try:
        conn.ping()
    except RedisError as exc:
        return f"unreachable: {type(exc).__name__}"
    return "ok"


def _json(code: int, **fields: Any) -> Response:
    return Response(orjson.dumps(fields), status=code, mimetype="application/json")


def init_app(flask_app: Flask) -> None:
    """Register the probes; the Redis client connects lazily, with short timeouts."""
    from app.config import settings_of

    flask_app.extensions["fixwurx.health_redis"] = redisconn.redis_client(
        settings_of(flask_app).redis_url, REDIS_TIMEOUT_S
    )
    flask_app.register_blueprint(blueprint)
