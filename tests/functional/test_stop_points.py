"""`/fixwurx stop` at each point of a real fix job leaves the run stopped and opens no PR.

The real flow runs against the fake GitHub (real git, the real chain in the sandbox, a real RQ
worker); at the chosen point a hook delivers a signed `/fixwurx stop` comment to the web app
and carries out the resulting command run right there, as a second worker would while the fix
job is busy. Before the one-owner change, a stop that landed before the clone was undone by the
recorder (it set the run back to `running`) and one that landed before the push was never
looked at, and both ended in a pull request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from sqlalchemy import select

from app.chain import planner
from app.config import Settings
from app.db import session_scope
from app.flows import fixing
from app.github import git
from app.models import Run
from tests.fakes.github import FakeGitHub
from tests.fakes.github.deliver import command, labeled, send
from tests.fakes.github.fixtures import fake_github
from tests.functional.test_github_flow import SECRET, make_repo, settings, web
from workers import jobs, queues

__all__ = ["fake_github", "settings", "web"]

pytestmark = pytest.mark.slow

#: Where the stop lands, and what to wrap so it lands there.
POINTS = ("before_clone", "during_reproduce", "during_search", "before_push")


def work_fix_queue(redis_conn: Redis) -> None:
    """The fix job, in a real RQ worker (in this process, so the hook sees the test's objects)."""
    SimpleWorker(
        [Queue(queues.DEFAULT, connection=redis_conn, serializer=queues.SERIALIZER)],
        connection=redis_conn,
        serializer=queues.SERIALIZER,
    ).work(burst=True)


def runs_of_kind(settings: Settings, kind: str) -> list[Run]:
    with session_scope(settings.database_url) as session:
        found = list(session.scalars(select(Run).where(Run.kind == kind).order_by(Run.id)))
        session.expunge_all()
        return found


class StopOnce:
    """Delivers `/fixwurx stop` from alice the first time it is called, and runs that command."""

    def __init__(self, fake: FakeGitHub, web: Any, settings: Settings, number: int) -> None:
        self.fake, self.web, self.settings, self.number = fake, web, settings, number
        self.stopped_at: str | None = None

    def __call__(self, where: str) -> None:
        if self.stopped_at is not None:
            return
        self.stopped_at = where
        repo = self.fake.repos["octo/ages"]
        payload = command(self.fake, repo, self.number, "/fixwurx stop", sender="alice")
        status, _ = send(self.web, "issue_comment", payload, SECRET)
        assert status == 202
        (stop_run,) = runs_of_kind(self.settings, "command")
        assert jobs.process_run(stop_run.id) == "done"


def wrap(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, before: Callable[[], None]
) -> None:
    """Replace `owner.name` by a function that calls `before()` and then the original."""
    original = owner[name] if isinstance(owner, dict) else getattr(owner, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        before()
        return original(*args, **kwargs)

    if isinstance(owner, dict):
        monkeypatch.setitem(owner, name, wrapped)
    else:
        monkeypatch.setattr(owner, name, wrapped)


@pytest.mark.parametrize("point", POINTS)
def test_a_stop_at_each_point_of_a_fix_job_leaves_it_stopped_without_a_pull_request(
    point: str,
    fake_github: FakeGitHub,
    settings: Settings,
    web: Any,
    redis_conn: Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo = make_repo(fake_github)
    number = fake_github.add_issue(
        "octo/ages", "18-year-olds are not adults", "is_adult(18) is False", labels=("fixwurx",)
    )
    stop = StopOnce(fake_github, web, settings, number)
    if point == "before_clone":
        wrap(monkeypatch, git, "clone", lambda: stop(point))
    elif point == "during_reproduce":
        wrap(monkeypatch, planner.STAGE_FUNCTIONS, "reproduce", lambda: stop(point))
    elif point == "during_search":
        wrap(monkeypatch, planner.STAGE_FUNCTIONS, "patch", lambda: stop(point))
    else:  # the bundle is committed and stored; the next step is the push
        wrap(monkeypatch, fixing.records, "save_bundle", lambda: stop(point))

    status, _ = send(web, "issues", labeled(fake_github, repo, number), SECRET)
    assert status == 202
    work_fix_queue(redis_conn)

    assert stop.stopped_at == point, "the hook never ran: the job did not reach the point"
    (fix_run,) = runs_of_kind(settings, "issue")
    assert fix_run.status == "stopped", (fix_run.status, fix_run.reason)
    assert fix_run.reason == "stopped by @alice"
    assert fake_github.open_pulls("octo/ages") == []
    assert fake_github.count("POST", r"/repos/octo/ages/pulls") == 0
    assert fake_github.branch_sha("octo/ages", f"fixwurx/issue-{number}") is None
    bodies = [c["body"] for c in fake_github.issue_comments("octo/ages", number)]
    assert any(f"Stopped FixWurx run(s) #{fix_run.id}." in b for b in bodies), bodies
    # The stop reply's run is done; the fix run's status comment says it stopped.
    (stop_run,) = runs_of_kind(settings, "command")
    assert stop_run.status == "done"
    assert any("stopped by a `/fixwurx stop`" in b for b in bodies), bodies
