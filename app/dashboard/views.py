"""The dashboard's routes: sign-in, the guard in front of every page, and the pages.

The guard runs before every request to the blueprint: static files and the sign-in routes pass;
without the settings the dashboard needs it answers 503 naming them; without a signed-in login it
redirects to GitHub; a login outside DASHBOARD_USERS gets 403. There is no anonymous access.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy.exc import SQLAlchemyError

from app.config import settings_of
from app.dashboard import auth, csrf, figures, queries, signin_link
from app.db import session_scope

log = logging.getLogger(__name__)
blueprint = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
)

#: Endpoints reachable without a signed-in, allowed login.
OPEN_ENDPOINTS = frozenset(
    {"dashboard.static", "dashboard.login", "dashboard.callback", "dashboard.login_link"}
)
#: Seconds between refreshes of a page showing a live run (the page polls itself).
LIVE_REFRESH_S = 3
#: How far back the overview counts the sweeper's actions (its audit rows).
SWEEPS_WINDOW = dt.timedelta(days=7)
#: Every dashboard answer carries this policy: nothing loads from anywhere but FixWurx.
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)


@blueprint.before_request
def _guard() -> Any:
    settings = settings_of(current_app)
    missing = auth.missing_settings(settings)
    if missing and request.endpoint != "dashboard.static":
        log.error("dashboard disabled: %s not set", ", ".join(missing))
        return _page("unavailable.html", 503, missing=missing)
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    login = session.get(auth.LOGIN_KEY)
    if not login:
        session[auth.NEXT_KEY] = request.full_path if request.method == "GET" else None
        return redirect(url_for("dashboard.login"))
    if not auth.is_allowed(settings, login):
        return _page("forbidden.html", 403, who=login)
    if request.method == "POST" and not csrf.valid():
        log.warning("dashboard: %s sent a %s without its CSRF token", login, request.path)
        return _page("signin_failed.html", 400, reason="the form expired; reload the page")
    return None


@blueprint.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "dashboard.static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@blueprint.errorhandler(SQLAlchemyError)
def _database_down(exc: SQLAlchemyError) -> Response:
    log.exception("dashboard: database error")
    return _page("unavailable.html", 503, missing=[], reason="the database is unavailable")


def _page(template: str, status: int = 200, **context: Any) -> Response:
    body = render_template(
        f"dashboard/{template}",
        login=session.get(auth.LOGIN_KEY),
        csrf_token=csrf.token() if session.get(auth.LOGIN_KEY) else "",
        **context,
    )
    return Response(body, status=status, mimetype="text/html")


# --- sign-in ----------------------------------------------------------------------------------


@blueprint.get("/login")
def login() -> Any:
    settings = settings_of(current_app)
    if not auth.oauth_configured(settings):
        return _page("signin_failed.html", 401, reason=NO_OAUTH)
    state = auth.new_state()
    session[auth.STATE_KEY] = state
    return redirect(auth.authorize_redirect(settings, _callback_url(), state))


@blueprint.get("/callback")
def callback() -> Any:
    settings = settings_of(current_app)
    expected = session.pop(auth.STATE_KEY, None)
    if not auth.states_match(expected, request.args.get("state")):
        log.warning("dashboard sign-in refused: the OAuth state does not match")
        return _page("signin_failed.html", 400, reason="the sign-in link expired; try again")
    code = request.args.get("code", "")
    if not code:
        reason = request.args.get("error_description") or "GitHub sent no code"
        return _page("signin_failed.html", 400, reason=reason)
    try:
        who = auth.login_for_code(settings, code, _callback_url())
    except auth.SignInError as exc:
        return _page("signin_failed.html", 502, reason=str(exc))
    if not auth.is_allowed(settings, who):
        log.warning("dashboard sign-in refused: %s is not in DASHBOARD_USERS", who)
        session.clear()
        return _page("forbidden.html", 403, who=who)
    target = session.pop(auth.NEXT_KEY, None)
    session.clear()
    session[auth.LOGIN_KEY] = who
    log.info("dashboard: %s signed in", who)
    return redirect(target if _is_local(target) else url_for("dashboard.overview"))


#: What /dashboard/login says when the App has no OAuth client to sign in with.
NO_OAUTH = (
    "sign in with a one-time link: run `fixwurx dashboard login` on the server "
    "(or set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET for Sign in with GitHub)"
)


@blueprint.get("/login/<token>")
def login_link(token: str) -> Any:
    """A one-time link from `fixwurx dashboard login`: signs its login in, once."""
    settings = settings_of(current_app)
    try:
        who = signin_link.redeem(settings, token)
    except signin_link.LinkRefused as exc:
        log.warning("dashboard sign-in link refused: %s", exc)
        return _page("signin_failed.html", 403, reason=str(exc))
    session.clear()
    session[auth.LOGIN_KEY] = who
    log.info("dashboard: %s signed in with a one-time link", who)
    return redirect(url_for("dashboard.overview"))


@blueprint.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("dashboard.login"))


def _callback_url() -> str:
    public = settings_of(current_app).public_url.rstrip("/")
    if public:
        return public + url_for("dashboard.callback")
    return url_for("dashboard.callback", _external=True)


def _is_local(target: Any) -> bool:
    return isinstance(target, str) and target.startswith("/dashboard") and "//" not in target


# --- pages ------------------------------------------------------------------------------------


def _url() -> str:
    return settings_of(current_app).database_url


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@blueprint.get("/")
def overview() -> Response:
    from redis.exceptions import RedisError

    from app.ops import metrics

    settings = settings_of(current_app)
    include_cli = request.args.get("cli") == "1"
    with session_scope(_url()) as db:
        data = queries.overview(db, _now(), include_cli=include_cli)
        sweeps = queries.sweeper_actions(db, _now() - SWEEPS_WINDOW)
        rollbacks = figures.rollback_figure(
            db, _now() - dt.timedelta(days=figures.ROLLBACK_WINDOW_DAYS)
        )
        rungs = figures.rung_costs(
            db, _now() - dt.timedelta(days=figures.RUNG_WINDOW_DAYS), include_cli=include_cli
        )
    try:
        snapshot: metrics.QueueSnapshot | None = metrics.queue_snapshot(settings.redis_url)
    except RedisError as exc:
        log.warning("dashboard: Redis unreadable (%s)", exc)
        snapshot = None
    chart = {
        "days": [d.day for d in data.days],
        "runs": [d.runs for d in data.days],
        "fixed": [d.fixed for d in data.days],
        "fix_rate": [None if d.fix_rate is None else round(d.fix_rate * 100, 1) for d in data.days],
        "cost": [round(d.cost_usd, 4) for d in data.days],
        "budget": settings.budget_repo_day_usd,
    }
    return _page(
        "overview.html",
        data=data,
        snapshot=snapshot,
        sweeps=sweeps,
        rollbacks=rollbacks,
        rungs=rungs,
        rollback_days=figures.ROLLBACK_WINDOW_DAYS,
        rung_days=figures.RUNG_WINDOW_DAYS,
        chart=chart,
        settings=settings,
        include_cli=include_cli,
    )


@blueprint.get("/runs")
def runs() -> Response:
    wanted = queries.RunFilter(
        repository=request.args.get("repository", "").strip(),
        status=request.args.get("status", "").strip(),
        kind=request.args.get("kind", "").strip(),
        since=_date_arg("since"),
        until=_date_arg("until"),
        before=request.args.get("before", type=int),
    )
    with session_scope(_url()) as db:
        page, names, cursor = queries.list_runs(db, wanted)
    args = {k: v for k, v in request.args.items() if k != "before" and v}
    return _page("runs.html", runs=page, names=names, cursor=cursor, wanted=wanted, args=args)


def _date_arg(name: str) -> dt.date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        abort(400, f"{name} must be a date like 2026-12-01")


@blueprint.get("/runs/<int:run_id>")
def run(run_id: int) -> Response:
    from app.chain.lineage import render_tree

    with session_scope(_url()) as db:
        detail = queries.run_detail(db, run_id)
    if detail is None:
        abort(404, f"run {run_id} does not exist")
    tree = render_tree(_url(), run_id) or ""
    live = detail.run.status in queries.LIVE_STATUSES
    return _page("run.html", d=detail, tree=tree, live=live, refresh_s=LIVE_REFRESH_S)


@blueprint.get("/runs/<int:run_id>/status")
def run_status(run_id: int) -> Response:
    """What the run page polls while a run is live."""
    with session_scope(_url()) as db:
        detail = queries.run_detail(db, run_id)
    if detail is None:
        abort(404)
    status = detail.run.status
    return jsonify(status=status, stage=detail.run.stage, live=status in queries.LIVE_STATUSES)


@blueprint.get("/repositories")
def repositories() -> Response:
    settings = settings_of(current_app)
    with session_scope(_url()) as db:
        rows = queries.repositories(db, _now())
    return _page("repositories.html", rows=rows, budget=settings.budget_repo_day_usd)


@blueprint.get("/deliveries")
def deliveries() -> Response:
    from app.ops import metrics

    with session_scope(_url()) as db:
        page, cursor = queries.deliveries(db, request.args.get("before", type=int))
    outcomes: dict[str, float] = {}
    for labels, value in metrics.counter_values("fixwurx_webhook_deliveries").items():
        outcome = dict(labels).get("outcome", "")
        outcomes[outcome] = outcomes.get(outcome, 0.0) + value
    unrecorded = queries.unrecorded_deliveries(settings_of(current_app).redis_url)
    return _page(
        "deliveries.html",
        deliveries=page,
        cursor=cursor,
        outcomes=outcomes,
        unrecorded=unrecorded,
        kept=queries.answered.MAX_ENTRIES,
    )


# --- template filters -------------------------------------------------------------------------

#: What a cell shows for a value that does not exist (yet).
EMPTY = "-"


@blueprint.app_template_filter("dash_pct")
def _pct(value: float | None) -> str:
    return EMPTY if value is None else f"{value * 100:.1f}%"


@blueprint.app_template_filter("dash_usd")
def _usd(value: float | None) -> str:
    return EMPTY if value is None else f"${value:,.2f}"


@blueprint.app_template_filter("dash_duration")
def _duration(seconds: float | None) -> str:
    if seconds is None:
        return EMPTY
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


@blueprint.app_template_filter("dash_time")
def _time(moment: dt.datetime | None) -> str:
    return EMPTY if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S")
