"""kill -9 of a worker in the middle of a run (issue 16), after each stage in turn.

A real RQ worker forks a real work horse that runs the real fix flow against the fake GitHub;
a hook SIGKILLs the work horse right after a stage (like the OOM killer: no handler, no finally
block runs). Then the sweeper and the worker again. The run must either complete from where it
stopped (the chain's stages that were done are not run again; the clone is, since the work
copy died with the worker) with exactly one pull request, or, when the worker dies every time,
be failed after `MAX_RESUMES` resumes and never resumed more.

Before the run row had one owner, each recorded stage overwrote the sweeper's resume counter, so
the always-dying run was resumed on every sweep, and a resumed run started over from scratch.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import Queue, Worker
from sqlalchemy import select

from app import runs
from app.chain import lineage, planner
from app.chain.state import STAGES
from app.config import Settings
from app.db import session_scope
from app.flows import records
from app.github import git
from app.models import Run
from tests.fakes.github import FakeGitHub
from tests.fakes.github.deliver import labeled, send
from tests.fakes.github.fixtures import fake_github
from tests.functional.test_github_flow import FIXED, SECRET, make_repo, settings, web
from workers import queues, sweeper

__all__ = ["fake_github", "settings", "web"]

pytestmark = pytest.mark.slow

#: Where the work horse dies: after the clone, after each stage of the chain, after the PR.
KILL_POINTS = ("clone", *STAGES, "publish")
#: More rounds of work-then-sweep than any run may need; a run resumed forever runs out of them.
ROUNDS = runs.MAX_RESUMES + 3


class Chaos:
    """Hooks, inherited by the forked work horse, that log what ran and kill it on cue.

    State that must survive the kill lives in files: the horse is a fork and dies with its
    memory.
    """

    def __init__(self, tmp: Path, kill_at: str | None, always: bool = False) -> None:
        self.log = tmp / "ran.log"
        self.killed = tmp / "killed.log"
        self.kill_at, self.always = kill_at, always

    def ran(self) -> list[str]:
        return self.log.read_text().split() if self.log.exists() else []

    def kills(self) -> int:
        return len(self.killed.read_text().split()) if self.killed.exists() else 0

    def note(self, what: str) -> None:
        with self.log.open("a") as out:
            out.write(what + "\n")

    def after(self, point: str) -> None:
        """Called once `point` is over (and, for a chain stage, persisted)."""
        if not (self.always or (point == self.kill_at and self.kills() == 0)):
            return
        with self.killed.open("a") as out:
            out.write(point + "\n")
        os.kill(os.getpid(), signal.SIGKILL)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for stage in STAGES:
            monkeypatch.setitem(
                planner.STAGE_FUNCTIONS, stage, self._logged(stage, planner.STAGE_FUNCTIONS[stage])
            )
        stage_done = lineage.RunRecorder.stage_done

        def recorded(recorder: lineage.RunRecorder, state: Any) -> Any:
            result = stage_done(recorder, state)
            if state.done:
                self.after(state.done[-1])
            return result

        monkeypatch.setattr(lineage.RunRecorder, "stage_done", recorded)
        monkeypatch.setattr(git, "clone", self._then(git.clone, "clone"))
        monkeypatch.setattr(records, "record_pull", self._then(records.record_pull, "publish"))

    def _logged(self, stage: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def logged(*args: Any) -> Any:
            self.note(stage)
            return function(*args)

        return logged

    def _then(self, function: Callable[..., Any], point: str) -> Callable[..., Any]:
        def then(*args: Any, **kwargs: Any) -> Any:
            if point == "clone":
                self.note("clone")
            result = function(*args, **kwargs)
            if not self.always:  # dying after every clone would never reach a stage
                self.after(point)
            return result

        return then


def work(redis_conn: Redis) -> None:
    """A real forking RQ worker in burst mode: each job runs in its own work horse process."""
    Worker(
        [Queue(n, connection=redis_conn, serializer=queues.SERIALIZER) for n in queues.QUEUES],
        connection=redis_conn,
        serializer=queues.SERIALIZER,
    ).work(burst=True)


def the_run(settings: Settings) -> Run:
    with session_scope(settings.database_url) as session:
        (run,) = session.scalars(select(Run).where(Run.kind == "issue")).all()
        session.expunge(run)
        return run


def work_and_sweep(settings: Settings, redis_conn: Redis) -> tuple[list[int], list[int]]:
    """Work until the queues are empty, sweeping after each round; (resumed, failed) ids."""
    resumed: list[int] = []
    failed: list[int] = []
    for _ in range(ROUNDS):
        work(redis_conn)
        report = sweeper.sweep(settings, redis_conn)
        resumed += report.resumed
        failed += report.failed
        if not report.resumed:
            break
    return resumed, failed


def start_fix(fake: FakeGitHub, web: Any) -> int:
    repo = make_repo(fake)
    number = fake.add_issue(
        "octo/ages", "18-year-olds are not adults", "is_adult(18) is False", labels=("fixwurx",)
    )
    status, _ = send(web, "issues", labeled(fake, repo, number), SECRET)
    assert status == 202
    return number


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_worker_killed_after_a_stage_is_resumed_from_there_and_opens_one_pull_request(
    point: str,
    fake_github: FakeGitHub,
    settings: Settings,
    web: Any,
    redis_conn: Redis,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chaos = Chaos(tmp_path, kill_at=point)
    chaos.install(monkeypatch)
    number = start_fix(fake_github, web)

    resumed, failed = work_and_sweep(settings, redis_conn)

    run = the_run(settings)
    assert chaos.kills() == 1, chaos.ran()
    assert (resumed, failed) == ([run.id], []), (run.status, run.reason)
    # Every chain stage ran exactly once across both work horses; only the clone is redone.
    ran = chaos.ran()
    assert [s for s in ran if s != "clone"] == list(STAGES), ran
    assert ran.count("clone") == 2, ran
    assert run.status == "fixed", run.reason
    assert run.resumes == 1
    pulls = fake_github.open_pulls("octo/ages")
    assert len(pulls) == 1, pulls
    assert fake_github.count("POST", r"/repos/octo/ages/pulls") == 1
    assert fake_github.show("octo/ages", f"fixwurx/issue-{number}", "ages.py") == FIXED


def test_a_worker_that_dies_every_time_is_failed_after_max_resumes_and_never_resumed_again(
    fake_github: FakeGitHub,
    settings: Settings,
    web: Any,
    redis_conn: Redis,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chaos = Chaos(tmp_path, kill_at=None, always=True)
    chaos.install(monkeypatch)
    start_fix(fake_github, web)

    resumed, failed = work_and_sweep(settings, redis_conn)

    run = the_run(settings)
    assert resumed == [run.id] * runs.MAX_RESUMES, (resumed, run.status, run.reason)
    assert failed == [run.id]
    assert run.status == "failed" and "giving up" in (run.reason or "")
    assert run.resumes == runs.MAX_RESUMES
    assert chaos.kills() == runs.MAX_RESUMES + 1
    # Each work horse got one stage further before it died: nothing was run twice.
    ran = [s for s in chaos.ran() if s != "clone"]
    assert ran == list(STAGES[: runs.MAX_RESUMES + 1]), chaos.ran()
    assert fake_github.open_pulls("octo/ages") == []
    # A failed run stays failed: more sweeps and workers change nothing.
    assert sweeper.sweep(settings, redis_conn) == runs.SweepReport()
    work(redis_conn)
    assert the_run(settings).status == "failed"
