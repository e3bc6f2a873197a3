"""Deliveries answered without a database row: duplicates, ignored, unavailable and refused.

A handled delivery is a row in `deliveries`; the others used to leave no trace but a counter,
so the dashboard could not say which delivery was a duplicate or why one was ignored or refused.
They go to two capped Redis streams instead of the database, for two reasons:

- Refused requests (bad signature, malformed JSON, too large) come from anyone. A stream
  trimmed on every write (`XADD ... MAXLEN ~ N`) holds at most about N entries whatever the
  sender does, each field cut to a few dozen characters, so a flood costs a bounded amount of
  memory and never a database write. Refused entries have their own stream, so a flood of
  them cannot push the authenticated ones (duplicates, ignored) out.
- It is one Redis round trip, with no reply to wait on but Redis' own: on the webhook hot path
  every redelivery is a duplicate, and a database write there would cost as much as the
  delivery itself.

Entries are kept until trimmed (no TTL); `recent` reads the newest first. The web tier writes
through `xadd_command` (its per-thread Redis connections); the dashboard reads with redis-py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

#: The stream of authenticated deliveries answered without a row (duplicate, ignored,
#: unavailable) and the stream of refused requests (which anyone can send).
ANSWERED_KEY = "fixwurx:deliveries:answered"
REFUSED_KEY = "fixwurx:deliveries:refused"
#: About how many entries each stream keeps ("~" lets Redis trim whole nodes, which is cheap;
#: a stream may hold up to one node, 100 entries, more).
MAX_ENTRIES = 2000
#: Longest delivery id, event, action or client address stored (GitHub's are shorter).
FIELD_CHARS = 64
#: Longest reason stored.
REASON_CHARS = 200
#: Outcomes (as `app.ops.metrics.delivery_outcome` names them) that go to each stream.
AUTHENTICATED_OUTCOMES = frozenset({"duplicate", "ignored", "unavailable"})
REFUSED_OUTCOMES = frozenset({"refused"})


@dataclass(frozen=True)
class AnsweredDelivery:
    """One entry: what arrived, how it was answered, and why."""

    at: dt.datetime
    outcome: str
    status: int
    delivery_id: str
    event: str
    action: str
    reason: str
    client: str


def _clean(value: str | None, limit: int = FIELD_CHARS) -> str:
    """A header or reason as stored: printable characters only, cut to `limit`."""
    text = "" if value is None else str(value)[: limit * 4]
    return "".join(c if c.isprintable() else "?" for c in text)[:limit]


def stream_for(outcome: str) -> str | None:
    """The stream an answer with this outcome goes to; None for a handled delivery (a row)."""
    if outcome in AUTHENTICATED_OUTCOMES:
        return ANSWERED_KEY
    if outcome in REFUSED_OUTCOMES:
        return REFUSED_KEY
    return None


def xadd_command(
    outcome: str,
    status: int,
    delivery_id: str | None,
    event: str | None,
    action: str | None,
    reason: str | None,
    client: str | None,
) -> tuple[Any, ...] | None:
    """The XADD that records one answer (capped, every field bounded), or None for a handled
    delivery, which its database row records."""
    key = stream_for(outcome)
    if key is None:
        return None
    return (
        "XADD", key, "MAXLEN", "~", MAX_ENTRIES, "*",
        "outcome", outcome,
        "status", status,
        "delivery", _clean(delivery_id),
        "event", _clean(event),
        "action", _clean(action),
        "reason", _clean(reason, REASON_CHARS),
        "client", _clean(client),
    )  # fmt: skip


def recent(redis: Any, key: str, count: int) -> list[AnsweredDelivery]:
    """The newest `count` entries of stream `key`, newest first (raises RedisError)."""
    return [_entry(entry_id, fields) for entry_id, fields in redis.xrevrange(key, count=count)]


def _entry(entry_id: bytes | str, fields: dict[Any, Any]) -> AnsweredDelivery:
    text = {_text(k): _text(v) for k, v in fields.items()}
    millis = int(_text(entry_id).split("-", 1)[0])
    return AnsweredDelivery(
        at=dt.datetime.fromtimestamp(millis / 1000, dt.UTC),
        outcome=text.get("outcome", ""),
        status=int(text.get("status") or 0),
        delivery_id=text.get("delivery", ""),
        event=text.get("event", ""),
        action=text.get("action", ""),
        reason=text.get("reason", ""),
        client=text.get("client", ""),
    )


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
