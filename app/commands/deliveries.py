"""`fixwurx deliveries recover [--since 1h] [--dry-run]`: redeliver what GitHub sent and we lost.

The operator's side of app/ops/recovery.py. It prints one line per delivery it redelivered (or
would, or could not) or found refused, then a summary. Exit codes: 0 it ran (refused deliveries
included: they need a person, not a retry), 1 GitHub, the database or Redis failed, or a
redelivery was not accepted, 2 bad settings or options.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter

import click
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from app import redisconn
from app.commands.terminal import EXIT_NOT_FIXED, fail
from app.config import Settings
from app.errors import ConfigError, GitHubError
from app.ops.recovery import (
    Action,
    DeliveryAttempt,
    DeliveryLog,
    Finding,
    act,
    parse_duration,
    survey,
)

EXIT_FAILED = EXIT_NOT_FIXED
#: Seconds a Redis command may take here: an operator waits on it, nothing else does.
REDIS_TIMEOUT_S = redisconn.WORK_TIMEOUT_S
REFUSED_HINT = (
    "our endpoint would refuse the same delivery again; if WEBHOOK_SECRET was wrong and is "
    "fixed now, redeliver it from the App's settings (Advanced)"
)


@click.group("deliveries")
def deliveries() -> None:
    """Webhook deliveries, as GitHub's log of them tells."""


def _duration(_ctx: click.Context, _param: click.Parameter, value: str) -> dt.timedelta:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@deliveries.command("recover")
@click.option(
    "--since",
    "window",
    default="1h",
    show_default=True,
    metavar="DURATION",
    callback=_duration,
    help="How far back to look: 30m, 1h, 2d (GitHub keeps 3 days).",
)
@click.option("--dry-run", is_flag=True, help="Report what would be redelivered; send nothing.")
def recover(window: dt.timedelta, dry_run: bool) -> None:
    """Redeliver the App's deliveries that GitHub sent but the deliveries table lacks."""
    settings, private_key = _settings()
    since = dt.datetime.now(dt.UTC) - window
    log = DeliveryLog(settings.github_api_url, settings.app_id, private_key)
    redis = None if dry_run else _redis(settings.redis_url)
    tally: Counter[Action] = Counter()
    try:
        found = survey(log.pages(since), settings.database_url)
        for finding in act(found, log, redis):
            click.echo(describe(finding))
            tally[finding.action] += 1
    except GitHubError as exc:
        fail(str(exc), EXIT_FAILED)
    except SQLAlchemyError as exc:
        fail(f"reading the deliveries table (DATABASE_URL) failed: {_first_line(exc)}", EXIT_FAILED)
    except RedisError as exc:
        fail(
            f"clearing a redelivery mark in Redis (REDIS_URL) failed: {_first_line(exc)}",
            EXIT_FAILED,
        )
    click.echo(summary(len(found.attempts), since, tally, dry_run))
    if tally[Action.FAILED]:
        sys.exit(EXIT_FAILED)


def _settings() -> tuple[Settings, str]:
    """The settings and the App's private key, or exit 2 naming what to fix."""
    from app.github.auth import check_app_settings, load_private_key

    try:
        settings = Settings.from_env()
        check_app_settings(settings)
        return settings, load_private_key(settings)
    except ConfigError as exc:
        fail(str(exc))


def _redis(url: str) -> Redis:
    return redisconn.redis_client(url, REDIS_TIMEOUT_S)


def describe(finding: Finding) -> str:
    """One line: guid, event.action, what GitHub last saw, what we did."""
    newest = finding.latest
    what = finding.action.value
    if finding.action is Action.REFUSED:
        what = f"refused, not redelivered: {REFUSED_HINT}"
    elif finding.action is Action.FAILED:
        what = f"{what}: {finding.detail}"
    return f"{finding.guid}  {newest.kind}  {_last_seen(newest)}  -> {what}"


def _last_seen(attempt: DeliveryAttempt) -> str:
    when = attempt.delivered_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    code = str(attempt.status_code) if attempt.status_code else "no response"
    status = f" ({attempt.status})" if attempt.status else ""
    return f"GitHub last got {code}{status} at {when}"


def summary(checked: int, since: dt.datetime, tally: Counter[Action], dry_run: bool) -> str:
    """The closing line: deliveries checked, redelivered (or would be), refused, failed."""
    window = since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sent = (
        f"{tally[Action.WOULD_REDELIVER]} would redeliver"
        if dry_run
        else f"{tally[Action.REDELIVERED]} redelivered"
    )
    failed = f", {tally[Action.FAILED]} failed" if tally[Action.FAILED] else ""
    noun = "delivery" if checked == 1 else "deliveries"
    return (
        f"checked {checked} {noun} since {window}: {sent}, {tally[Action.REFUSED]} refused{failed}"
    )


def _first_line(exc: BaseException) -> str:
    # SQLAlchemy wraps the driver's error and appends the statement; the driver's first line
    # says what went wrong ("no such table: deliveries", "connection refused").
    cause = getattr(exc, "orig", None) or exc
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__
