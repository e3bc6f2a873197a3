"""`fixwurx dashboard login`: print a one-time sign-in link for the dashboard.

The way in that needs no OAuth app: run it on the server (it reads the same SECRET_KEY,
DASHBOARD_USERS and database as the web app), open the link within its lifetime, once.
"""

from __future__ import annotations

import click

from app.config import Settings
from app.dashboard import auth, signin_link

#: Where the link points when neither --url nor PUBLIC_URL says: `fixwurx serve`'s default.
LOCAL_URL = "http://127.0.0.1:8000"


@click.group("dashboard")
def dashboard() -> None:
    """The operator dashboard at /dashboard."""


@dashboard.command("login")
@click.option("--user", "login", help="A login from DASHBOARD_USERS (default: the only one).")
@click.option(
    "--minutes",
    type=click.IntRange(1, signin_link.MAX_TTL_S // 60),
    default=signin_link.DEFAULT_TTL_S // 60,
    show_default=True,
    help="How long the link works.",
)
@click.option("--url", "base_url", help="The web app's address (default: PUBLIC_URL).")
def login(login: str | None, minutes: int, base_url: str | None) -> None:
    """Print a link that signs LOGIN in once, for the next MINUTES minutes."""
    settings = Settings.from_env()
    login = login or _only_user(settings)
    try:
        token = signin_link.mint(settings, login, minutes * 60)
    except signin_link.LinkRefused as exc:
        raise click.ClickException(str(exc)) from None
    base = (base_url or settings.public_url or LOCAL_URL).rstrip("/")
    click.echo(f"{base}/dashboard/login/{token}")
    click.echo(f"signs in {login} once, within {minutes} min", err=True)


def _only_user(settings: Settings) -> str:
    users = sorted(auth.allowed_logins(settings))
    if len(users) != 1:
        listed = ", ".join(users) or "none: set DASHBOARD_USERS"
        raise click.ClickException(f"say which login with --user (DASHBOARD_USERS: {listed})")
    return users[0]
