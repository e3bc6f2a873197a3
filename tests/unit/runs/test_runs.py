"""Run lifecycle on SQLite and PostgreSQL: record, claim, heartbeat, finish, sweep."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from app import runs
from app.db import session_scope
from app.models import AuditLog, Delivery, Installation, Repository, Run

REQUEST = runs.RunRequest(
    kind="issue",
    trigger="issues.labeled",
    repository_id=1296269,
    repository_full_name="octocat/Hello-World",
    installation_id=77,
    account_login="octocat",
    issue_number=5,
    requested_by="octocat",
)


def job_id(run_id: int) -> str:
    return f"run-{run_id}"


def record(url: str, delivery: str = "d-1", *requests: runs.RunRequest) -> runs.RecordedDelivery:
    with session_scope(url) as session:
        return runs.record_delivery(
            session, delivery, "issues", "labeled", list(requests or [REQUEST]), job_id
        )


def test_record_creates_run_delivery_and_unknown_repository(database_url: str) -> None:
    recorded = record(database_url)
    assert len(recorded.run_ids) == 1 and not recorded.duplicate
    with session_scope(database_url) as session:
        run = session.get(Run, recorded.run_ids[0])
        assert run is not None
        assert (run.kind, run.issue_number, run.status, run.delivery_id) == (
            "issue",
            5,
            "queued",
            "d-1",
        )
        delivery = session.scalar(select(Delivery).where(Delivery.delivery_id == "d-1"))
        assert delivery is not None and delivery.job_ids == [job_id(run.id)]
        repo = session.get(Repository, REQUEST.repository_id)
        assert repo is not None and repo.installation_id == 77 and repo.active


def test_redelivery_is_a_duplicate_and_adds_no_run(database_url: str) -> None:
    first = record(database_url)
    again = record(database_url)
    assert again.duplicate and again.run_ids == []
    with session_scope(database_url) as session:
        assert session.scalar(select(Run.id).where(Run.id != first.run_ids[0])) is None
        assert runs.delivery_job_ids(session, "d-1") == [job_id(first.run_ids[0])]


def test_removed_repository_and_suspended_installation_are_ignored(database_url: str) -> None:
    repo = runs.RepositoryInfo(REQUEST.repository_id, REQUEST.repository_full_name)
    change = runs.InstallationChange(77, "octocat", action="created", added=(repo,))
    with session_scope(database_url) as session:
        runs.record_installation(session, change)
    assert record(database_url, "d-1").run_ids
    with session_scope(database_url) as session:
        runs.record_installation(
            session, runs.InstallationChange(77, "octocat", action="removed", removed=(repo,))
        )
    assert record(database_url, "d-2").ignored_reason == "repository not installed"
    with session_scope(database_url) as session:
        runs.record_installation(
            session, runs.InstallationChange(77, "octocat", action="added", added=(repo,))
        )
        runs.record_installation(session, runs.InstallationChange(77, "octocat", action="suspend"))
    assert record(database_url, "d-3").ignored_reason
    with session_scope(database_url) as session:
        runs.record_installation(session, runs.InstallationChange(77, "x", action="unsuspend"))
    assert record(database_url, "d-4").run_ids


def test_uninstall_deactivates_every_repository(database_url: str) -> None:
    repo = runs.RepositoryInfo(REQUEST.repository_id, REQUEST.repository_full_name)
    with session_scope(database_url) as session:
        runs.record_installation(session, runs.InstallationChange(77, "o", added=(repo,)))
    with session_scope(database_url) as session:
        runs.record_installation(session, runs.InstallationChange(77, "o", action="deleted"))
    with session_scope(database_url) as session:
        installation = session.get(Installation, 77)
        assert installation is not None and installation.deleted_at is not None
        assert session.scalar(select(Repository.active)) is False


def test_claim_is_exclusive_and_finish_is_final(database_url: str) -> None:
    (run_id,) = record(database_url).run_ids
    assert runs.claim(database_url, run_id)
    assert not runs.claim(database_url, run_id)
    assert runs.heartbeat(database_url, run_id)
    assert runs.finish(database_url, run_id, "fixed", "PR opened")
    assert not runs.finish(database_url, run_id, "failed", "late")
    assert not runs.heartbeat(database_url, run_id)
    assert runs.status_of(database_url, run_id) == "fixed"
    with pytest.raises(ValueError, match="running"):
        runs.finish(database_url, run_id, "running")


def test_requeue_lets_a_retry_claim_again(database_url: str) -> None:
    (run_id,) = record(database_url).run_ids
    runs.claim(database_url, run_id)
    assert runs.requeue(database_url, run_id, "retrying after: GitHub 502")
    assert runs.claim(database_url, run_id)


class FakeQueue:
    """Job states by run id, and a log of enqueues: the two things the sweeper asks of RQ."""

    def __init__(self, states: dict[int, str] | None = None, fail: bool = False) -> None:
        self.states = states or {}
        self.enqueued: list[int] = []
        self.fail = fail

    def job_state(self, run_id: int) -> str | None:
        return self.states.get(run_id)

    def enqueue(self, run: Run) -> None:
        if self.fail:
            raise ConnectionError("redis is down")
        self.enqueued.append(run.id)
        self.states[run.id] = "queued"


def age(url: str, run_id: int, seconds: float) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)
    with session_scope(url) as session:
        session.execute(
            update(Run).where(Run.id == run_id).values(heartbeat_at=past, created_at=past)
        )


def test_sweeper_resumes_a_run_whose_worker_died_then_gives_up(database_url: str) -> None:
    (run_id,) = record(database_url).run_ids
    queue = FakeQueue()
    for attempt in range(runs.MAX_RESUMES):
        runs.claim(database_url, run_id)
        queue.states[run_id] = "failed"  # RQ saw the work horse die
        report = runs.sweep(database_url, queue.job_state, queue.enqueue)
        assert report.resumed == [run_id], attempt
        assert runs.status_of(database_url, run_id) == "queued"
    runs.claim(database_url, run_id)
    queue.states[run_id] = "failed"
    report = runs.sweep(database_url, queue.job_state, queue.enqueue)
    assert report.failed == [run_id]
    with session_scope(database_url) as session:
        run = session.get(Run, run_id)
        assert run is not None and run.status == "failed"
        assert f"stopped {runs.MAX_RESUMES + 1} times" in (run.reason or "")
        assert run.finished_at is not None


def test_sweeper_leaves_a_live_run_alone_and_catches_a_stale_heartbeat(database_url: str) -> None:
    (run_id,) = record(database_url).run_ids
    runs.claim(database_url, run_id)
    queue = FakeQueue({run_id: "started"})
    assert runs.sweep(database_url, queue.job_state, queue.enqueue) == runs.SweepReport()
    age(database_url, run_id, runs.STALE_AFTER_S + 1)
    assert runs.sweep(database_url, queue.job_state, queue.enqueue).resumed == [run_id]


def test_sweeper_enqueues_runs_committed_while_redis_was_down(database_url: str) -> None:
    (run_id,) = record(database_url).run_ids
    down = FakeQueue(fail=True)
    age(database_url, run_id, runs.ENQUEUE_GRACE_S + 1)
    assert runs.sweep(database_url, down.job_state, down.enqueue).enqueued == []
    assert runs.status_of(database_url, run_id) == "queued"
    up = FakeQueue()
    assert runs.sweep(database_url, up.job_state, up.enqueue).enqueued == [run_id]
    assert runs.sweep(database_url, up.job_state, up.enqueue).enqueued == []


def test_sweeper_waits_out_the_grace_period_for_fresh_runs(database_url: str) -> None:
    record(database_url)
    queue = FakeQueue()
    assert runs.sweep(database_url, queue.job_state, queue.enqueue).enqueued == []


def test_a_stop_cannot_be_undone(database_url: str) -> None:
    """Nothing moves a stopped run: not a claim, a heartbeat, the chain's state, a verdict, a
    retry, the recorder opening an attempt, or the sweeper."""
    from app.chain.lineage import RunRecorder
    from app.chain.state import RunState
    from app.runs import verdict

    (run_id,) = record(database_url).run_ids
    assert runs.claim(database_url, run_id)
    assert runs.stop(database_url, [run_id, run_id], "stopped by @octocat") == [run_id]
    recorder = RunRecorder(database_url, run_id)
    recorder.start_attempt()
    state = RunState(source="/repo", done=["reproduce"])
    assert not recorder.stage_done(state)
    assert not runs.claim(database_url, run_id)
    assert not runs.heartbeat(database_url, run_id)
    assert not runs.set_stage(database_url, run_id, "patch")
    assert not runs.save_state(database_url, run_id, "patch", state.to_json())
    assert not runs.record_verdict(database_url, run_id, verdict.fixed("PR #1"))
    assert not runs.requeue(database_url, run_id, "retrying")
    queue = FakeQueue({run_id: "failed"})
    assert runs.sweep(database_url, queue.job_state, queue.enqueue) == runs.SweepReport()
    assert runs.stop(database_url, [run_id], "again") == []
    with session_scope(database_url) as session:
        run = session.get_one(Run, run_id)
        assert (run.status, run.reason, run.stage, run.state) == (
            "stopped",
            "stopped by @octocat",
            None,
            {},
        )


def test_a_stop_leaves_a_finished_run_its_verdict(database_url: str) -> None:
    (run_id,) = record(database_url).run_ids
    runs.claim(database_url, run_id)
    runs.finish(database_url, run_id, "fixed", "PR #3")
    assert runs.stop(database_url, [run_id], "stopped by @octocat") == []
    assert runs.status_of(database_url, run_id) == "fixed"


def test_the_chain_state_and_the_resume_count_do_not_overwrite_each_other(
    database_url: str,
) -> None:
    """The bug of issue 12: each recorded stage used to wipe the sweeper's counter."""
    (run_id,) = record(database_url).run_ids
    queue = FakeQueue()
    for resumed in range(1, runs.MAX_RESUMES + 1):
        assert runs.claim(database_url, run_id)
        assert runs.save_state(database_url, run_id, "reproduce", {"done": ["reproduce"]})
        queue.states[run_id] = "failed"
        assert runs.sweep(database_url, queue.job_state, queue.enqueue).resumed == [run_id]
        assert runs.resumes_of(database_url, run_id) == resumed
        assert runs.saved_state(database_url, run_id) == {"done": ["reproduce"]}
    assert runs.claim(database_url, run_id)
    assert runs.save_state(database_url, run_id, "localize", {"done": ["reproduce", "localize"]})
    queue.states[run_id] = "failed"
    assert runs.sweep(database_url, queue.job_state, queue.enqueue).failed == [run_id]
    assert runs.resumes_of(database_url, run_id) == runs.MAX_RESUMES
    assert runs.sweep(database_url, queue.job_state, queue.enqueue) == runs.SweepReport()


