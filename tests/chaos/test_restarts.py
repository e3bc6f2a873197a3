"""Chaos (issue 16): Redis, then PostgreSQL, stopped and started again while deliveries arrive.

Real processes on loopback: gunicorn serving the receiver, a private redis-server, and for the
PostgreSQL test a private throw-away cluster (tests/chaos/services.py); the machine's shared
services are never stopped. Three threads keep posting signed deliveries over HTTP through the
outage. What the receiver promises, and each test checks:

- never a 500 and never a dropped connection: a delivery it cannot store is answered 503, so
  GitHub marks it failed and it can be redelivered;
- never a 2xx for a delivery it did not store;
- it recovers by itself once the service is back (no restart of the web tier);
- every delivery it acknowledged becomes exactly one run and one queued job (with the sweeper
  for the runs committed while Redis was away).

Every wait is for a number of answers, never for a speed; each phase is bounded by
PHASE_TIMEOUT_S only so that a hang fails instead of blocking the suite.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine, text

from app import runs
from app.models import utcnow
from app.ops.migrate import upgrade
from tests.chaos.services import PostgresCluster, RestartableRedis, gunicorn
from tests.chaos.traffic import (
    ACKED,
    Answer,
    Traffic,
    check_exactly_one_job,
    queued_jobs,
    run_ids,
    stored_deliveries,
)
from tests.conftest import POSTGRES_ADMIN_URL
from tests.fakes.loopback import redis_server
from workers import queues

SECRET = "chaos-webhook-secret"
#: Answers to collect in each phase.
PER_PHASE = 15


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A new database on the shared server (only created and dropped, never stopped)."""
    name = f"fixwurx_chaos_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def sweep(database_url: str, redis_url: str) -> list[int]:
    """What a worker's maintenance tick does, as if the enqueue grace period had passed."""
    conn = Redis.from_url(redis_url)
    try:
        report = runs.sweep(
            database_url,
            lambda run_id: queues.job_state(conn, run_id),
            lambda run: queues.reenqueue_run(conn, run.id, run.kind, run.command),
            now=utcnow() + dt.timedelta(seconds=runs.ENQUEUE_GRACE_S + 1),
        )
    finally:
        conn.close()
    return report.enqueued


def acked(traffic: Traffic) -> set[str]:
    return {a.delivery_id for a in traffic.answers if a.status in ACKED}


def assert_no_2xx_without_a_row(traffic: Traffic, database_url: str) -> None:
    stored = stored_deliveries(database_url)
    assert [d for d in acked(traffic) if stored.get(d) != 1] == []


def windows(
    traffic: Traffic, down: float, gone: float, back: float, up: float
) -> dict[str, list[Answer]]:
    """Answers by when they happened: wholly before the stop began (`down`), wholly while the
    service was gone (after the stop had completed, `gone`, and before the restart began,
    `back`), and sent after the restart had completed (`up`). Requests that straddled a
    transition are in none of them."""
    return {
        "before": traffic.between(0.0, down),
        "outage": traffic.between(gone, back),
        "after": traffic.sent_after(up),
    }


def statuses(answers: list[Answer]) -> dict[int, int]:
    return dict(Counter(a.status for a in answers))


def test_redis_killed_and_restarted_while_deliveries_arrive(
    fresh_database: str, tmp_path: Path
) -> None:
    redis = RestartableRedis()
    redis.start()
    log = tmp_path / "gunicorn.log"
    try:
        with gunicorn(fresh_database, redis.url, SECRET, log) as port:
            traffic = Traffic(port, SECRET).start()
            try:
                traffic.wait_for(PER_PHASE)
                down = time.monotonic()
                redis.kill()
                gone = time.monotonic()
                traffic.wait_for(PER_PHASE, sent_after=gone)
                back = time.monotonic()
                redis.start()
                up = time.monotonic()
                traffic.wait_for(PER_PHASE, sent_after=up)
            finally:
                traffic.stop()
        seen = windows(traffic, down, gone, back, up)
        print("statuses:", {k: statuses(v) for k, v in seen.items()}, statuses(traffic.answers))
        # Redis is only the queue: with it gone a delivery is still committed, so it is
        # acknowledged (202) and its run waits for the sweeper. Nothing may be a 500.
        assert set(statuses(traffic.answers)) == {202}
        assert_no_2xx_without_a_row(traffic, fresh_database)
        runs_of = run_ids(fresh_database)
        jobs = queued_jobs(redis.url)

        def has_job(answer: Answer) -> bool:
            return jobs[queues.job_id(runs_of[answer.delivery_id][0])] == 1

        # Kept across the kill -9 (append-only file), and enqueued at once when Redis is back:
        assert all(has_job(a) for a in seen["before"] + seen["after"])
        # Committed while Redis was gone: no job yet, until the sweep enqueues exactly those.
        assert seen["outage"] and not any(has_job(a) for a in seen["outage"])
        missing = [a for a in traffic.answers if not has_job(a)]
        enqueued = sweep(fresh_database, redis.url)
        assert sorted(enqueued) == sorted(runs_of[a.delivery_id][0] for a in missing)
        check_exactly_one_job(fresh_database, redis.url, acked(traffic))
        assert "Traceback" not in log.read_text(errors="replace")
        print(f"{len(traffic.answers)} deliveries, {len(missing)} enqueued by the sweep")
    finally:
        redis.close()


def test_postgres_stopped_and_restarted_while_deliveries_arrive(tmp_path: Path) -> None:
    cluster = PostgresCluster()
    try:
        cluster.start()
        admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('CREATE DATABASE "fixwurx"'))
        admin.dispose()
        database_url = cluster.url("fixwurx")
        upgrade(database_url)
        with (
            redis_server() as redis,
            gunicorn(database_url, redis.url, SECRET, tmp_path / "gunicorn.log") as port,
        ):
            traffic = Traffic(port, SECRET).start()
            try:
                traffic.wait_for(PER_PHASE)
                down = time.monotonic()
                cluster.stop("fast")
                gone = time.monotonic()
                traffic.wait_for(PER_PHASE, sent_after=gone)
                back = time.monotonic()
                cluster.start()
                up = time.monotonic()
                traffic.wait_for(PER_PHASE, sent_after=up)
            finally:
                traffic.stop()
            seen = windows(traffic, down, gone, back, up)
            print("statuses:", {k: statuses(v) for k, v in seen.items()}, statuses(traffic.answers))
            # Never a 500 or a dropped connection; a request that straddled the shutdown may
            # have committed (202) or not (503).
            assert set(statuses(traffic.answers)) <= {202, 503}
            assert set(statuses(seen["before"])) == {202}
            # While it is gone: 503, so GitHub marks the delivery failed and can redeliver it.
            assert seen["outage"] and set(statuses(seen["outage"])) == {503}
            # Back without restarting the web tier: the dead connections are replaced.
            assert set(statuses(seen["after"])) == {202}
            assert_no_2xx_without_a_row(traffic, database_url)
            refused = [a.delivery_id for a in traffic.answers if a.status == 503]
            redelivered = [traffic.redeliver(d) for d in refused]
            assert set(redelivered) <= set(ACKED), redelivered
            enqueued = sweep(database_url, redis.url)
            check_exactly_one_job(database_url, redis.url, acked(traffic) | set(refused))
            assert len(stored_deliveries(database_url)) == len(traffic.answers)
            print(
                f"{len(traffic.answers)} deliveries, {len(refused)} answered 503 and redelivered, "
                f"{len(enqueued)} enqueued by the sweep"
            )
    finally:
        cluster.close()
