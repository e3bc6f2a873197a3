"""Find the webhook deliveries GitHub sent but we do not hold, and have GitHub send them again.

GitHub never retries a failed delivery by itself. And on PostgreSQL the web tier commits a
delivery without waiting for the disk (`synchronous_commit = off`, webhooks/intake.py), so a
delivery we acknowledged with 202 is lost if the database server crashes in the ~0.6 s before
the WAL writer flushes it. GitHub keeps the other copy: a three-day log of the App's deliveries,
each attempt with the status our endpoint answered. Comparing that log with the `deliveries`
table finds what we missed, and GitHub's redeliver endpoint sends it again. Sending one twice is
harmless: the unique delivery id turns the second copy into a no-op.

`fixwurx deliveries recover` (app/commands/deliveries.py) drives this module.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from redis import Redis
from sqlalchemy import select

from app.db import session_scope
from app.errors import GitHubError
from app.github import constants
from app.github.auth import app_jwt
from app.github.client import http_session, parse_time
from app.models import Delivery
from app.runs import mark_key

#: Log entries per request: the most GitHub serves, so an hour of traffic takes fewest calls.
PER_PAGE = 100
#: Our endpoint records nothing, on purpose, when it answers 204 (an event or action we ignore)
#: or 200 to a ping (webhooks/view.py). A 200 to any other event means "duplicate", which holds
#: only while the row exists: without one, a Redis mark outlived a lost row.
IGNORED_STATUS = 204
PING = "ping"
_DURATION = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> dt.timedelta:
    """`30m`, `1h`, `2d` (or `90s`) as a timedelta; ValueError names the accepted forms."""
    found = _DURATION.fullmatch(text.strip().lower())
    if found is None or int(found[1]) == 0:
        raise ValueError(f"{text!r} is not a duration like 30m, 1h or 2d")
    return dt.timedelta(seconds=int(found[1]) * _UNIT_SECONDS[found[2]])


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One entry of GitHub's log: one attempt at sending the delivery `guid` to our endpoint."""

    id: int
    guid: str
    delivered_at: dt.datetime
    status_code: int
    status: str
    event: str
    action: str | None
    redelivery: bool

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> DeliveryAttempt:
        """An entry of `GET /app/hook/deliveries`."""
        return cls(
            id=int(item["id"]),
            guid=str(item["guid"]),
            delivered_at=parse_time(str(item["delivered_at"])),
            status_code=int(item["status_code"]),
            status=str(item.get("status") or ""),
            event=str(item["event"]),
            action=item.get("action"),
            redelivery=bool(item.get("redelivery")),
        )

    @property
    def kind(self) -> str:
        """`event.action`, or the event alone when it has no action (ping, push)."""
        return f"{self.event}.{self.action}" if self.action else self.event


class DeliveryLog:
    """GitHub's log of the App's webhook deliveries: list it, ask for a redelivery.

    Both endpoints take the App JWT. A fresh one is signed per request (about a millisecond),
    so a long listing never outlives the JWT's nine minutes.
    """

    def __init__(
        self,
        api_url: str,
        app_id: str,
        private_key: str,
        session: requests.Session | None = None,
    ) -> None:
        self._root = api_url.rstrip("/")
        self._app_id = app_id
        self._private_key = private_key
        self._session = session or http_session()

    def pages(self, since: dt.datetime) -> Iterator[list[DeliveryAttempt]]:
        """The attempts delivered at or after `since`, newest first, one page at a time."""
        url: str | None = f"{self._root}/app/hook/deliveries?per_page={PER_PAGE}"
        while url is not None:
            response = self._send("GET", url, "listing the App's webhook deliveries")
            attempts = [DeliveryAttempt.from_json(item) for item in _json_list(response)]
            recent = [a for a in attempts if a.delivered_at >= since]
            if recent:
                yield recent
            if len(recent) < len(attempts):
                return  # newest first: the rest of the log is older still
            url = self._next_page(response)

    def redeliver(self, attempt_id: int) -> None:
        """Ask GitHub to send the delivery of log entry `attempt_id` again (it answers 202)."""
        url = f"{self._root}/app/hook/deliveries/{attempt_id}/attempts"
        self._send("POST", url, f"redelivering log entry {attempt_id}")

    def _send(self, method: str, url: str, what: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {app_jwt(self._app_id, self._private_key)}"}
        try:
            response = self._session.request(
                method, url, headers=headers, timeout=constants.HTTP_TIMEOUT_S
            )
        except requests.RequestException as exc:
            # The exception's text is not shown: requests puts the whole URL and more in it.
            raise GitHubError(f"{what} at {self._root} failed: {type(exc).__name__}") from None
        if not 200 <= response.status_code < 300:
            raise GitHubError(
                f"{what} failed with HTTP {response.status_code}: {_message_of(response)}"
            )
        return response

    def _next_page(self, response: requests.Response) -> str | None:
        url = response.links.get("next", {}).get("url")
        if url is not None and not url.startswith(self._root + "/"):
            # The JWT goes with every request: never to a host other than GITHUB_API_URL's.
            raise GitHubError(f"GitHub's next-page link leaves {self._root}; not following it")
        return url


def _json_list(response: requests.Response) -> list[Mapping[str, Any]]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, list):
        raise GitHubError("GitHub answered the delivery listing with something other than a list")
    return data


