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
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine, text

from app import runs
from app.migrate import upgrade
from app.models import utcnow
from tests.chaos.services import PostgresCluster, RestartableRedis, gunicorn
from tests.chaos.traffic import (
    ACKED,
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
                traffic.wait_for("before", PER_PHASE)
                traffic.phase = "outage"
                redis.kill()
                traffic.wait_for("outage", PER_PHASE)
                redis.start()
                traffic.phase = "after"
                traffic.wait_for("after", PER_PHASE)
            finally:
                traffic.stop()
            outage = traffic.statuses("outage")
            print(
                "statuses:", {p: dict(traffic.statuses(p)) for p in ("before", "outage", "after")}
            )
            # Redis is only the queue: with it gone the delivery is still committed, so it is
            # acknowledged (202) and its run waits for the sweeper. Nothing may be a 500.
            assert set(traffic.statuses("before")) == {202}
            assert set(outage) == {202}, outage
            assert set(traffic.statuses("after")) == {202}
        assert_no_2xx_without_a_row(traffic, fresh_database)
        runs_of = run_ids(fresh_database)
        jobs = queued_jobs(redis.url)
        # Kept across the kill -9 (append-only file) and enqueued again once Redis was back:
        for phase in ("before", "after"):
            ids = [a.delivery_id for a in traffic.answers if a.phase == phase]
            assert all(jobs[queues.job_id(runs_of[d][0])] == 1 for d in ids), phase
        missing = [
            a for a in traffic.answers if jobs[queues.job_id(runs_of[a.delivery_id][0])] == 0
        ]
        assert missing and {a.phase for a in missing} == {"outage"}
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
                traffic.wait_for("before", PER_PHASE)
                traffic.phase = "outage"
                cluster.stop("fast")
                traffic.wait_for("outage", PER_PHASE)
                cluster.start()
                traffic.phase = "after"
                traffic.wait_for("after", PER_PHASE)
            finally:
                traffic.stop()
            statuses = {p: dict(traffic.statuses(p)) for p in ("before", "outage", "after")}
            print("statuses:", statuses)
            assert set(statuses["before"]) == {202}
            # While it is down: 503 (redeliver later), never a 500 or a dropped connection. A
            # request that committed just before the shutdown may still be a 202.
            assert 503 in statuses["outage"] and set(statuses["outage"]) <= {202, 503}
            # Back without restarting the web tier: the dead connections are replaced.
            assert set(statuses["after"]) == {202}
            assert_no_2xx_without_a_row(traffic, database_url)
            refused = [a.delivery_id for a in traffic.answers if a.status == 503]
            redelivered = [traffic.redeliver(d) for d in refused]
            assert set(redelivered) <= set(ACKED), redelivered
            enqueued = sweep(database_url, redis.url)
            everything = acked(traffic) | set(refused)
            check_exactly_one_job(database_url, redis.url, everything)
            assert len(stored_deliveries(database_url)) == len(traffic.answers)
            print(
                f"{len(traffic.answers)} deliveries, {len(refused)} answered 503 and redelivered, "
                f"{len(enqueued)} enqueued by the sweep"
            )
    finally:
        cluster.close()
