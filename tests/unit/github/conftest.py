"""Fixtures for the GitHub unit tests: the fake GitHub, settings on it, and a repository."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine

from app.config import Settings
from app.models import Base
from tests.fakes.github import FakeGitHub, FakeRepo
from tests.fakes.github.fixtures import fake_github, github_settings

__all__ = ["fake_github", "github_settings"]


@pytest.fixture
def settings(
    github_settings: Settings, tmp_path: Path, redis_url: str, redis_conn: Redis
) -> Iterator[Settings]:
    url = f"sqlite:///{tmp_path / 'flow.sqlite3'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield github_settings.replace(database_url=url, redis_url=redis_url)


@pytest.fixture
def repo(fake_github: FakeGitHub) -> FakeRepo:
    return fake_github.add_repo(
        "octo/app", {"a.py": "x = 1\n"}, collaborators={"alice": "write", "eve": "read"}
    )
