"""FixWurx: repairs bugs with test evidence.

`create_app` is the Flask app factory. It has no import-time side effects: every subsystem
registers itself through `init_app(app)`, and the HTTP ingress (in `webhooks/`) registers its
blueprint on top of the app this returns.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from app.config import SETTINGS_KEY, Settings


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app from the environment, with `config` overriding single keys."""
    flask_app = Flask(__name__, instance_relative_config=True)
    settings = Settings.from_env()
    if config:
        settings = settings.replace(**{k.lower(): v for k, v in config.items() if k.isupper()})
        flask_app.config.update(config)
    flask_app.extensions[SETTINGS_KEY] = settings

    from app import dashboard, db, observability
    from app.ops import health, metrics

    db.init_app(flask_app)
    observability.init_app(flask_app)
    health.init_app(flask_app)
    metrics.init_app(flask_app)
    dashboard.init_app(flask_app)
    return flask_app
