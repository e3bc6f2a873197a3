"""The sweeper's CI timer: a fix commit whose CI never answers gets one timeout run, once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app import runs
from app.db import session_scope
from app.models import CiWatch, Run
from tests.unit.runs.test_runs import REQUEST, FakeQueue, record


def watch(url: str, minutes_left: float, head: str = "c" * 40) -> int:
    record(url)  # makes the repository row the watch belongs to
    with session_scope(url) as session:
        row = CiWatch(
            repository_id=REQUEST.repository_id,
            pr_number=9,
            branch="fixwurx/issue-5",
            head_sha=head,
            base_sha="b" * 40,
            bundle_hash="sha256:" + "0" * 64,
            state="waiting",
            deadline=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes_left),
        )
        session.add(row)
        session.flush()
        return row.id


def test_an_expired_watch_gets_exactly_one_timeout_run(database_url: str) -> None:
    watch_id = watch(database_url, minutes_left=-1)
    queue = FakeQueue()
    first = runs.sweep(database_url, queue.job_state, queue.enqueue)
    assert len(first.ci_timeouts) == 1
    (run_id,) = first.ci_timeouts
    assert run_id in queue.enqueued
    with session_scope(database_url) as session:
        run = session.get(Run, run_id)
        assert run is not None
        assert (run.kind, run.trigger, run.status) == ("ci_result", "ci.timeout", "queued")
        assert (run.head_sha, run.pr_number) == ("c" * 40, 9)
        assert session.get_one(CiWatch, watch_id).state == "expired"
    # The next sweep (another worker, or after a restart) starts nothing new.
    assert runs.sweep(database_url, queue.job_state, queue.enqueue).ci_timeouts == []


def test_a_watch_within_its_deadline_is_left_waiting(database_url: str) -> None:
    watch_id = watch(database_url, minutes_left=30)
    assert runs.sweep(database_url, FakeQueue().job_state, FakeQueue().enqueue).ci_timeouts == []
    with session_scope(database_url) as session:
        assert session.get_one(CiWatch, watch_id).state == "waiting"


def test_the_timer_survives_redis_being_down(database_url: str) -> None:
    watch(database_url, minutes_left=-5)
    down = FakeQueue(fail=True)
    (run_id,) = runs.sweep(database_url, down.job_state, down.enqueue).ci_timeouts
    # The run is committed and queued; a later sweep with Redis back enqueues it.
    with session_scope(database_url) as session:
        run = session.get(Run, run_id)
        assert run is not None and run.status == "queued"
        old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
        run.created_at = old
    up = FakeQueue()
    assert run_id in runs.sweep(database_url, up.job_state, up.enqueue).enqueued
    with session_scope(database_url) as session:
        count = len(list(session.scalars(select(Run).where(Run.kind == "ci_result"))))
    assert count == 1
