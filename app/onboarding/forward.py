"""A smee.io-compatible webhook forwarder for development: GitHub -> a public channel -> here.

smee.io (and self-hosted smee servers) take GitHub's delivery at a channel URL and stream it to
subscribers as Server-Sent Events: each `message` event's data is a JSON object whose
`body` is the parsed payload, `query` the query string, and every other key a request header
(lower-case: `x-github-event`, `x-github-delivery`, `x-hub-signature-256`, ...). This client
re-posts each one to the local receiver with those headers, as smee-client does. The body is
serialised the way smee-client does it (JavaScript's JSON.stringify: no spaces, UTF-8 as is),
which reproduces GitHub's bytes, so the HMAC signature still verifies; a `rawBody` string, when
the server sends one, is used verbatim.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

#: Keys of a smee message that are not headers.
NOT_HEADERS = frozenset({"body", "rawbody", "query", "timestamp", "host", "content-length"})
#: Seconds a forwarded POST may take, and the longest wait between reconnects.
POST_TIMEOUT_S = 30.0
MAX_BACKOFF_S = 30.0
#: Longest SSE line accepted (GitHub's deliveries are at most 25 MB).
MAX_LINE = 32 * 1024 * 1024


@dataclass
class Forwarded:
    """One delivery re-posted: what it was and what the receiver answered."""

    event: str
    delivery: str
    status: int


@dataclass
class Event:
    """One Server-Sent Event."""

    name: str = "message"
    data: list[str] = field(default_factory=list)


def events(stream: BinaryIO) -> Iterator[Event]:
    """The events of an SSE stream (comments and keep-alives skipped)."""
    current = Event()
    while True:
        raw = stream.readline(MAX_LINE)
        if not raw:
            return
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if current.data:
                yield current
            current = Event()
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            current.name = value
        elif name == "data":
            current.data.append(value)


def request_for(message: dict[str, Any], target: str) -> urllib.request.Request:
    """The POST smee-client would make for one message."""
    raw = message.get("rawBody")
    body = raw.encode("utf-8") if isinstance(raw, str) else _stringify(message.get("body"))
    headers = {
        key: str(value)
        for key, value in message.items()
        if key.lower() not in NOT_HEADERS and isinstance(value, str | int)
    }
    headers["content-type"] = "application/json"
    query = message.get("query") or {}
    url = target
    if isinstance(query, dict) and query:
        url += ("&" if "?" in target else "?") + urllib.parse.urlencode(query)
    return urllib.request.Request(url, data=body, headers=headers, method="POST")


def _stringify(body: Any) -> bytes:
    """JavaScript's JSON.stringify of the parsed body: compact, non-ASCII as is."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def post(request: urllib.request.Request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=POST_TIMEOUT_S) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def forward_stream(stream: BinaryIO, target: str, report: Callable[[Forwarded], None]) -> None:
    """Re-post every delivery on one open stream until it ends."""
    for event in events(stream):
        if event.name != "message":
            continue  # `ready`, `ping`: the channel's own
        try:
            message = json.loads("\n".join(event.data))
        except ValueError:
            log.warning("forward: an event that is not JSON was skipped")
            continue
        if not isinstance(message, dict):
            continue
        request = request_for(message, target)
        try:
            status = post(request)
        except (urllib.error.URLError, TimeoutError) as exc:
            log.warning("forward: %s is not answering (%s); delivery dropped", target, exc)
            status = 0
        report(Forwarded(str(message.get("x-github-event", "")), _delivery(message), status))


def _delivery(message: dict[str, Any]) -> str:
    return str(message.get("x-github-delivery", ""))


def run(
    source: str,
    target: str,
    report: Callable[[Forwarded], None],
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Subscribe to `source` and forward to `target`, reconnecting with backoff until stopped."""
    backoff = 1.0
    while not should_stop():
        request = urllib.request.Request(source, headers={"Accept": "text/event-stream"})
        try:
            with urllib.request.urlopen(request, timeout=MAX_BACKOFF_S * 4) as stream:
                backoff = 1.0
                forward_stream(stream, target, report)
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            log.warning("forward: %s: %s; reconnecting in %.0f s", source, exc, backoff)
        if should_stop():
            return
        time.sleep(backoff)
        backoff = min(backoff * 2, MAX_BACKOFF_S)
