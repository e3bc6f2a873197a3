"""The run row's one owner: deliveries, installations, the lifecycle and the sweeper.

Nothing outside this package writes a run's status, heartbeat, resume count or bookkeeping;
callers ask for a transition and are told whether it happened. Flows describe how a run ended
with a `Verdict` (app.runs.verdict); only the job function records it.
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
    STOPPABLE_STATUSES,
    Concluded,
    claim,
    conclude,
    finish,
    heartbeat,
    record_verdict,
    requeue,
    resumes_of,
    save_state,
    save_state_in,
    saved_state,
    set_stage,
    set_stage_in,
    status_of,
    stop,
)
from app.runs.sweep import MAX_RESUMES, Enqueue, JobState, SweepReport, sweep
from app.runs.verdict import Refused, Verdict

__all__ = [
    "DELIVERIES",
    "ENQUEUE_GRACE_S",
    "FINAL_STATUSES",
    "HEARTBEAT_INTERVAL_S",
    "LIVE_JOB_STATES",
    "MAX_RESUMES",
    "RUNS",
    "STALE_AFTER_S",
    "STOPPABLE_STATUSES",
    "Concluded",
    "Enqueue",
    "InstallationChange",
    "JobState",
    "RecordedDelivery",
    "Refused",
    "RepositoryInfo",
    "RunRequest",
    "SweepReport",
    "Verdict",
    "claim",
    "conclude",
    "delivery_job_ids",
    "delivery_job_ids_fast",
    "finish",
    "heartbeat",
    "mark_key",
    "record_delivery",
    "record_installation",
    "record_one_fast",
    "record_verdict",
    "requeue",
    "resumes_of",
    "save_state",
    "save_state_in",
    "saved_state",
    "set_stage",
    "set_stage_in",
    "status_of",
    "stop",
    "sweep",
]
