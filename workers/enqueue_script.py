"""Enqueue a delivery's jobs with one Redis script call: the web tier's cheap path to RQ.

Why not `Queue.enqueue_call` on the hot path: at 500 deliveries a second on two cores, RQ's
Python enqueue (a Job object, a ~20-field HSET packed argument by argument, a MULTI/EXEC
pipeline) cost more CPU than the rest of the request. This script writes the same job record,
registers the queue, pushes the job id, and sets the delivery's "done" mark, atomically and in
one round trip.

"The same job record" is kept true by construction and by tests: the fields that are equal for
every job of a queue (retries, TTLs, timeout, empty callback names, ...) are read once from RQ
itself, from a prototype job's `to_dict()`, so they follow the installed RQ version; only the id,
payload, description and timestamps vary per job, and those are built with the queues'
serializer (`queues.SERIALIZER`: JSON, never pickle) and RQ's time format.
tests/unit/workers/test_enqueue_script.py compares the hash with the one `enqueue_run` writes
and runs the job under a real RQ worker. Workers and the sweeper keep using
`workers.queues.enqueue_run`; nothing else needs the speed.
"""

from __future__ import annotations

import functools
import hashlib
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.exceptions import NoScriptError
from rq import Queue
from rq.job import Job
from rq.utils import now, utcformat

from workers import queues

#: Fields the script sets per job; every other field of RQ's record comes from the template.
PER_JOB_FIELDS = ("status", "created_at", "enqueued_at", "data", "description")

_SCRIPT = """
-- KEYS: [1] RQ's set of queue keys, [2] the delivery's dedupe mark, then per job:
--       the job hash key and the queue list key.
-- ARGV: [1] the mark's value, [2] its TTL in seconds, [3] the enqueue time, then per job:
--       job id, queue name, serialized call, description.
local templates = {TEMPLATES}
-- A job that already exists is left alone, so a retried call never queues a job twice.
local added = 0
for j = 0, (#KEYS - 2) / 2 - 1 do
    local job_key, queue_key = KEYS[3 + 2 * j], KEYS[4 + 2 * j]
    local id, queue = ARGV[4 + 4 * j], ARGV[5 + 4 * j]
    if redis.call('EXISTS', job_key) == 0 then
        redis.call('HSET', job_key, 'status', 'queued', 'created_at', ARGV[3],
            'enqueued_at', ARGV[3], 'data', ARGV[6 + 4 * j], 'description', ARGV[7 + 4 * j],
            unpack(templates[queue]))
        redis.call('SADD', KEYS[1], queue_key)
        redis.call('RPUSH', queue_key, id)
        added = added + 1
    end
end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])
return added
"""


@dataclass(frozen=True)
class ScriptJob:
    """One job for the script: which run, which queue, and how it is described."""

    run_id: int
    kind: str
    command: str | None = None


#: Runs one Redis command and returns the raw reply (`HotRedis.execute` in the web tier).
Execute = Callable[..., Any]


def enqueue_with_mark(
    execute: Execute, jobs: Sequence[ScriptJob], mark_key: str, mark_value: bytes, mark_ttl: int
) -> list[str]:
    """Enqueue `jobs` as RQ would and set `mark_key`, in one atomic call; returns the job ids.

    Like `enqueue_run`, call it only after the transaction that created the runs committed.
    Jobs whose id already exists are skipped, which makes a retried call harmless.
    """
    keys: list[Any] = [Queue.redis_queues_keys, mark_key]
    args: list[Any] = [mark_value, mark_ttl, utcformat(now())]
    for job in jobs:
        name = queues.queue_name(job.kind, job.command)
        job_id = queues.job_id(job.run_id)
        keys += [Job.redis_job_namespace_prefix + job_id, Queue.redis_queue_namespace_prefix + name]
        args += [
            job_id,
            name,
            serialized_call(job.run_id),
            queues.describe(job.run_id, job.kind, job.command),
        ]
    _run_script(execute, keys, args)
    return [queues.job_id(job.run_id) for job in jobs]


def serialized_call(run_id: int) -> bytes:
    """The `data` field RQ stores for `process_run(run_id)`: its serializer, then zlib."""
    call: tuple[str, None, tuple[int], dict[str, Any]] = (
        queues.PROCESS_RUN,
        None,
        (int(run_id),),
        {},
    )
    return zlib.compress(queues.SERIALIZER.dumps(call))


def template(queue: str) -> dict[str, str]:
    """The fields every job of `queue` shares, as RQ itself writes them (values as text)."""
    prototype = Job.create(
        queues.PROCESS_RUN,
        args=(0,),
        id=queues.job_id(0),
        connection=Redis(),  # never contacted: to_dict() reads only the object
        origin=queue,
        serializer=queues.SERIALIZER,
        **queues.job_options(queue),
    )
    record = prototype.to_dict()
    return {k: _text(v) for k, v in record.items() if k not in PER_JOB_FIELDS}


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


def _lua_string(value: str) -> str:
    """A Lua string literal for `value` (every byte outside a safe set escaped as \\ddd)."""
    safe = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _-.,:[]")
    return '"' + "".join(chr(b) if b in safe else f"\\{b:03d}" for b in value.encode()) + '"'


def script_source() -> str:
    """The Lua source, with each queue's template fields written in as constants."""
    entries = []
    for queue in queues.QUEUES:
        flat = [_lua_string(s) for pair in sorted(template(queue).items()) for s in pair]
        entries.append(f"[{_lua_string(queue)}] = {{{', '.join(flat)}}}")
    return _SCRIPT.replace("{TEMPLATES}", "{" + ", ".join(entries) + "}")


def prepare_script() -> None:
    """Build the script now rather than on the first enqueue (the result is cached)."""
    _compiled()


@functools.cache
def _compiled() -> tuple[str, str]:
    source = script_source()
    return source, hashlib.sha1(source.encode()).hexdigest()


def _run_script(execute: Execute, keys: list[Any], args: list[Any]) -> Any:
    """EVALSHA, loading the script first when this Redis has not seen it (or was flushed)."""
    source, sha = _compiled()
    try:
        return execute("EVALSHA", sha, len(keys), *keys, *args)
    except NoScriptError:
        execute("SCRIPT", "LOAD", source)
        return execute("EVALSHA", sha, len(keys), *keys, *args)
