"""Queue names in priority order and the enqueue defaults every FixWurx job uses.

A worker listens to the queues in the order of `QUEUES`, so a `/fixwurx status` reply never waits
behind a long repair, and CI auto-fix (which nobody is watching live) yields to both.
Job ids are deterministic (`run-<id>`): enqueueing a run twice names the same job, and the
sweeper can ask Redis whether a run's job still exists.

Every queue, job and worker uses RQ's JSON serializer (`SERIALIZER`), never its default pickle:
whatever reaches Redis (a repository's code once could, see issue 22) must not be able to run
code in the worker when it is read back. A job's payload is a run id, which JSON carries.
"""

from __future__ import annotations

import contextlib
from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from app import command_table

#: How every job's call, meta and result are written to Redis: JSON, so reading a job back never
#: unpickles anything.
SERIALIZER = JSONSerializer

HIGH = "fixwurx-high"
DEFAULT = "fixwurx-default"
LOW = "fixwurx-low"
#: Highest priority first; this is the order a worker dequeues in.
QUEUES = (HIGH, DEFAULT, LOW)

#: Quick replies that must not wait behind repairs (the table's `quick` commands).
HIGH_PRIORITY_COMMANDS = command_table.QUICK

#: Wall-clock limit of one job, in seconds: a full repair (clone, reproduce, several candidate
#: test runs of up to SUITE_TIMEOUT_S each) fits; a hung job is killed and the run is failed.
JOB_TIMEOUT_S = 1800
#: Quick replies get a short limit: a status reply that takes minutes is broken.
HIGH_JOB_TIMEOUT_S = 120
#: Retries of a job that raised a retryable error, with growing pauses (seconds) between them:
#: long enough to ride out a GitHub or model-provider outage of a few minutes.
RETRY_MAX = 3
RETRY_INTERVALS_S = (30, 120, 600)
#: Finished jobs' results are kept for a day (for `rq info` and debugging), failed ones a week.
RESULT_TTL_S = 24 * 3600
FAILURE_TTL_S = 7 * 24 * 3600
#: The import path RQ stores for the job function (a string, so importing this module stays
#: cheap in the web process).
PROCESS_RUN = "workers.jobs.process_run"


#: Job ids are this prefix and the run id (the web tier's SQL builds them the same way).
JOB_ID_PREFIX = "run-"


def job_id(run_id: int) -> str:
    """The deterministic job id of a run: letters, digits and `-` only."""
    return f"{JOB_ID_PREFIX}{int(run_id)}"


def queue_name(kind: str, command: str | None) -> str:
    """Which queue a run goes to."""
    if kind == "command" and command in HIGH_PRIORITY_COMMANDS:
        return HIGH
    if kind == "config":  # one file read: the web tier's label filter waits for it
        return HIGH
    if kind == "ci":
        return LOW
    return DEFAULT


def queues(connection: Redis) -> list[Queue]:
    """The queues, highest priority first."""
    return [Queue(name, connection=connection, serializer=SERIALIZER) for name in QUEUES]


def job_options(queue: str, retry_intervals: tuple[int, ...] = RETRY_INTERVALS_S) -> dict[str, Any]:
    """The enqueue options every job of `queue` gets (limits, TTLs, retries)."""
    return {
        "timeout": HIGH_JOB_TIMEOUT_S if queue == HIGH else JOB_TIMEOUT_S,
        "result_ttl": RESULT_TTL_S,
        "failure_ttl": FAILURE_TTL_S,
        "retry": Retry(max=RETRY_MAX, interval=list(retry_intervals)),
    }


def describe(run_id: int, kind: str, command: str | None) -> str:
    """The job description `rq info` shows: the call and what triggered it."""
    return f"process_run({int(run_id)}) [{kind}{' ' + command if command else ''}]"


def enqueue_run(
    connection: Redis,
    run_id: int,
    kind: str,
    command: str | None = None,
    retry_intervals: tuple[int, ...] = RETRY_INTERVALS_S,
) -> str:
    """Enqueue `process_run(run_id)` with the defaults; returns the job id.

    Call this only after the transaction that created the run has committed: a worker may pick
    the job up before this function returns. The web tier enqueues through
    `workers.enqueue_script`, which writes the same record in one round trip.
    """
    name = queue_name(kind, command)
    Queue(name, connection=connection, serializer=SERIALIZER).enqueue_call(
        PROCESS_RUN,
        args=(int(run_id),),
        job_id=job_id(run_id),
        description=describe(run_id, kind, command),
        **job_options(name, retry_intervals),
    )
    return job_id(run_id)


def job_state(connection: Redis, run_id: int) -> str | None:
    """The RQ status of a run's job ("queued", "started", "failed", ...) or None if it is gone."""
    try:
        job = Job.fetch(job_id(run_id), connection=connection, serializer=SERIALIZER)
        status = job.get_status(refresh=False)
    except NoSuchJobError:
        return None
    return None if status is None else str(getattr(status, "value", status))


def reenqueue_run(connection: Redis, run_id: int, kind: str, command: str | None = None) -> str:
    """Enqueue a run again, dropping whatever is left of its old job (failed, finished, lost).

    Deleting first removes the old job id from RQ's registries, so a later registry cleanup
    cannot delete the fresh job that now carries the same id.
    """
    with contextlib.suppress(NoSuchJobError):
        Job.fetch(job_id(run_id), connection=connection, serializer=SERIALIZER).delete()
    return enqueue_run(connection, run_id, kind, command)
