"""Per-repository test environments: a virtualenv built from what the repository declares.

A repository's tests run on their own interpreter and their own packages, never on FixWurx's:
`prepare(root, request)` detects the declared dependencies (`detect`), picks an installed
interpreter (`interpreters`), builds a virtualenv with uv in the sandbox with network access
(`build`), checks that the tests can at least be collected there, and keeps the result in a
bounded least-recently-used cache (`cache`), so the next run on the same repository starts
testing in seconds.

Modules, one concept each:

- `detect`: which files declare what (in the documented order) and the cache key's inputs;
- `interpreters`: the installed Pythons and the one `requires-python` or `python:` allows;
- `indexes`: the operator's package-index settings, as uv arguments and read-only paths;
- `build`: the sandboxed install steps (venv, dependencies, setup commands, test tools);
- `cache`: where environments live, the lock per key, reuse and eviction;
- `model`: `Environment` (what a test run needs) and `EnvironmentRequest`;
- `prepare`: the ladder that ties them together.
"""

from __future__ import annotations

from app.environments.model import Environment, EnvironmentBuildError, EnvironmentRequest
from app.environments.prepare import prepare

__all__ = ["Environment", "EnvironmentBuildError", "EnvironmentRequest", "prepare"]
