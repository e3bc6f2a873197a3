"""Per-thread hot-path connections survive a server dropping them and never cross a fork."""

from __future__ import annotations

import os

import pytest
from redis import Redis
from redis.exceptions import ResponseError
from sqlalchemy import create_engine, text

from webhooks.hotpath import HotConnections, HotRedis


def test_redis_replies_come_back_raw_and_errors_as_redis_py_classes(redis_conn: Redis) -> None:
    hot = HotRedis(redis_conn.connection_pool)
    assert hot.execute("SET", "k", "v", "NX", "GET") is None
    assert hot.execute("SET", "k", "w", "NX", "GET") == b"v"
    with pytest.raises(ResponseError):
        hot.execute("INCR", "k")


def test_redis_connection_killed_by_the_server_is_replaced(redis_conn: Redis) -> None:
    hot = HotRedis(redis_conn.connection_pool)
    hot.execute("CLIENT", "SETNAME", "hot")
    assert redis_conn.client_kill_filter(_type="normal", skipme=True) >= 1
    assert hot.execute("PING") == b"PONG"


def test_a_forked_child_opens_its_own_redis_connection(redis_conn: Redis) -> None:
    hot = HotRedis(redis_conn.connection_pool)
    parent_id = hot.execute("CLIENT", "ID")
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if it talks to Redis on a connection of its own
        try:
            os._exit(0 if hot.execute("CLIENT", "ID") != parent_id else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert hot.execute("CLIENT", "ID") == parent_id


def test_postgres_connection_terminated_by_the_server_is_replaced(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    hot = HotConnections(engine)
    backend = hot.execute_one("SELECT pg_backend_pid()", {})[0]
    with engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    assert hot.execute_one("SELECT pg_backend_pid()", {})[0] != backend
    engine.dispose()


def test_postgres_connections_start_with_the_given_server_settings(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    plain, tuned = HotConnections(engine), HotConnections(engine, {"synchronous_commit": "off"})
    assert plain.execute_one("SHOW synchronous_commit", {})[0] == "on"
    assert tuned.execute_one("SHOW synchronous_commit", {})[0] == "off"
    backend = tuned.execute_one("SELECT pg_backend_pid()", {})[0]
    with engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    assert tuned.execute_one("SHOW synchronous_commit", {})[0] == "off"  # on its replacement too
    assert tuned.execute_one("SELECT pg_backend_pid()", {})[0] != backend
    engine.dispose()


def test_hot_postgresql_connect_is_bounded_when_the_server_never_answers() -> None:
    import time

    from sqlalchemy.exc import OperationalError

    from app.db import CONNECT_TIMEOUT_S
    from tests.fakes.loopback import silent_port

    with silent_port() as port:
        engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/test")
        hot = HotConnections(engine)
        started = time.monotonic()
        with pytest.raises(OperationalError):
            hot.execute_one("SELECT 1", {})
        assert time.monotonic() - started < 2 * CONNECT_TIMEOUT_S + 2
        engine.dispose()
