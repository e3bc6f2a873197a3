"""POST /webhooks/github: size cap, signature, headers, JSON, route, record, enqueue.

Every rejection is decided before the next, more expensive step: the size from the header (no
body read), the signature over the raw bytes (no parsing of unauthenticated input), then the
headers and the JSON. Bad input gets a 4xx with a message that names the problem; only a
database outage gets a 503, so GitHub marks the delivery failed and it can be redelivered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, g, request
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import DataError, SQLAlchemyError

from app import defaults
from app.config import settings_of
from app.db import session_scope
from app.models import Repository
from app.ops import metrics
from app.runs import answered
from webhooks import signature
from webhooks.hotpath import HotRedis
from webhooks.intake import accept
from webhooks.router import Context, Router, RouteResult

log = logging.getLogger(__name__)
blueprint = Blueprint("webhooks", __name__)

#: Reads happen in chunks this big, so an oversize chunked body is cut at the cap.
READ_CHUNK = 64 * 1024
#: Longest accepted X-GitHub-Delivery / X-GitHub-Event (the database columns are 64 wide).
MAX_HEADER_CHARS = 64
#: Exceptions a handler raises on a payload that lacks a field or has the wrong type.
PAYLOAD_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)


class Rejected(Exception):
    """A request we answer with an error status and message instead of processing."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@blueprint.errorhandler(Rejected)
def _rejected(exc: Rejected) -> Response:
    return _json(exc.status, error=exc.message)


@blueprint.post("/webhooks/github")
def github() -> Response:
    # The instrumentation's whole cost: a clock read, a counter inc, a histogram observe.
    started = time.perf_counter()
    reason = None
    try:
        response: Response = _handle()
    except Rejected as exc:
        response, reason = _rejected(exc), exc.message
    duplicate = response.status_code == 200 and b'"duplicate":true' in response.data
    outcome = metrics.delivery_outcome(response.status_code, duplicate)
    if outcome != "handled":  # a handled delivery is a row in `deliveries`
        _journal(response, outcome, reason or response.headers.get("X-FixWurx-Ignored"))
    metrics.observe_delivery(
        request.headers.get("X-GitHub-Event"), outcome, time.perf_counter() - started
    )
    return response


def _journal(response: Response, outcome: str, reason: str | None) -> None:
    """Note a delivery answered without a row (duplicate, ignored, unavailable, refused) in its
    capped stream (`app.runs.answered`): one Redis round trip, every field bounded, and a
    Redis failure costs the note, never the answer."""
    if outcome == "duplicate":
        reason = "redelivery of a delivery already recorded"
    command = answered.xadd_command(
        outcome,
        response.status_code,
        request.headers.get("X-GitHub-Delivery"),
        request.headers.get("X-GitHub-Event"),
        g.get("webhook_action"),
        reason,
        request.remote_addr,
    )
    if command is None:
        return
    try:
        _redis()(*command)
    except RedisError as exc:
        log.warning("could not note %s delivery in Redis (%s)", outcome, type(exc).__name__)


def _handle() -> Any:
    body = _read_body(defaults.MAX_WEBHOOK_BYTES)
    settings = settings_of(current_app)
    if not signature.is_valid(body, request.headers.get("X-Hub-Signature-256"), _secret()):
        raise Rejected(401, "missing or invalid X-Hub-Signature-256")
    event = _header("X-GitHub-Event")
    delivery_id = _header("X-GitHub-Delivery")
    payload = _parse(body)
    if event == "ping":
        return _json(200, ping="pong", zen=str(payload.get("zen", "")))
    action = payload.get("action") if isinstance(payload.get("action"), str) else None
    g.webhook_action = action
    outcome = _route(current_app.extensions["fixwurx.router"], event, action, payload, settings)
    if outcome is None:
        return _no_content(f"{event}.{action} is not handled")
    try:
        result = accept(
            settings.database_url,
            _redis(),
            delivery_id,
            event,
            action,
            outcome,
            sync_commit=settings.delivery_sync_commit,
        )
    except (DataError, OverflowError):
        # A value the columns cannot hold (an id beyond 64 bits): the payload is at fault.
        raise Rejected(400, "payload value out of range for the database") from None
    except SQLAlchemyError:
        log.exception("database unavailable while recording delivery %s", delivery_id)
        raise Rejected(503, "database unavailable; redeliver later") from None
    if result.ignored:
        return _no_content(result.ignored)
    return _json(200 if result.duplicate else 202, jobs=result.jobs, duplicate=result.duplicate)


def _read_body(cap: int) -> bytes:
    if request.content_length is not None and request.content_length > cap:
        raise Rejected(413, f"body of {request.content_length} bytes exceeds {cap}")
    chunks: list[bytes] = []
    size = 0
    while size <= cap:
        chunk = request.stream.read(min(READ_CHUNK, cap + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > cap:
        raise Rejected(413, f"body exceeds {cap} bytes")
    return b"".join(chunks)


def _secret() -> str:
    secret = settings_of(current_app).webhook_secret
    if not secret:
        log.error("WEBHOOK_SECRET is not set: every delivery is rejected; set it to the App's")
    return secret


def _header(name: str) -> str:
    value = request.headers.get(name, "").strip()
    if not value:
        raise Rejected(400, f"missing {name} header")
    if len(value) > MAX_HEADER_CHARS or not value.isprintable():
        raise Rejected(400, f"{name} header is not a valid value")
    return value


def _parse(body: bytes) -> dict[str, Any]:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:  # also invalid UTF-8
        raise Rejected(400, "body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise Rejected(400, "body is JSON but not an object")
    return payload


def _route(
    router: Router, event: str, action: str | None, payload: dict[str, Any], settings: Any
) -> RouteResult | None:
    handler = router.handler_for(event, action)
    if handler is None:
        return None
    try:
        context = Context(app_slug=settings.app_slug, repo_label=_label_lookup(settings))
        return handler(payload, context)
    except PAYLOAD_ERRORS as exc:
        raise Rejected(400, f"{event}.{action} payload is malformed: {exc!r}") from None


def _label_lookup(settings: Any) -> Callable[[int], str | None]:
    """The stored trigger label of a repository (one query, only for non-default labels)."""

    def lookup(repository_id: int) -> str | None:
        try:
            with session_scope(settings.database_url) as session:
                return session.scalar(
                    select(Repository.trigger_label).where(Repository.id == repository_id)
                )
        except SQLAlchemyError:
            # Not "unknown": that would drop a custom label's delivery for good. GitHub
            # redelivers a 503 once the database is back.
            log.exception("database unavailable while reading repository %s's label", repository_id)
            raise Rejected(503, "database unavailable; redeliver later") from None

    return lookup


def _json(status: int, **fields: Any) -> Response:
    """A JSON response, encoded with orjson (jsonify's provider machinery costs more)."""
    return Response(orjson.dumps(fields), status=status, mimetype="application/json")


def _no_content(reason: str) -> Response:
    response = Response(status=204)
    response.headers["X-FixWurx-Ignored"] = reason[:200]
    return response


def _redis() -> Callable[..., Any]:
    hot: HotRedis = current_app.extensions["fixwurx.redis"]
    return hot.execute
