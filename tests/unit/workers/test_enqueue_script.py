"""The web tier's one-call enqueue writes what RQ writes, and a real RQ worker runs it."""

from __future__ import annotations

import pytest
from redis import Redis
from rq import SimpleWorker
from rq.job import Job

from app import runs
from app.config import Settings
from tests.unit.workers.conftest import FakeFlow, new_run
from workers import queues
from workers.enqueue_script import ScriptJob, enqueue_with_mark
from workers.worker import build

#: Fields that hold the enqueue time, which differs between any two enqueues.
TIMES = {b"created_at", b"enqueued_at"}


def snapshot(conn: Redis, run_id: int) -> dict[str, object]:
    """Everything RQ keeps about one queued job: its hash, its queue, the queue registry."""
    record = conn.hgetall(f"rq:job:{queues.job_id(run_id)}")
    return {
        "hash": {k: v for k, v in record.items() if k not in TIMES},
        "times": sorted(k for k in record if k in TIMES),
        "queues": sorted(conn.smembers("rq:queues")),
        "lists": {q: conn.lrange(f"rq:queue:{q}", 0, -1) for q in queues.QUEUES},
    }


@pytest.mark.parametrize(
    ("kind", "command"), [("issue", None), ("command", "status"), ("ci", None)]
)
def test_the_record_is_the_one_rq_writes(redis_conn: Redis, kind: str, command: str | None) -> None:
    queues.enqueue_run(redis_conn, 41, kind, command)
    by_rq = snapshot(redis_conn, 41)
    redis_conn.flushdb()
    enqueue_with_mark(
        redis_conn.execute_command, [ScriptJob(41, kind, command)], "mark", b"done:run-41", 60
    )
    assert snapshot(redis_conn, 41) == by_rq
    assert by_rq["times"] == sorted(TIMES)  # both paths stamp the enqueue time


def test_one_call_enqueues_every_job_and_sets_the_mark(redis_conn: Redis) -> None:
    ids = enqueue_with_mark(
        redis_conn.execute_command,
        [ScriptJob(7, "issue"), ScriptJob(8, "command", "help")],
        "fixwurx:delivery:d-7",
        b"done:run-7,run-8",
        120,
    )
    assert ids == ["run-7", "run-8"]
    assert redis_conn.lrange("rq:queue:fixwurx-default", 0, -1) == [b"run-7"]
    assert redis_conn.lrange("rq:queue:fixwurx-high", 0, -1) == [b"run-8"]
    assert redis_conn.get("fixwurx:delivery:d-7") == b"done:run-7,run-8"
    assert 0 < redis_conn.ttl("fixwurx:delivery:d-7") <= 120
    job = Job.fetch("run-8", connection=redis_conn, serializer=queues.SERIALIZER)
    # JSON carries the arguments as a list.
    assert (job.func_name, job.args, job.get_status()) == (queues.PROCESS_RUN, [8], "queued")


def test_the_script_is_loaded_again_after_redis_forgot_it(redis_conn: Redis) -> None:
    enqueue_with_mark(redis_conn.execute_command, [ScriptJob(1, "issue")], "m1", b"done:run-1", 60)
    redis_conn.script_flush()
    enqueue_with_mark(redis_conn.execute_command, [ScriptJob(2, "issue")], "m2", b"done:run-2", 60)
    assert redis_conn.lrange("rq:queue:fixwurx-default", 0, -1) == [b"run-1", b"run-2"]


def test_a_real_worker_runs_a_job_enqueued_by_the_script(
    settings: Settings, redis_conn: Redis, flow: FakeFlow
) -> None:
    run_id = new_run(settings)
    flow.steps.append(lambda rid: runs.finish(settings.database_url, rid, "fixed", "PR #3"))
    enqueue_with_mark(redis_conn.execute_command, [ScriptJob(run_id, "issue")], "m", b"done", 60)
    build(settings, redis_conn, SimpleWorker).work(burst=True)
    assert flow.calls == [(run_id, "running")]
    assert runs.status_of(settings.database_url, run_id) == "fixed"
    assert (
        Job.fetch(
            queues.job_id(run_id), connection=redis_conn, serializer=queues.SERIALIZER
        ).return_value()
        == "fixed"
    )


def test_a_retried_call_queues_nothing_twice(redis_conn: Redis) -> None:
    # A reply lost to a broken connection makes the web tier send the call again.
    for _ in range(2):
        enqueue_with_mark(redis_conn.execute_command, [ScriptJob(5, "ci")], "m", b"done", 60)
    assert redis_conn.lrange("rq:queue:fixwurx-low", 0, -1) == [b"run-5"]
