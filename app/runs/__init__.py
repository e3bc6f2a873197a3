"""The run row's one owner: deliveries, installations, the lifecycle and the sweeper.

Nothing outside this package writes a run's status, heartbeat, resume count or bookkeeping;
callers ask for a transition and are told whether it happened.
"""

from app.runs.deliveries import (
    DELIVERIES,
    RUNS,
    RecordedDelivery,
    RunRequest,
    delivery_job_ids,
    delivery_job_ids_fast,
    mark_key,
    record_delivery,
    record_one_fast,
)
from app.runs.installations import InstallationChange, RepositoryInfo, record_installation
from app.runs.lifecycle import (
    ENQUEUE_GRACE_S,
    FINAL_STATUSES,
    HEARTBEAT_INTERVAL_S,
    LIVE_JOB_STATES,
    STALE_AFTER_S,
    claim,
    finish,
    heartbeat,
    requeue,
    status_of,
)
from app.runs.sweep import MAX_RESUMES, RESUMES_KEY, Enqueue, JobState, SweepReport, sweep

__all__ = [
    "DELIVERIES",
    "ENQUEUE_GRACE_S",
    "FINAL_STATUSES",
    "HEARTBEAT_INTERVAL_S",
    "LIVE_JOB_STATES",
    "MAX_RESUMES",
    "RESUMES_KEY",
    "RUNS",
    "STALE_AFTER_S",
    "Enqueue",
    "InstallationChange",
    "JobState",
    "RecordedDelivery",
    "RepositoryInfo",
    "RunRequest",
    "SweepReport",
    "claim",
    "delivery_job_ids",
    "delivery_job_ids_fast",
    "finish",
    "heartbeat",
    "mark_key",
    "record_delivery",
    "record_installation",
    "record_one_fast",
    "requeue",
    "status_of",
    "sweep",
]
