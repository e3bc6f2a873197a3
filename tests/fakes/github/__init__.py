"""The fake GitHub: a stateful REST + smart-HTTP git + GraphQL server on loopback, checked
against GitHub's published descriptions, with a CI simulator (`fake.ci`, see `ci.py`). Use the
`fake_github` fixture from `tests/fakes/github/fixtures.py`."""

from tests.fakes.github.cimodels import Workflow
from tests.fakes.github.server import FakeGitHub, FakeRepo

__all__ = ["FakeGitHub", "FakeRepo", "Workflow"]
