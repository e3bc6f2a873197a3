"""What an operator can do from the dashboard: stop, retry, re-read CI, redeliver.

Each action is a POST (the guard in views.py has checked the sign-in, DASHBOARD_USERS and the
CSRF token before it runs), changes state only through conditional updates or new queued runs,
and leaves one audit row naming the operator, so "who stopped run 23?" has an answer.
A new run is enqueued through the web app's enqueue hook (`fixwurx.enqueue`, set by
webhooks.create_app, since `app` never imports `workers`); without one, the sweeper enqueues
it within a minute (a queued run with no job).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import current_app, flash, redirect, session, url_for

from app import runs
from app.config import settings_of
from app.dashboard import auth
from app.dashboard.views import blueprint
from app.db import session_scope
from app.models import CLI_KIND, AuditLog, CiWatch, Run

log = logging.getLogger(__name__)

#: The Flask extension key of the callable (run_id, kind, command) that enqueues a run.
ENQUEUE_KEY = "fixwurx.enqueue"
#: Statuses a run can be retried from.
RETRYABLE = ("failed", "not_fixed", "stopped")
#: The trigger of the `ci_result` run a "re-read CI" starts: the same as a maintainer's re-run
#: of the FixWurx check (app/flows/ci/flow.py RERUN_TRIGGER), which reopens the watch.
CI_REREAD_TRIGGER = "check_run.rerequested"


def _who() -> str:
    return str(session.get(auth.LOGIN_KEY, ""))


def _audit(action: str, run: Run | None, **detail: Any) -> None:
    with session_scope(settings_of(current_app).database_url) as db:
        db.add(
            AuditLog(
                actor=f"dashboard:{_who()}",
                action=f"dashboard.{action}",
                run_id=run.id if run else None,
                repository_id=run.repository_id if run else None,
                detail=detail,
            )
        )


def _load(run_id: int) -> Run | None:
    with session_scope(settings_of(current_app).database_url) as db:
        run = db.get(Run, run_id)
        if run is not None:
            db.expunge(run)
        return run


def _back(run_id: int, message: str, category: str = "ok") -> Any:
    flash(message, category)
    return redirect(url_for("dashboard.run", run_id=run_id))


@blueprint.post("/runs/<int:run_id>/stop")
def stop_run(run_id: int) -> Any:
    run = _load(run_id)
    if run is None:
        return _back(run_id, f"run {run_id} does not exist", "error")
    if run.kind == CLI_KIND:
        return _back(run_id, "a fixwurx fix run is stopped in its terminal (Ctrl-C)", "error")
    reason = f"stopped from the dashboard by {_who()}"
    stopped = runs.stop(settings_of(current_app).database_url, [run_id], reason)
    if not stopped:
        return _back(run_id, f"run {run_id} is {run.status}: nothing to stop", "error")
    _audit("stop", run)
    return _back(run_id, f"run {run_id} stopped")


@blueprint.post("/runs/<int:run_id>/retry")
def retry_run(run_id: int) -> Any:
    run = _load(run_id)
    if run is None:
        return _back(run_id, f"run {run_id} does not exist", "error")
    if run.kind == CLI_KIND:
        return _back(run_id, "a fixwurx fix run is retried by running it again", "error")
    if run.status not in RETRYABLE:
        return _back(run_id, f"run {run_id} is {run.status}; only ended runs are retried", "error")
    new_id = _new_run(run, trigger="dashboard.retry")
    _audit("retry", run, new_run=new_id)
    flash(f"run {new_id} retries run {run_id}", "ok")
    return redirect(url_for("dashboard.run", run_id=new_id))


@blueprint.post("/runs/<int:run_id>/ci")
def reread_ci(run_id: int) -> Any:
    run = _load(run_id)
    if run is None:
        return _back(run_id, f"run {run_id} does not exist", "error")
    watch = _latest_watch(run)
    if watch is None:
        return _back(run_id, f"run {run_id} pushed no fix commit to read CI for", "error")
    ci_run = Run(
        repository_id=watch.repository_id,
        kind="ci_result",
        trigger=CI_REREAD_TRIGGER,
        pr_number=watch.pr_number,
        head_sha=watch.head_sha,
        branch=watch.branch,
        requested_by=_who(),
    )
    new_id = _insert(ci_run)
    _audit("ci_reread", run, new_run=new_id, head_sha=watch.head_sha)
    flash(f"run {new_id} reads the CI of {watch.head_sha[:12]} again", "ok")
    return redirect(url_for("dashboard.run", run_id=new_id))


def _latest_watch(run: Run) -> CiWatch | None:
    with session_scope(settings_of(current_app).database_url) as db:
        query = db.query(CiWatch)
        if run.kind == "ci_result" and run.head_sha:
            query = query.filter(
                CiWatch.repository_id == run.repository_id, CiWatch.head_sha == run.head_sha
            )
        else:
            query = query.filter(CiWatch.run_id == run.id)
        watch = query.order_by(CiWatch.id.desc()).first()
        if watch is not None:
            db.expunge(watch)
        return watch


def _new_run(run: Run, trigger: str) -> int:
    copy = Run(
        repository_id=run.repository_id,
        kind=run.kind,
        trigger=trigger,
        issue_number=run.issue_number,
        pr_number=run.pr_number,
        command=run.command,
        command_args=run.command_args,
        head_sha=run.head_sha,
        branch=run.branch,
        requested_by=_who(),
    )
    return _insert(copy)


def _insert(run: Run) -> int:
    """Commit the queued run, then enqueue it (after the commit, like every job)."""
    run.status = "queued"
    with session_scope(settings_of(current_app).database_url) as db:
        db.add(run)
        db.flush()
        run_id, kind, command = run.id, run.kind, run.command
    enqueue: Callable[[int, str, str | None], Any] | None = current_app.extensions.get(ENQUEUE_KEY)
    if enqueue is None:
        return run_id
    try:
        enqueue(run_id, kind, command)
    except Exception as exc:  # Redis down: the sweeper enqueues the queued run later
        log.warning("dashboard: could not enqueue run %s (%s); the sweeper will", run_id, exc)
    return run_id


@blueprint.post("/deliveries/<guid>/redeliver")
def redeliver(guid: str) -> Any:
    """Ask GitHub to send delivery `guid` again (its log keeps three days of deliveries)."""
    from app.errors import FixwurxError
    from app.github.auth import load_private_key
    from app.ops import recovery

    settings = settings_of(current_app)
    back = redirect(url_for("dashboard.deliveries"))
    try:
        log_ = recovery.DeliveryLog(
            settings.github_api_url, settings.app_id, load_private_key(settings)
        )
        attempt = _attempt_of(log_, guid)
        if attempt is None:
            flash(f"GitHub's log (three days) has no delivery {guid}", "error")
            return back
        log_.redeliver(attempt)
    except FixwurxError as exc:
        flash(f"redelivery of {guid} failed: {exc}", "error")
        return back
    _audit("redeliver", None, delivery=guid, attempt=attempt)
    flash(f"GitHub will send delivery {guid} again", "ok")
    return back


def _attempt_of(delivery_log: Any, guid: str) -> int | None:
    import datetime as dt

    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    for page in delivery_log.pages(since):
        for attempt in page:
            if attempt.guid == guid:
                return int(attempt.id)
    return None
