"""Fixtures for worker tests: settings on real Redis and a real database, a stand-in flow."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from redis import Redis

from app import runs
from app.config import Settings
from app.db import session_scope
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
    """Stands in for `app.github.flow.execute_run` (another engineer's boundary).

    `steps` are consumed one per call: each is a callable run inside execute_run (raise to
    fail, call `runs.finish` to give a verdict) or None to return without a verdict.
    """

    settings: Settings
    steps: list[Callable[[int], Any] | None] = field(default_factory=list)
    calls: list[tuple[int, str | None]] = field(default_factory=list)

    def __call__(self, settings: Settings, run_id: int) -> None:
        assert settings.database_url == self.settings.database_url
        self.calls.append((run_id, runs.status_of(settings.database_url, run_id)))
        step = self.steps.pop(0) if self.steps else None
        if step is not None:
            step(run_id)


@pytest.fixture
def settings(database_url: str, redis_url: str, redis_conn: Redis) -> Iterator[Settings]:
    configured = Settings(
        database_url=database_url, redis_url=redis_url, webhook_secret="whsec-test-value"
    )
    jobs.configure(configured)
    yield configured
    jobs.configure(None)


@pytest.fixture
def flow(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> FakeFlow:
    from app.github import flow as real_flow

    fake = FakeFlow(settings)
    monkeypatch.setattr(real_flow, "execute_run", fake)
    return fake


def new_run(settings: Settings, delivery: str = "d-1", **changes: Any) -> int:
    """A committed, queued run (what the web tier leaves behind)."""
    request = runs.RunRequest(**{**REQUEST.__dict__, **changes})
    with session_scope(settings.database_url) as session:
        recorded = runs.record_delivery(
            session, delivery, "issues", "labeled", [request], queues.job_id
        )
    return recorded.run_ids[0]
