"""One persistent, autocommit PostgreSQL connection per web thread, for the one-statement record.

At hundreds of deliveries a second the pool's per-request work (check-out, the pre-ping round
trip, the reset on check-in) costs as much CPU as the insert itself. The hot path runs a single
self-contained statement, so it needs no transaction handling and can keep one driver
connection per thread. A broken connection (database restart) is replaced and the statement
retried once; it is safe to retry because the statement is atomic and idempotent per delivery.
Fork safety: a connection made in another process is never reused.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError


class HotConnections:
    """Per-thread driver connections to the engine's database, outside its pool."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()

    def execute_one(self, sql: str, params: dict[str, Any]) -> Any:
        """Run `sql` in autocommit and return its first row (SQLAlchemy errors on failure)."""
        error = self.engine.dialect.loaded_dbapi.Error
        for attempt in (1, 2):
            try:
                return self._connection().execute(sql, params).fetchone()
            except error as exc:
                self._drop()
                if attempt == 2 or not _is_disconnect(exc, self.engine.dialect.loaded_dbapi):
                    raise DBAPIError.instance(sql, params, exc, error) from exc
        raise AssertionError("unreachable")

    def _connection(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid() or conn.closed:
            cargs, cparams = self.engine.dialect.create_connect_args(self.engine.url)
            conn = self.engine.dialect.loaded_dbapi.connect(*cargs, **cparams)
            conn.autocommit = True
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            with contextlib.suppress(Exception):  # already broken: nothing useful to do
                conn.close()


def _is_disconnect(exc: Exception, dbapi: Any) -> bool:
    return isinstance(exc, dbapi.OperationalError | dbapi.InterfaceError)
