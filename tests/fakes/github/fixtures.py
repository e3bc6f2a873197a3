"""Pytest fixtures for the fake GitHub; import them into a conftest with
`from tests.fakes.github.fixtures import fake_github, github_settings  # noqa: F401`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from app.github import constants
from tests.fakes.github.server import FakeGitHub


@pytest.fixture
def fake_github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    """A running fake; the test fails if any request broke GitHub's API description."""
    # PyGithub paces writes one second apart for real GitHub; against loopback that only
    # slows the tests down.
    monkeypatch.setattr(constants, "SECONDS_BETWEEN_REQUESTS", 0.0)
    monkeypatch.setattr(constants, "SECONDS_BETWEEN_WRITES", 0.0)
    monkeypatch.setattr(constants, "HTTP_BACKOFF_S", 0.05)
    fake = FakeGitHub(tmp_path / "github").start()
    yield fake
    fake.stop()
    assert fake.violations == [], "requests broke GitHub's API description:\n" + "\n".join(
        fake.violations
    )


@pytest.fixture
def github_settings(fake_github: FakeGitHub) -> Settings:
    """Settings pointing FixWurx at the fake, with the fake App's id and key."""
    return Settings(
        app_id=str(fake_github.app_id),
        private_key=fake_github.private_key_pem,
        github_api_url=fake_github.api_url,
        app_slug=fake_github.slug,
    )
