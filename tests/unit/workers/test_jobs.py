"""process_run under a real RQ SimpleWorker on a private Redis, with the flow replaced by a fake."""

from __future__ import annotations

import time

import pytest
from redis import Redis
from rq import SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from app import runs
from app.config import Settings
from app.db import session_scope
from app.errors import GitHubError, PatchError, TransientError
from app.models import Run
from app.runs import verdict
from tests.unit.workers.conftest import FakeFlow, new_run
from workers import queues
from workers.worker import build


def work(settings: Settings, redis_conn: Redis) -> None:
    build(settings, redis_conn, SimpleWorker).work(burst=True)


def reason_of(settings: Settings, run_id: int) -> str:
    with session_scope(settings.database_url) as session:
        run = session.get(Run, run_id)
        assert run is not None
        return run.reason or ""


def test_run_is_claimed_then_given_the_flow_verdict(
    settings: Settings, redis_conn: Redis, flow: FakeFlow
) -> None:
    run_id = new_run(settings)
    flow.steps.append(lambda _rid: verdict.fixed("PR #9"))
    queues.enqueue_run(redis_conn, run_id, "issue")
    work(settings, redis_conn)
    assert flow.calls == [(run_id, "running")]
    assert runs.status_of(settings.database_url, run_id) == "fixed"
    job = Job.fetch(queues.job_id(run_id), connection=redis_conn, serializer=queues.SERIALIZER)
    assert job.return_value() == "fixed"


def test_a_run_without_a_verdict_is_done_and_a_second_job_is_a_no_op(
    settings: Settings, redis_conn: Redis, flow: FakeFlow
) -> None:
    run_id = new_run(settings, kind="command", command="status")
    queues.enqueue_run(redis_conn, run_id, "command", "status")
    work(settings, redis_conn)
    assert runs.status_of(settings.database_url, run_id) == "done"
    queues.reenqueue_run(redis_conn, run_id, "command", "status")
    work(settings, redis_conn)
    assert len(flow.calls) == 1


def test_retryable_error_is_retried_then_succeeds(
    settings: Settings, redis_conn: Redis, flow: FakeFlow
) -> None:
    run_id = new_run(settings)

    def outage(_rid: int) -> None:
        raise GitHubError("GitHub answered 502", retryable=True)

    flow.steps.append(outage)
    queues.enqueue_run(redis_conn, run_id, "issue", retry_intervals=(0,))
    work(settings, redis_conn)
    assert [status for _, status in flow.calls] == ["running", "running"]
    assert runs.status_of(settings.database_url, run_id) == "done"


def test_retry_waits_with_backoff_and_leaves_the_run_queued(
    settings: Settings, redis_conn: Redis, flow: FakeFlow
) -> None:
    run_id = new_run(settings)
    flow.steps.append(lambda _rid: (_ for _ in ()).throw(TransientError("redis blinked")))
    queues.enqueue_run(redis_conn, run_id, "issue")
    work(settings, redis_conn)
    scheduled = ScheduledJobRegistry(queues.DEFAULT, connection=redis_conn)
    assert queues.job_id(run_id) in scheduled.get_job_ids()
    assert runs.status_of(settings.database_url, run_id) == "queued"
    assert "retrying after" in reason_of(settings, run_id)


def test_retryable_errors_fail_the_run_once_retries_are_exhausted(
    settings: Settings, redis_conn: Redis, flow: FakeFlow
) -> None:
    run_id = new_run(settings)

    def outage(_rid: int) -> None:
        raise TransientError("model provider down")

    flow.steps.extend([outage] * (queues.RETRY_MAX + 1))
    queues.enqueue_run(redis_conn, run_id, "issue", retry_intervals=(0,))
    work(settings, redis_conn)
    assert len(flow.calls) == queues.RETRY_MAX + 1
    assert runs.status_of(settings.database_url, run_id) == "failed"
    assert "model provider down" in reason_of(settings, run_id)


def test_terminal_error_fails_the_run_with_a_scrubbed_reason(
    settings: Settings, redis_conn: Redis, flow: FakeFlow
) -> None:
    run_id = new_run(settings)
    token = "ghs_" + "A" * 36

    def bad_patch(_rid: int) -> None:
        raise PatchError(f"diff does not apply (token {token}, secret {settings.webhook_secret})")

    flow.steps.append(bad_patch)
    queues.enqueue_run(redis_conn, run_id, "issue", retry_intervals=(0,))
    work(settings, redis_conn)
    assert len(flow.calls) == 1  # terminal: not retried
    reason = reason_of(settings, run_id)
    assert runs.status_of(settings.database_url, run_id) == "failed"
    assert "PatchError: diff does not apply" in reason
    assert token not in reason and settings.webhook_secret not in reason


def test_a_job_over_its_timeout_fails_the_run(
    settings: Settings, redis_conn: Redis, flow: FakeFlow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queues, "JOB_TIMEOUT_S", 1)
    run_id = new_run(settings)
    flow.steps.append(lambda _rid: time.sleep(5))
    queues.enqueue_run(redis_conn, run_id, "issue")
    started = time.monotonic()
    work(settings, redis_conn)
    assert time.monotonic() - started < 4
    assert runs.status_of(settings.database_url, run_id) == "failed"
    assert "timed out" in reason_of(settings, run_id)
