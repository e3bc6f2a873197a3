"""Persistent per-thread connections for the web hot path: PostgreSQL and Redis, outside pools.

At hundreds of deliveries a second the pools' per-request work costs as much CPU as the work
itself: SQLAlchemy's check-out, pre-ping round trip and reset on check-in; redis-py's pool
lock, retry wrapper and per-command argument inspection. The hot path sends a few
self-contained commands (one autocommit SQL statement, a SET, a script call), so it needs none
of that and keeps one driver connection per thread instead. A broken connection (a server
restart) is replaced and the command retried once; every hot-path command is idempotent per
delivery, so a retry after a lost reply changes nothing. Fork safety: a connection made in
another process is never reused.

A PostgreSQL connection can carry server settings for every statement it runs (`settings`, set
once per connection, right after it opens): the intake uses it to commit deliveries without
waiting for the disk flush (`webhooks.intake`), at no per-request cost. They are set with a
statement rather than libpq's `options`, which PgBouncer refuses at connect time.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from redis import ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from app.db import postgresql_connect_args


class _PerThread:
    """One kept connection per thread and process: one made before a fork is never reused."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _current(self) -> Any:
        """This thread's kept object, or None (none yet, or it belongs to the parent process)."""
        if getattr(self._local, "pid", None) != os.getpid():
            return None
        return self._local.kept

    def _keep(self, kept: Any) -> Any:
        self._local.kept, self._local.pid = kept, os.getpid()
        return kept

    def _drop(self, close: Callable[[Any], object]) -> None:
        kept = self._current()
        self._local.kept = None
        if kept is not None:
            with contextlib.suppress(Exception):  # already broken: nothing useful to do
                close(kept)


class HotConnections(_PerThread):
    """Per-thread driver connections to the engine's database, outside its pool.

    `settings` are PostgreSQL run-time parameters (`{"synchronous_commit": "off"}`) that every
    connection made here starts with.
    """

    def __init__(self, engine: Engine, settings: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.settings = dict(settings or {})

    def execute_one(self, sql: str, params: dict[str, Any]) -> Any:
        """Run `sql` in autocommit and return its first row (SQLAlchemy errors on failure)."""
        error = self.engine.dialect.loaded_dbapi.Error
        for attempt in (1, 2):
            try:
                return self._cursor().execute(sql, params).fetchone()
            except error as exc:
                self._drop(lambda cursor: cursor.connection.close())
                if attempt == 2 or not _is_disconnect(exc, self.engine.dialect.loaded_dbapi):
                    raise DBAPIError.instance(sql, params, exc, error) from exc
        raise AssertionError("unreachable")

    def _cursor(self) -> Any:
        """This thread's cursor (reused: a cursor per statement costs as much as binding it)."""
        cursor = self._current()
        if cursor is None or cursor.connection.closed:
            cargs, cparams = self.engine.dialect.create_connect_args(self.engine.url)
            cparams = {**postgresql_connect_args(), **cparams}
            conn = self.engine.dialect.loaded_dbapi.connect(*cargs, **cparams)
            conn.autocommit = True
            cursor = self._keep(conn.cursor())
            for name, value in self.settings.items():
                cursor.execute("SELECT set_config(%s, %s, false)", (name, value))
        return cursor


class HotRedis(_PerThread):
    """Per-thread connections from `pool`'s settings; `execute(*command)` returns the reply."""

    def __init__(self, pool: ConnectionPool) -> None:
        super().__init__()
        self.pool = pool

    def execute(self, *command: Any) -> Any:
        """Send one command and read its reply; a server error is raised as redis-py's class."""
        for attempt in (1, 2):
            conn = self._current() or self._keep(self.pool.make_connection())
            try:
                conn.send_command(*command)
                return conn.read_response()
            except (RedisConnectionError, RedisTimeoutError):
                self._drop(lambda kept: kept.disconnect())
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def _is_disconnect(exc: Exception, dbapi: Any) -> bool:
    return isinstance(exc, dbapi.OperationalError | dbapi.InterfaceError)
