"""Redis fast path for redeliveries; the database's unique delivery id is the real guarantee.

A delivery id is first marked `pending` (short TTL), then `done` with its job ids once the
database has committed. Only `done` short-circuits a request: if the first request died between
the mark and the commit, a redelivery finds `pending`, falls through to the database, and is
either recorded (nothing was lost) or rejected by the unique constraint.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError, ResponseError

from app.runs import mark_key
from workers.enqueue_script import Execute

log = logging.getLogger(__name__)

#: A pending mark outlives any sane request, and then expires so it can never block anything.
PENDING_TTL_S = 300
#: GitHub lets an operator redeliver for days; after this the database still dedupes.
DONE_TTL_S = 3 * 24 * 3600
PENDING = b"pending"
DONE = b"done:"


key = mark_key  # the key format belongs to the delivery record (app.runs)


def seen_jobs(execute: Execute, delivery_id: str) -> list[str] | None:
    """Job ids of an already-recorded delivery, or None when the database must decide.

    Marks an unseen delivery as pending, in one round trip (`SET NX GET` answers with the old
    value when there is one; Redis before 7.0 lacks it and gets SET NX, then GET). A Redis
    failure returns None: the fast path is an optimisation, so losing it must never lose a
    delivery.
    """
    try:
        value = _set_pending_or_get(execute, key(delivery_id))
    except RedisError as exc:
        log.warning("redis fast path unavailable (%s); deduplicating in the database", exc)
        return None
    if isinstance(value, bytes) and value.startswith(DONE):
        return [j for j in value[len(DONE) :].decode().split(",") if j]
    return None


#: Becomes True once Redis has refused SET NX GET, so later calls skip the failing try.
_nx_get_unsupported = False


def _set_pending_or_get(execute: Execute, name: str) -> Any:
    global _nx_get_unsupported
    if not _nx_get_unsupported:
        try:
            return execute("SET", name, PENDING, "NX", "GET", "EX", PENDING_TTL_S)
        except ResponseError:  # "syntax error": a Redis older than 7.0
            _nx_get_unsupported = True
    if execute("SET", name, PENDING, "NX", "EX", PENDING_TTL_S) is not None:
        return None
    return execute("GET", name)


def done_value(job_ids: list[str]) -> bytes:
    """The mark that short-circuits future redeliveries, naming the delivery's jobs."""
    return DONE + ",".join(job_ids).encode()


def forget(execute: Execute, delivery_id: str) -> None:
    """Drop the pending mark after a failed attempt, so a redelivery is processed afresh."""
    try:
        execute("DEL", key(delivery_id))
    except RedisError:
        log.warning("could not clear the pending mark of delivery %s", delivery_id)
