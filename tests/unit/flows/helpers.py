"""Helpers for the GitHub flow tests: runs in the database, comments in the fake."""

from __future__ import annotations

from typing import Any

from app import runs
from app.config import Settings
from app.db import session_scope
from app.flows import flow
from app.models import Installation, Repository, Run
from app.runs.verdict import Verdict
from tests.fakes.github import FakeGitHub, FakeRepo


def make_run(settings: Settings, repo: FakeRepo, **fields: Any) -> int:
    with session_scope(settings.database_url) as session:
        if session.get(Installation, repo.installation_id) is None:
            session.add(Installation(id=repo.installation_id, account_login=repo.owner))
            session.flush()
            session.add(
                Repository(
                    id=repo.id, installation_id=repo.installation_id, full_name=repo.full_name
                )
            )
        fields.setdefault("status", "running")
        run = Run(repository_id=repo.id, trigger="test", **fields)
        session.add(run)
        session.flush()
        return run.id


def execute_run(settings: Settings, run_id: int) -> Verdict:
    """The flow, then what the job function does with its verdict: record it through app.runs."""
    ended = flow.execute_run(settings, run_id)
    runs.record_verdict(settings.database_url, run_id, ended)
    return ended


def run_row(settings: Settings, run_id: int) -> Run:
    with session_scope(settings.database_url) as session:
        found = session.get(Run, run_id)
        assert found is not None
        return found


def bodies(fake: FakeGitHub, number: int) -> list[str]:
    return [c["body"] for c in fake.issue_comments("octo/app", number)]
