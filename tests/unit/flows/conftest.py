"""The flows' tests build on the GitHub edge's fixtures: the fake GitHub, settings, a repo."""

from __future__ import annotations

from tests.unit.github.conftest import fake_github, github_settings, repo, settings

__all__ = ["fake_github", "github_settings", "repo", "settings"]
