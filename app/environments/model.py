"""What a test run needs to know about a built environment, and what a caller asks for."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app import defaults
from app.errors import BadInput
from app.sandbox import Mounts


class EnvironmentBuildError(BadInput):
    """The repository's environment could not be built; the message names the failed step."""


@dataclass(frozen=True)
class EnvironmentRequest:
    """How to build an environment for one repository.

    `setup`: the repo config's `setup:` or `--setup` commands (they replace detection).
    `python`: a version prefix such as "3.11" (`python:` or `--python`); None picks the newest
    installed interpreter that satisfies `requires-python` and can collect the tests.
    `probe`: arguments for the environment's `python` that must exit 0 (or 5: nothing
    collected) for an interpreter to be kept, such as `-m pytest --collect-only`.
    `scope`: who may share the environments and the uv download cache built for this request.
    Install steps run the repository's own code (setup commands, setup.py) with the venv and
    uv's cache writable, so an environment or a cached wheel built for one repository must never
    be handed to another: the App passes the repository, the CLI the checkout's origin URL or
    path (scopes.py), and two repositories with the same dependency files still build apart.
    Empty: the work copy's own path, shared with nothing.
    """

    setup: tuple[str, ...] = ()
    python: str | None = None
    probe: tuple[str, ...] = ()
    scope: str = ""
    cache_dir: Path = field(default_factory=lambda: default_cache_dir())
    build_timeout: float = defaults.ENV_BUILD_TIMEOUT_S
    max_entries: int = defaults.ENV_CACHE_MAX_ENTRIES
    max_mb: int = defaults.ENV_CACHE_MAX_MB
    uv_cache_max_mb: int = field(default_factory=lambda: default_uv_cache_max_mb())


def default_uv_cache_max_mb() -> int:
    """FIXWURX_UV_CACHE_MAX_MB, else ENV_UV_CACHE_MAX_MB; a bad value is an error naming it."""
    raw = os.environ.get("FIXWURX_UV_CACHE_MAX_MB", "").strip()
    if not raw:
        return defaults.ENV_UV_CACHE_MAX_MB
    if not raw.isdigit() or int(raw) < 1:
        raise BadInput(
            f"FIXWURX_UV_CACHE_MAX_MB={raw!r} is not a positive number of megabytes; "
            f"set it to e.g. {defaults.ENV_UV_CACHE_MAX_MB} or unset it"
        )
    return int(raw)


#: The one setting that names the environment cache, for the CLI and the App's workers alike
#: (the workers read it through `Settings.environment_cache_dir`).
CACHE_DIR_ENV = "ENVIRONMENT_CACHE_DIR"
#: Its old name, from when the CLI had a variable of its own: still read, with a warning.
DEPRECATED_CACHE_DIR_ENV = "FIXWURX_ENV_CACHE"


def default_cache_dir() -> Path:
    """ENVIRONMENT_CACHE_DIR (FIXWURX_ENV_CACHE, deprecated), else the user's cache directory."""
    configured = os.environ.get(CACHE_DIR_ENV)
    if not configured and os.environ.get(DEPRECATED_CACHE_DIR_ENV):
        warnings.warn(
            f"{DEPRECATED_CACHE_DIR_ENV} is deprecated: set {CACHE_DIR_ENV} instead (the same "
            "setting the App's workers read)",
            DeprecationWarning,
            stacklevel=2,
        )
        configured = os.environ[DEPRECATED_CACHE_DIR_ENV]
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fixwurx" / "environments"


@dataclass(frozen=True)
class Environment:
    """A built virtualenv, read-only for test runs.

    `how` says in one line how it was built (for the report and the pull request).
    """

    venv: Path
    python_version: str
    interpreter_prefix: Path
    sources: tuple[str, ...]
    tools_added: tuple[str, ...] = ()
    reused: bool = False
    seconds: float = 0.0
    key: str = ""
    notes: tuple[str, ...] = ()
    #: (path, text) of files the project's build writes and its code imports, such as a VCS
    #: version file: written into each work copy that lacks them (prepare.py).
    generated: tuple[tuple[str, str], ...] = ()
    #: Paths (relative to the project) of the extension modules the build compiled in place,
    #: saved in `built` (beside the venv): placed into each work copy that lacks them.
    extensions: tuple[str, ...] = ()

    @property
    def python(self) -> str:
        """The environment's interpreter (absolute path inside the venv)."""
        return str(self.venv / "bin" / "python")

    @property
    def recipe(self) -> str:
        """One line: interpreter, where the dependencies came from, what was added. The same on
        every run of the same repository, so evidence that quotes it hashes alike."""
        sources = ", ".join(self.sources) or "no dependency files (test tools only)"
        added = f"; added {', '.join(self.tools_added)}" if self.tools_added else ""
        return f"Python {self.python_version} venv (uv) from {sources}{added}"

    @property
    def how(self) -> str:
        """The recipe and this run's cache use (built in N s, or reused)."""
        reuse = "reused from cache" if self.reused else f"built in {self.seconds:.1f}s"
        return f"{self.recipe}; {reuse}"

    @property
    def readonly_paths(self) -> tuple[Path, ...]:
        """Host paths a test run must see: the venv and its base interpreter's installation."""
        paths = [self.venv]
        if not str(self.interpreter_prefix).startswith("/usr"):
            paths.append(self.interpreter_prefix)
        return tuple(paths)

    @property
    def mounts(self) -> Mounts:
        """A test run's view: no network, and not FixWurx's own interpreter."""
        return Mounts(host_python=False)

    def run_env(self, root: Path) -> dict[str, str]:
        """Variables for a test run in work copy `root`: the project imports from that copy."""
        paths = [str(root)]
        if (root / "src").is_dir() and not (root / "src").is_symlink():
            paths.append(str(root / "src"))
        return {
            "PATH": f"{self.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "VIRTUAL_ENV": str(self.venv),
            "PYTHONPATH": ":".join(paths),
        }

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the run state."""
        return {
            "venv": str(self.venv),
            "python_version": self.python_version,
            "interpreter_prefix": str(self.interpreter_prefix),
            "sources": list(self.sources),
            "tools_added": list(self.tools_added),
            "reused": self.reused,
            "seconds": self.seconds,
            "key": self.key,
            "notes": list(self.notes),
            "generated": dict(self.generated),
            "extensions": list(self.extensions),
            "how": self.how,
            "recipe": self.recipe,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Environment:
        """Inverse of `to_json`."""
        return cls(
            venv=Path(data["venv"]),
            python_version=data["python_version"],
            interpreter_prefix=Path(data["interpreter_prefix"]),
            sources=tuple(data.get("sources", ())),
            tools_added=tuple(data.get("tools_added", ())),
            reused=bool(data.get("reused", False)),
            seconds=float(data.get("seconds", 0.0)),
            key=data.get("key", ""),
            notes=tuple(data.get("notes", ())),
            generated=tuple(saved_texts(data.get("generated")).items()),
            extensions=saved_names(data.get("extensions")),
        )


def saved_names(value: Any) -> tuple[str, ...]:
    """A list of paths from saved JSON (anything else reads as empty)."""
    if not isinstance(value, list):
        return ()
    return tuple(v for v in value if isinstance(v, str))


def saved_texts(value: Any) -> dict[str, str]:
    """A {path: text} mapping from saved JSON (anything else reads as empty)."""
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, str)}
