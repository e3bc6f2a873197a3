"""SQLAlchemy engine and sessions, safe across RQ's fork.

RQ forks a work horse per job. A pooled connection inherited across `fork()` would be shared by
two processes and corrupt the protocol stream, so the child drops the parent's pool (without
closing the parent's sockets) before its first query.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

_engines: dict[str, Engine] = {}

#: Seconds a new PostgreSQL connection may take, handshake included (libpq's `connect_timeout`,
#: whose minimum is 2). Without it a server that accepts the TCP connection and never answers
#: (a hung process, a black-holed load balancer) hangs the caller forever: `/readyz`, a request,
#: a worker's claim. A few seconds is far above a healthy connect (milliseconds) on a LAN.
CONNECT_TIMEOUT_S = 3
#: Seconds a caller waits for a pooled connection when the pool is exhausted (SQLAlchemy's
#: default is 30): a saturated pool turns into an error the caller reports, not a stall.
POOL_TIMEOUT_S = 5


def postgresql_connect_args() -> dict[str, object]:
    """Driver arguments every PostgreSQL connection gets (the web hot path's too)."""
    return {"connect_timeout": CONNECT_TIMEOUT_S}


def get_engine(database_url: str) -> Engine:
    """The process-wide engine for `database_url`, created on first use."""
    engine = _engines.get(database_url)
    if engine is None:
        engine = _create(database_url)
        _engines[database_url] = engine
    return engine


def ensure_sqlite_dir(database_url: str) -> None:
    """SQLite creates the file but not its folder: make the folder for a file URL."""
    if database_url.startswith("sqlite:///") and ":memory:" not in database_url:
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def _create(database_url: str) -> Engine:
    ensure_sqlite_dir(database_url)
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        database_url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        pool_timeout=POOL_TIMEOUT_S,
        connect_args=postgresql_connect_args(),
    )


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    # WAL lets the web process write deliveries while a worker writes runs.
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _drop_pools_after_fork() -> None:
    for engine in _engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_drop_pools_after_fork)


@contextmanager
def session_scope(database_url: str) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = sessionmaker(get_engine(database_url), expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def init_app(flask_app: Flask) -> None:
    """Make the app's database URL known; the engine is created lazily on first use."""
    from app.config import settings_of

    flask_app.extensions["fixwurx.database_url"] = settings_of(flask_app).database_url