def _message_of(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])[:200]
    return response.text[:200] or response.reason or "no message"


@dataclass
class Survey:
    """GitHub's attempts per delivery guid (newest first) and the guids our table holds."""

    attempts: dict[str, list[DeliveryAttempt]] = field(default_factory=dict)
    recorded: set[str] = field(default_factory=set)


def survey(pages: Iterable[Sequence[DeliveryAttempt]], database_url: str) -> Survey:
    """Group the log by guid, asking the database once per page which guids it holds."""
    found = Survey()
    for page in pages:
        unseen = {a.guid for a in page} - found.attempts.keys()
        found.recorded |= recorded_guids(database_url, unseen)
        for attempt in page:
            found.attempts.setdefault(attempt.guid, []).append(attempt)
    return found


def recorded_guids(database_url: str, guids: Iterable[str]) -> set[str]:
    """Which of `guids` the `deliveries` table holds, in one statement."""
    wanted = sorted(set(guids))
    if not wanted:
        return set()
    with session_scope(database_url) as session:
        query = select(Delivery.delivery_id).where(Delivery.delivery_id.in_(wanted))
        return set(session.scalars(query))


class DeliveryStatus(enum.Enum):
    """What one delivery needs, judged from its attempts and our table."""

    RECORDED = "recorded"
    ANSWERED = "answered without a row on purpose"
    REFUSED = "refused"
    MISSING = "missing"


def latest(attempts: Iterable[DeliveryAttempt]) -> DeliveryAttempt:
    """The most recent attempt (the log's order is not relied on)."""
    return max(attempts, key=lambda a: (a.delivered_at, a.id))


def decide(attempts: Sequence[DeliveryAttempt], recorded: bool) -> DeliveryStatus:
    """RECORDED or ANSWERED need nothing; REFUSED would be refused again; MISSING is lost."""
    if recorded:
        return DeliveryStatus.RECORDED
    if any(_answered_without_row(a) for a in attempts):
        return DeliveryStatus.ANSWERED
    if 400 <= latest(attempts).status_code < 500:
        return DeliveryStatus.REFUSED
    # 202 with no row (lost after the acknowledgement), 200 "duplicate" with no row (a stale
    # Redis mark outlived the lost row), 5xx, or never delivered (status code 0, timed out).
    return DeliveryStatus.MISSING


def _answered_without_row(attempt: DeliveryAttempt) -> bool:
    return attempt.status_code == IGNORED_STATUS or (
        attempt.status_code == 200 and attempt.event == PING
    )


class Action(enum.Enum):
    """What `act` did about one delivery."""

    REFUSED = "refused"
    REDELIVERED = "redelivered"
    WOULD_REDELIVER = "would redeliver"
    FAILED = "redelivery failed"


@dataclass(frozen=True)
class Finding:
    """One delivery that needed attention, the attempt it was judged by, and what was done."""

    guid: str
    latest: DeliveryAttempt
    action: Action
    detail: str = ""


def act(found: Survey, log: DeliveryLog, redis: Redis | None) -> Iterator[Finding]:
    """Redeliver every MISSING delivery, oldest first; report REFUSED ones. No redis: dry run.

    Oldest first so that our endpoint sees the events again in the order they happened (a
    label added, then removed).
    """
    for guid, attempts in reversed(found.attempts.items()):
        verdict = decide(attempts, guid in found.recorded)
        newest = latest(attempts)
        if verdict is DeliveryStatus.REFUSED:
            yield Finding(guid, newest, Action.REFUSED)
        elif verdict is DeliveryStatus.MISSING:
            yield _redeliver(guid, newest, log, redis)


def _redeliver(
    guid: str, newest: DeliveryAttempt, log: DeliveryLog, redis: Redis | None
) -> Finding:
    if redis is None:
        return Finding(guid, newest, Action.WOULD_REDELIVER)
    # A stale "done" mark would make our endpoint answer "duplicate" and drop the redelivery.
    # A Redis error propagates: redelivering past a mark we could not clear would lose it again.
    redis.delete(mark_key(guid))
    try:
        log.redeliver(newest.id)
    except GitHubError as exc:
        return Finding(guid, newest, Action.FAILED, str(exc))
    return Finding(guid, newest, Action.REDELIVERED)
