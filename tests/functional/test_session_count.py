"""How many database sessions one labelled issue costs, from the webhook to the pull request.

Each connection taken from a pool is one short session (a `session_scope`, or one of
`app.runs`' conditional statements): a round trip to PostgreSQL at least, a lock and a commit.
The flows used to ask one fact per session (about 45 for one fixed issue); they now read what a
decision needs in one session and write what they decide in one. The count covers the web
tier's delivery record, the worker's claim and verdict, the flow's reads and writes and the
chain's persisted state and lineage, in the forked RQ work horse too: the counter lives in
shared memory, so the child's checkouts reach the test. The heartbeat thread's beats are left
out: they are one per 15 seconds of wall time, not a question any decision asks. So are the
live stage's progress writes (`RunRecorder._write_live`, the dashboard's view of a stage that
runs longer than a second): time-driven, at most one a second, and counted apart.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import event
from sqlalchemy.pool import Pool

from app.config import Settings
from tests.fakes.github import FakeGitHub
from tests.fakes.github.deliver import labeled, send
from tests.fakes.github.fixtures import fake_github
from tests.functional.test_github_flow import SECRET, make_repo, runs_of, settings, web, work

__all__ = ["fake_github", "settings", "web"]

pytestmark = pytest.mark.slow

#: The most sessions one labelled issue may open on its way to a pull request.
MAX_SESSIONS = 12
#: Where FixWurx's own code lives, to name the caller of each checkout.
OWN = ("/app/", "/webhooks/", "/workers/")


def _caller() -> str:
    """The innermost FixWurx frame outside app/db.py: who asked for the connection."""
    stack = traceback.extract_stack()[:-2]
    if any(frame.filename.endswith("workers/heartbeat.py") for frame in stack):
        return "heartbeat"
    if any(frame.name == "_write_live" for frame in stack):
        return "heartbeat"  # the live stage view: time-driven like the heartbeat
    for frame in reversed(stack):
        name = frame.filename
        if any(part in name for part in OWN) and not name.endswith("app/db.py"):
            return f"{name.split('/')[-2]}/{name.split('/')[-1]}:{frame.lineno} {frame.name}"
    return "elsewhere"


@pytest.fixture
def checkouts(tmp_path: Path) -> Iterator[tuple[Any, Path]]:
    """A shared-memory counter of pool checkouts (and a log of their callers) across forks."""
    count = multiprocessing.Value("i", 0)
    log = tmp_path / "checkouts.log"

    def counted(*_args: Any) -> None:
        caller = _caller()
        if caller == "heartbeat":
            return
        with count.get_lock():
            count.value += 1
        with log.open("a", encoding="utf-8") as out:
            out.write(caller + "\n")

    event.listen(Pool, "checkout", counted)
    try:
        yield count, log
    finally:
        event.remove(Pool, "checkout", counted)


def test_a_labelled_issue_reaches_its_pull_request_in_a_dozen_sessions(
    fake_github: FakeGitHub,
    settings: Settings,
    web: Any,
    redis_conn: Redis,
    checkouts: tuple[Any, Path],
) -> None:
    count, log = checkouts
    repo = make_repo(fake_github)
    number = fake_github.add_issue(
        "octo/ages", "18-year-olds are not adults", "is_adult(18) is False", labels=("fixwurx",)
    )
    status, _ = send(web, "issues", labeled(fake_github, repo, number), SECRET, "delivery-s")
    assert status == 202
    work(redis_conn)
    opened = count.value
    callers = log.read_text(encoding="utf-8") if log.exists() else ""

    assert len(fake_github.open_pulls("octo/ages")) == 1, runs_of(settings)
    assert [r[1] for r in runs_of(settings)] == ["fixed"]
    print(f"sessions opened by one labelled issue: {opened}\n{callers}")
    assert 0 < opened <= MAX_SESSIONS, f"{opened} sessions:\n{callers}"
