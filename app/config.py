"""One typed settings object, read from the environment once.

Names follow probot's (`APP_ID`, `PRIVATE_KEY`, `PRIVATE_KEY_PATH`, `WEBHOOK_SECRET`) and the
model SDKs' (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`), so an
operator's existing environment works unchanged. Secrets are kept out of `repr` so that logging
the settings can never leak them.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app import defaults

if TYPE_CHECKING:
    from flask import Flask

#: Environment variables whose values are secrets. The sandbox and the log scrubber use this list.
SECRET_ENV_VARS = (
    "PRIVATE_KEY",
    "WEBHOOK_SECRET",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "LOCAL_LLM_API_KEY",
    "SENTRY_DSN",
    "GITHUB_TOKEN",
    "GITHUB_CLIENT_SECRET",
    "SECRET_KEY",
)


def _secret() -> Any:
    return field(default="", repr=False)


@dataclass(frozen=True)
class Settings:
    """Process-wide settings. Build with `Settings.from_env()`; override with `replace()`."""

    app_id: str = ""
    private_key: str = _secret()
    private_key_path: str = ""
    webhook_secret: str = _secret()
    github_api_url: str = "https://api.github.com"
    app_slug: str = "fixwurx"
    database_url: str = field(default_factory=lambda: default_database_url())
    redis_url: str = defaults.REDIS_URL
    #: Acknowledge a delivery only once its commit is flushed to disk (webhooks/intake.py).
    delivery_sync_commit: bool = False
    sentry_dsn: str = _secret()
    openai_api_key: str = _secret()
    openai_base_url: str = ""
    anthropic_api_key: str = _secret()
    anthropic_base_url: str = ""
    local_llm_base_url: str = ""
    local_llm_api_key: str = _secret()
    model_analysis: str = ""
    model_fallback: str = ""
    model_explanation: str = ""
    budget_run_usd: float = 1.0
    budget_run_tokens: int = 400_000
    budget_repo_day_usd: float = 10.0
    budget_repo_day_tokens: int = 4_000_000
    budget_installation_month_usd: float = 100.0
    budget_installation_month_tokens: int = 40_000_000
    #: Turns (one model call and one shell command each) an agent session may take per run.
    budget_agent_steps: int = 30
    log_level: str = "INFO"
    #: The App's OAuth client, for "Sign in with GitHub" on /dashboard (app/dashboard/auth.py).
    github_client_id: str = ""
    github_client_secret: str = _secret()
    #: GitHub logins allowed on /dashboard, comma- or space-separated; nobody else gets in.
    dashboard_users: str = ""
    #: The public origin (https://fixwurx.example.com) the OAuth callback URL is built on; empty:
    #: the request's own host and scheme, right when no proxy sits in front.
    public_url: str = ""
    #: Signs the dashboard's session cookie; the dashboard refuses to run without it.
    secret_key: str = _secret()
    #: Days of deliveries, model calls, stage and audit rows kept (app/ops/retention.py);
    #: 0 keeps all.
    retention_days: int = 90
    #: Where this worker keeps repositories' test environments (give each worker host its own
    #: disk; workers sharing one are safe, builds lock per key); the CLI reads the same variable;
    #: empty: the deprecated FIXWURX_ENV_CACHE, else the user's cache directory.
    environment_cache_dir: str = ""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every field from its upper-case environment variable, converting types."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f.name.upper())
            if raw is None or raw == "":
                continue
            kind = str if f.default is dataclasses.MISSING else type(f.default)
            values[f.name] = _convert(f.name, raw, kind)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed; unknown names are ignored."""
        known = {f.name for f in dataclasses.fields(self)}
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if k in known})

    @property
    def github_app_configured(self) -> bool:
        """True once any App credential is set: then all of them must be valid at start-up."""
        return bool(self.app_id or self.private_key or self.private_key_path)

    def secret_values(self) -> list[str]:
        """Every non-empty secret held here, for scrubbers."""
        names = [f.name for f in dataclasses.fields(self) if not f.repr]
        return [v for v in (getattr(self, n) for n in names) if isinstance(v, str) and v]


def default_database_url(environ: Mapping[str, str] | None = None) -> str:
    """The embedded default: a SQLite file in the user's data directory."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return f"sqlite:///{os.path.join(base, defaults.DATABASE_FILE)}"


def _convert(name: str, raw: str, kind: type) -> Any:
    from app.errors import ConfigError

    try:
        if kind is bool:
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        return kind(raw)
    except ValueError as exc:
        raise ConfigError(f"{name.upper()}={raw!r} is not a valid {kind.__name__}") from exc


#: Where `create_app` keeps the settings it was built with, in `Flask.extensions`.
SETTINGS_KEY = "fixwurx.settings"


def settings_of(flask_app: Flask) -> Settings:
    """The typed settings the app was built with.

    Here rather than in `app/__init__.py`, so the modules that need it (db, observability, the
    dashboard, ops) import the core and never the package's factory module.
    """
    settings: Settings = flask_app.extensions[SETTINGS_KEY]
    return settings
