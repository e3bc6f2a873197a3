"""FixWurx: repairs bugs with test evidence.

`create_app` is the Flask app factory. It has no import-time side effects: every subsystem
registers itself through `init_app(app)`, and the HTTP ingress (in `webhooks/`) registers its
blueprint on top of the app this returns.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.config import Settings


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app from the environment, with `config` overriding single keys."""
    flask_app = Flask(__name__, instance_relative_config=True)
    settings = Settings.from_env()
    if config:
        settings = settings.replace(**{k.lower(): v for k, v in config.items() if k.isupper()})
        flask_app.config.update(config)
    flask_app.extensions["fixwurx.settings"] = settings

    from app import dashboard, db, observability
    from app.ops import health, metrics

    db.init_app(flask_app)
    observability.init_app(flask_app)
    health.init_app(flask_app)
    metrics.init_app(flask_app)
    dashboard.init_app(flask_app)
    return flask_app


def settings_of(flask_app: Flask) -> Settings:
    """The typed settings the app was built with."""
    settings: Settings = flask_app.extensions["fixwurx.settings"]
    return settings
