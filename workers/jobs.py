"""Job functions. Module-level, they take ids only (never ORM objects or payloads), so a job can
be retried, resumed or re-enqueued by the sweeper from nothing but its run id.

`process_run` is the boundary between the ingress and the GitHub flow: it claims the run, keeps
its heartbeat, calls `app.flows.flow.execute_run`, and records the `Verdict` the flow returns.
It is the one place a run's verdict is recorded (through `app.runs.conclude`, conditional
on the run still running, so a run a `/fixwurx stop` ended stays stopped). Retryable errors
(`FixwurxError.retryable`) go back to RQ, which retries with backoff; anything else fails the run
with a reason a user can read.
"""

from __future__ import annotations

import logging

from rq import get_current_job
from rq.timeouts import JobTimeoutException

from app import runs
from app.config import Settings
from app.errors import FixwurxError
from app.observability import scrub_text
from app.ops import metrics
from app.runs import verdict
from app.runs.verdict import Verdict
from workers.heartbeat import Heartbeat

log = logging.getLogger(__name__)

#: Longest failure reason stored on a run (it is shown in comments).
MAX_REASON_CHARS = 2000

_settings: Settings | None = None


def configure(settings: Settings | None) -> None:
    """Fix the settings jobs use (the worker entry point does this once, before forking)."""
    global _settings
    _settings = settings


def current_settings() -> Settings:
    """The configured settings, or the environment's when none were configured."""
    return _settings if _settings is not None else Settings.from_env()


def process_run(run_id: int) -> str:
    """Claim run `run_id`, execute it, and record how it ended. Returns the final status."""
    settings = current_settings()
    url = settings.database_url
    if not runs.claim(url, run_id):
        status = runs.status_of(url, run_id)
        log.info("run %s is %s, not queued: nothing to do", run_id, status)
        return f"skipped ({status})"
    with Heartbeat(url, run_id):
        ended = _execute(settings, run_id)
    concluded = runs.conclude(url, run_id, ended)  # the verdict and the run after it: one session
    if not concluded.recorded:
        log.info("run %s was no longer running; verdict %s not recorded", run_id, ended.outcome)
    _observe(run_id, concluded)
    return concluded.status or "missing"


def _observe(run_id: int, run: runs.Concluded) -> None:
    try:
        metrics.observe_finished(run.kind, run.status, run.created_at, run.finished_at)
    except Exception:
        log.warning("could not count run %s in the metrics", run_id, exc_info=True)


def _execute(settings: Settings, run_id: int) -> Verdict:
    """Run the flow and return its verdict (failed, with the reason, when it raised).

    Re-raises what RQ must retry.
    """
    from app.flows import flow

    try:
        ended = flow.execute_run(settings, run_id)
    except FixwurxError as exc:
        if exc.retryable and _retries_left() > 0:
            runs.requeue(settings.database_url, run_id, _reason(settings, "retrying after", exc))
            raise
        return verdict.failed(_reason(settings, "failed", exc))
    except JobTimeoutException as exc:
        return verdict.failed(_reason(settings, "timed out", exc))
    except Exception as exc:
        log.exception("run %s crashed", run_id)
        return verdict.failed(_reason(settings, "crashed", exc))
    if not isinstance(ended, Verdict):
        # A flow that returns no verdict is a bug of ours; the run still ends, as done.
        log.warning("run %s: the flow returned %r, not a verdict", run_id, ended)
        return verdict.done()
    return ended


def _retries_left() -> int:
    job = get_current_job()
    return int(job.retries_left or 0) if job is not None else 0


def _reason(settings: Settings, what: str, exc: BaseException) -> str:
    text = f"{what}: {type(exc).__name__}: {exc}"
    return scrub_text(text, settings.secret_values())[:MAX_REASON_CHARS]
