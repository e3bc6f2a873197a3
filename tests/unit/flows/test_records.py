"""The flow's database questions, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from app import runs
from app.db import session_scope
from app.flows import records
from app.models import Installation, Repository, Run, utcnow


def setup_repo(url: str) -> None:
    with session_scope(url) as session:
        session.add(Installation(id=1, account_login="octo"))
        session.flush()
        session.add(Repository(id=10, installation_id=1, full_name="octo/app"))


def add_run(url: str, **fields: object) -> records.RunView:
    with session_scope(url) as session:
        run = Run(repository_id=10, trigger="t", **fields)
        session.add(run)
        session.flush()
        run_id = run.id
    return records.load_run(url, run_id)


def test_attempts_and_cooldown_count_only_tried_repairs(database_url: str) -> None:
    setup_repo(database_url)
    finished = utcnow() - dt.timedelta(minutes=3)
    add_run(database_url, kind="issue", issue_number=1, status="not_fixed", finished_at=finished)
    add_run(database_url, kind="command", command="retry", issue_number=1, status="failed")
    add_run(database_url, kind="command", command="help", issue_number=1, status="done")
    add_run(database_url, kind="issue", issue_number=1, status="done")  # refused by a guard
    later = utcnow()  # another issue's repair must not count here
    add_run(database_url, kind="issue", issue_number=2, status="fixed", finished_at=later)
    current = add_run(database_url, kind="issue", issue_number=1, status="running")
    assert records.tried_count(database_url, current) == 2
    last = records.last_tried_at(database_url, current)
    assert last is not None and abs((last - finished).total_seconds()) < 1


def test_ci_attempts_are_per_commit(database_url: str) -> None:
    setup_repo(database_url)
    add_run(database_url, kind="ci", head_sha="a" * 40, status="not_fixed")
    add_run(database_url, kind="ci", head_sha="b" * 40, status="fixed")
    current = add_run(database_url, kind="ci", head_sha="a" * 40, status="running")
    assert records.ci_attempts(database_url, current) == 1


def test_stop_marks_queued_and_running_repairs_of_the_issue(database_url: str) -> None:
    setup_repo(database_url)
    running = add_run(database_url, kind="issue", issue_number=1, status="running")
    queued = add_run(database_url, kind="command", command="fix", issue_number=1, status="queued")
    other = add_run(database_url, kind="issue", issue_number=2, status="running")
    stop = add_run(database_url, kind="command", command="stop", issue_number=1, status="running")
    assert records.stop_runs(database_url, stop, "alice") == [running.id, queued.id]
    assert runs.status_of(database_url, running.id) == "stopped"
    assert runs.status_of(database_url, other.id) == "running"


def test_pulls_and_bundles_are_recorded_once(database_url: str) -> None:
    setup_repo(database_url)
    run = add_run(database_url, kind="issue", issue_number=1, status="running")
    for _ in range(2):
        records.record_pull(database_url, run, 5, "fixwurx/issue-1", "main", "sha256:x", "fix")
        records.save_bundle(database_url, run.id, {"hash": "sha256:x", "summary": "s"})
    assert records.open_pull_for_branch(database_url, 10, "fixwurx/issue-1") == 5
    assert records.latest_bundle(database_url, run) == {"hash": "sha256:x", "summary": "s"}
    assert records.mark_merged(database_url, 10, 5, "c" * 40)
    assert records.merged_fix_for_issue(database_url, 10, 1) == (5, "c" * 40)
    assert records.open_pull_for_branch(database_url, 10, "fixwurx/issue-1") is None
