"""Fixtures for worker tests: settings on real Redis and a real database, a stand-in flow."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from sqlalchemy import create_engine

from app import runs
from app.config import Settings
from app.db import session_scope
from app.models import Base
from app.runs import verdict
from app.runs.verdict import Verdict
from workers import jobs, queues

REQUEST = runs.RunRequest(
    kind="issue",
    trigger="issues.labeled",
    repository_id=1296269,
    repository_full_name="octocat/Hello-World",
    installation_id=77,
    account_login="octocat",
    issue_number=5,
)


@dataclass
class FakeFlow:
    """Stands in for `app.flows.flow.execute_run` (another engineer's boundary).

    `steps` are consumed one per call: each is a callable run inside execute_run (raise to
    fail, return a `Verdict` to give one) or None to end the run as done.
    """

    settings: Settings
    steps: list[Callable[[int], Any] | None] = field(default_factory=list)
    calls: list[tuple[int, str | None]] = field(default_factory=list)

    def __call__(self, settings: Settings, run_id: int) -> Verdict:
        assert settings.database_url == self.settings.database_url
        self.calls.append((run_id, runs.status_of(settings.database_url, run_id)))
        step = self.steps.pop(0) if self.steps else None
        ended = step(run_id) if step is not None else None
        return ended if isinstance(ended, Verdict) else verdict.done()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with every table, built once: copying it is much cheaper than DDL."""
    path = tmp_path_factory.mktemp("template") / "fixwurx.sqlite3"
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A fresh SQLite database for one test.

    Worker behaviour does not depend on the dialect (the run lifecycle SQL is tested on both
    databases in tests/unit/test_runs.py), so most worker tests use this; the fork test uses
    `database_url` to cover PostgreSQL connections across RQ's fork.
    """
    path = tmp_path / "fixwurx.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


def make_settings(database_url: str, redis_url: str) -> Settings:
    return Settings(
        database_url=database_url, redis_url=redis_url, webhook_secret="whsec-test-value"
    )


@pytest.fixture
def settings(sqlite_url: str, redis_url: str, redis_conn: Redis) -> Iterator[Settings]:
    configured = make_settings(sqlite_url, redis_url)
    jobs.configure(configured)
    yield configured
    jobs.configure(None)


def install_flow(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> FakeFlow:
    """Replace the GitHub flow with a FakeFlow and point jobs at `settings`."""
    from app.flows import flow as real_flow

    fake = FakeFlow(settings)
    monkeypatch.setattr(real_flow, "execute_run", fake)
    monkeypatch.setattr(jobs, "_settings", settings)
    return fake


@pytest.fixture
def flow(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> FakeFlow:
    return install_flow(settings, monkeypatch)


def new_run(settings: Settings, delivery: str = "d-1", **changes: Any) -> int:
    """A committed, queued run (what the web tier leaves behind)."""
    request = runs.RunRequest(**{**REQUEST.__dict__, **changes})
    with session_scope(settings.database_url) as session:
        recorded = runs.record_delivery(
            session, delivery, "issues", "labeled", [request], queues.job_id
        )
    return recorded.run_ids[0]
