"""No pickle from Redis runs in the worker (issue 22, item 7): jobs are JSON end to end.

A repository's install step once reached the host's Redis. With RQ's default serializer, a job
record whose `data` is a pickle would run its payload in the worker, outside every sandbox, with
the App's keys. The worker reads jobs with JSON, so the same record is a failed job and nothing
else.
"""

from __future__ import annotations

import pickle
import zlib
from pathlib import Path
from typing import Any

from redis import Redis
from rq import SimpleWorker
from rq.job import Job

from app.config import Settings
from tests.unit.workers.conftest import FakeFlow, new_run
from workers import queues
from workers.enqueue_script import serialized_call
from workers.worker import build


class Planted:
    """Unpickling this creates `marker`: proof that the payload ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def test_a_pickled_payload_in_redis_is_never_unpickled(
    settings: Settings, redis_conn: Redis, flow: FakeFlow, tmp_path: Path
) -> None:
    marker = tmp_path / "payload-ran"
    run_id = new_run(settings)
    queues.enqueue_run(redis_conn, run_id, "issue")
    job_key = f"rq:job:{queues.job_id(run_id)}"
    redis_conn.hset(job_key, "data", zlib.compress(pickle.dumps(Planted(marker))))
    build(settings, redis_conn, SimpleWorker).work(burst=True)
    assert not marker.exists()
    assert flow.calls == []  # the job never ran either


def test_every_job_record_is_json(settings: Settings, redis_conn: Redis) -> None:
    run_id = new_run(settings)
    queues.enqueue_run(redis_conn, run_id, "issue")
    record = redis_conn.hgetall(f"rq:job:{queues.job_id(run_id)}")
    assert zlib.decompress(record[b"data"]) == zlib.decompress(serialized_call(run_id))
    assert zlib.decompress(record[b"data"]).startswith(b'["workers.jobs.process_run"')
    job = Job.fetch(queues.job_id(run_id), connection=redis_conn, serializer=queues.SERIALIZER)
    assert job.args == [run_id] and job.meta == {}
