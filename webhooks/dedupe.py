"""Redis fast path for redeliveries; the database's unique delivery id is the real guarantee.

A delivery id is first marked `pending` (short TTL), then `done` with its job ids once the
database has committed. Only `done` short-circuits a request: if the first request died between
the mark and the commit, a redelivery finds `pending`, falls through to the database, and is
either recorded (nothing was lost) or rejected by the unique constraint.
"""

from __future__ import annotations

import logging
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "fixwurx:delivery:"
#: A pending mark outlives any sane request, and then expires so it can never block anything.
PENDING_TTL_S = 300
#: GitHub lets an operator redeliver for days; after this the database still dedupes.
DONE_TTL_S = 3 * 24 * 3600
PENDING = b"pending"
DONE = b"done:"


def seen_jobs(conn: Redis, delivery_id: str) -> list[str] | None:
    """Job ids of an already-recorded delivery, or None when the database must decide.

    Marks an unseen delivery as pending. A Redis failure returns None: the fast path is an
    optimisation, so losing it must never lose a delivery.
    """
    key = PREFIX + delivery_id
    try:
        if conn.set(key, PENDING, nx=True, ex=PENDING_TTL_S):
            return None
        value = conn.get(key)
    except RedisError as exc:
        log.warning("redis fast path unavailable (%s); deduplicating in the database", exc)
        return None
    if isinstance(value, bytes) and value.startswith(DONE):
        return [j for j in value[len(DONE) :].decode().split(",") if j]
    return None


def mark_done(pipeline: Any, delivery_id: str, job_ids: list[str]) -> None:
    """Queue, on `pipeline`, the mark that short-circuits future redeliveries."""
    pipeline.set(PREFIX + delivery_id, DONE + ",".join(job_ids).encode(), ex=DONE_TTL_S)


def forget(conn: Redis, delivery_id: str) -> None:
    """Drop the pending mark after a failed attempt, so a redelivery is processed afresh."""
    try:
        conn.delete(PREFIX + delivery_id)
    except RedisError:
        log.warning("could not clear the pending mark of delivery %s", delivery_id)
