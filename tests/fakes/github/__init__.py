"""The fake GitHub: a stateful REST + smart-HTTP git server on loopback, checked against the
OpenAPI description. Use the `fake_github` fixture from `tests/fakes/github/fixtures.py`."""

from tests.fakes.github.server import FakeGitHub, FakeRepo

__all__ = ["FakeGitHub", "FakeRepo"]
