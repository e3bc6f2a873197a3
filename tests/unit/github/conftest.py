"""The fake GitHub fixtures for the GitHub unit tests."""

from tests.fakes.github.fixtures import fake_github, github_settings

__all__ = ["fake_github", "github_settings"]