def test_verdicts_are_stored_as_run_statuses(database_url: str) -> None:
    from app.runs import verdict

    cases = [
        (verdict.fixed("PR #1"), "fixed"),
        (verdict.not_fixed("no plausible patch"), "not_fixed"),
        (verdict.failed("no tests"), "failed"),
        (verdict.refused("the issue is closed", tell_user=True), "done"),
        (verdict.done("help sent"), "done"),
    ]
    for number, (ended, status) in enumerate(cases):
        (run_id,) = record(database_url, f"d-{number}").run_ids
        runs.claim(database_url, run_id)
        assert runs.record_verdict(database_url, run_id, ended)
        with session_scope(database_url) as session:
            run = session.get_one(Run, run_id)
            assert (run.status, run.reason) == (status, ended.reason)
    assert verdict.refused("x", tell_user=True).tell_user
    assert isinstance(verdict.refused("x"), runs.Refused)


def sweeper_audit(url: str) -> list[tuple[str, int | None]]:
    with session_scope(url) as session:
        rows = session.execute(
            select(AuditLog.action, AuditLog.run_id)
            .where(AuditLog.actor == "sweeper")
            .order_by(AuditLog.id)
        )
        return [(str(action), run_id) for action, run_id in rows]


def test_each_sweeper_action_is_an_audit_row(database_url: str) -> None:
    # The rows outlive the process, unlike its Prometheus counters; the dashboard counts them.
    (lost,) = record(database_url, "d-lost").run_ids
    (dead,) = record(database_url, "d-dead").run_ids
    runs.claim(database_url, dead)
    age(database_url, lost, runs.ENQUEUE_GRACE_S + 1)
    queue = FakeQueue({dead: "failed"})
    assert runs.sweep(database_url, queue.job_state, queue.enqueue) == runs.SweepReport(
        resumed=[dead], enqueued=[lost]
    )
    assert sweeper_audit(database_url) == [("sweeper.resumed", dead), ("sweeper.enqueued", lost)]
    queue.states.update({dead: "started", lost: "started"})
    runs.sweep(database_url, queue.job_state, queue.enqueue)  # nothing to do: no new rows
    assert len(sweeper_audit(database_url)) == 2
