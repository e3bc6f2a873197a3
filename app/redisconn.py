"""The one way FixWurx's own code opens a Redis client, and the two waits it may take.

Every client here bounds both the connect and each command: a hung or unreachable Redis must
fail a probe, a scrape or a job quickly (and retryably) rather than hold it until RQ's job limit.
The web tier's hot path keeps its own per-thread connections (`webhooks/hotpath.py`), and the RQ
worker's connection blocks on purpose (it waits for jobs); neither comes from here.
"""

from __future__ import annotations

from redis import Redis

#: Seconds a request-serving call may wait on Redis (the readiness probe, the metrics scrape,
#: the dashboard): an answer, even "unavailable", within the load balancer's patience.
WEB_TIMEOUT_S = 1.0
#: Seconds a job or an operator command may wait on Redis (the installation-token cache,
#: delivery recovery): long enough to ride out a busy Redis, short of any job limit.
WORK_TIMEOUT_S = 5.0


def redis_client(url: str, timeout: float) -> Redis:
    """A client for `url` whose connect and commands each give up after `timeout` seconds."""
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
