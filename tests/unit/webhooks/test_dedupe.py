"""The Redis fast path for redeliveries, on a real Redis (and on one that predates SET NX GET)."""

from __future__ import annotations

from typing import Any

import pytest
from redis import ConnectionPool, Redis
from redis.exceptions import ResponseError

from webhooks import dedupe
from webhooks.hotpath import HotRedis
from workers.enqueue_script import Execute


def redis6(execute: Execute) -> Execute:
    """`execute`, but SET NX GET gets the answer Redis 6.2 gives: a syntax error."""

    def run(*command: Any) -> Any:
        if command[0] == "SET" and "NX" in command and "GET" in command:
            raise ResponseError("syntax error")
        return execute(*command)

    return run


@pytest.fixture(params=["redis7", "redis6"])
def execute(
    request: pytest.FixtureRequest, redis_conn: Redis, monkeypatch: pytest.MonkeyPatch
) -> Execute:
    """The web tier's raw command runner on a real Redis, as is or as an old server."""
    run = HotRedis(redis_conn.connection_pool).execute
    monkeypatch.setattr(dedupe, "_nx_get_unsupported", False)
    return redis6(run) if request.param == "redis6" else run


def test_first_sight_marks_pending_and_only_done_short_circuits(
    execute: Execute, redis_conn: Redis
) -> None:
    assert dedupe.seen_jobs(execute, "d-1") is None
    assert redis_conn.get(dedupe.key("d-1")) == dedupe.PENDING
    assert 0 < redis_conn.ttl(dedupe.key("d-1")) <= dedupe.PENDING_TTL_S
    assert dedupe.seen_jobs(execute, "d-1") is None  # pending: the database decides
    redis_conn.set(dedupe.key("d-1"), dedupe.done_value(["run-1", "run-2"]))
    assert dedupe.seen_jobs(execute, "d-1") == ["run-1", "run-2"]


def test_forget_lets_a_redelivery_start_afresh(execute: Execute, redis_conn: Redis) -> None:
    dedupe.seen_jobs(execute, "d-2")
    dedupe.forget(execute, "d-2")
    assert redis_conn.get(dedupe.key("d-2")) is None


def test_redis_down_means_the_database_decides() -> None:
    dead = HotRedis(ConnectionPool(port=1, socket_connect_timeout=0.2))
    assert dedupe.seen_jobs(dead.execute, "d-3") is None
