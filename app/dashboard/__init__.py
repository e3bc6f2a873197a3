"""The operator dashboard at /dashboard: server-rendered pages over the runs database.

Everything it shows is read from the database (app/dashboard/queries.py), Redis (queue depths,
live workers) and the process's Prometheus counters; every asset it loads (its CSS, its script,
Chart.js, vendored from npm under static/vendor with its licence) is served by FixWurx itself,
so it works on a network without a CDN and under a `default-src 'self'` Content Security Policy.
Sign-in is a one-time link from `fixwurx dashboard login` (signin_link.py) or "Sign in with
GitHub" through the App's OAuth client (auth.py), for DASHBOARD_USERS. Operators act through
POST forms with a CSRF token (actions.py), each action an audit row.
"""

from __future__ import annotations

from flask import Flask, redirect, url_for
from werkzeug.wrappers import Response as WerkzeugResponse


def init_app(flask_app: Flask) -> None:
    """Register the blueprint; the session cookie is signed with SECRET_KEY when it is set."""
    from app.config import settings_of
    from app.dashboard import actions  # noqa: F401  (its routes join the blueprint)
    from app.dashboard.views import blueprint

    settings = settings_of(flask_app)
    if settings.secret_key:
        flask_app.secret_key = settings.secret_key
    flask_app.config.update(
        SESSION_COOKIE_NAME="fixwurx_session",
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
    )
    flask_app.register_blueprint(blueprint)
    flask_app.add_url_rule("/", "root", _to_dashboard)


def _to_dashboard() -> WerkzeugResponse:
    """`/` is where an operator types first: send them to the dashboard (it asks for sign-in)."""
    return redirect(url_for("dashboard.overview"))
