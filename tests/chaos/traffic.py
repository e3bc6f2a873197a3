"""Deliveries that keep arriving while a chaos test breaks things, and the checks afterwards.

`Traffic` posts signed `issues.labeled` deliveries (each a new delivery id and issue number)
from a few threads over real HTTP, and records every answer with when its request was sent and
when the answer came (monotonic clock). A test classifies answers by those times against when
it stopped and restarted a service (`Answer.within`), never by how fast anything was: a
request sent before the stop can be processed after it. `check_exactly_one_job` is the promise the receiver
makes: each delivery it acknowledged is one run in the database and one job in Redis.
"""

from __future__ import annotations

import http.client
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from redis import Redis
from sqlalchemy import create_engine, text

from tests.fakes import webhooks as fake
from workers.queues import job_id

URL_PATH = "/webhooks/github"
#: Statuses that acknowledge a delivery: 202 (recorded), 200 (a duplicate of a recorded one).
ACKED = (200, 202)
#: Seconds a phase may take to see its deliveries before the test fails (never a verdict).
PHASE_TIMEOUT_S = 120.0


@dataclass
class Answer:
    delivery_id: str
    status: int  # 0: no HTTP answer at all (connection refused or reset)
    body: bytes
    sent_at: float
    answered_at: float

    def within(self, start: float, end: float) -> bool:
        """Sent and answered entirely between `start` and `end`."""
        return start < self.sent_at and self.answered_at < end


@dataclass
class Traffic:
    port: int
    secret: str
    threads: int = 3
    answers: list[Answer] = field(default_factory=list)
    sent: dict[str, bytes] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)
    _numbers: Counter[str] = field(default_factory=Counter)

    def start(self) -> Traffic:
        for _ in range(self.threads):
            worker = threading.Thread(target=self._run, daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(30)

    def sent_after(self, moment: float) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.sent_at > moment]

    def wait_for(self, answers: int, sent_after: float = 0.0) -> None:
        """Block until `answers` requests sent after `sent_after` were answered."""
        deadline = time.monotonic() + PHASE_TIMEOUT_S
        while len(self.sent_after(sent_after)) < answers:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(self.sent_after(sent_after))} answers")
            time.sleep(0.02)

    def between(self, start: float, end: float) -> list[Answer]:
        """Answers whose request was sent and answered entirely between `start` and `end`."""
        with self._lock:
            return [a for a in self.answers if a.within(start, end)]

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                self._numbers["issue"] += 1
                number = self._numbers["issue"]
            payload = fake.labeled_issue()
            payload["issue"] = {**payload["issue"], "number": number}
            sent = fake.delivery("issues", payload, self.secret, f"chaos-{uuid.uuid4()}")
            sent_at = time.monotonic()
            status, body = post(self.port, sent)
            answer = Answer(sent.delivery_id, status, body, sent_at, time.monotonic())
            with self._lock:
                self.sent[sent.delivery_id] = sent.body
                self.answers.append(answer)

    def redeliver(self, delivery_id: str) -> int:
        """Send one delivery again, as GitHub's redelivery (or `fixwurx deliveries recover`)."""
        body = self.sent[delivery_id]
        headers = fake.delivery_headers("issues", body, self.secret, delivery_id)
        return post(self.port, fake.Delivery("issues", body, headers))[0]


def post(port: int, sent: fake.Delivery) -> tuple[int, bytes]:
    """POST over a fresh connection; (0, error text) when no HTTP answer came at all."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", URL_PATH, body=sent.body, headers=sent.headers)
        response = conn.getresponse()
        return response.status, response.read()
    except OSError as exc:
        return 0, repr(exc).encode()
    finally:
        conn.close()


def stored_deliveries(database_url: str) -> dict[str, int]:
    """Delivery id -> number of runs recorded for it."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            ids = [d for (d,) in conn.execute(text("SELECT delivery_id FROM deliveries"))]
            runs = Counter(d for (d,) in conn.execute(text("SELECT delivery_id FROM runs")))
    finally:
        engine.dispose()
    return {d: runs[d] for d in ids}


def run_ids(database_url: str) -> dict[str, list[int]]:
    """Delivery id -> ids of its runs."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT delivery_id, id FROM runs")).all()
    finally:
        engine.dispose()
    found: dict[str, list[int]] = {}
    for delivery_id, run_id in rows:
        found.setdefault(delivery_id, []).append(int(run_id))
    return found


def queued_jobs(redis_url: str) -> Counter[str]:
    """Job id -> how many times it sits in any RQ queue."""
    conn = Redis.from_url(redis_url, decode_responses=True)
    try:
        names = conn.keys("rq:queue:*")
        return Counter(j for name in names for j in conn.lrange(name, 0, -1))
    finally:
        conn.close()


def check_exactly_one_job(database_url: str, redis_url: str, acked: set[str]) -> None:
    """Each acknowledged delivery is one run and one queued job; no job is queued twice."""
    runs = run_ids(database_url)
    jobs = queued_jobs(redis_url)
    assert not [d for d in acked if len(runs.get(d, [])) != 1], "a delivery without one run"
    assert not [d for d in acked if jobs[job_id(runs[d][0])] != 1], "a run without one job"
    assert not [j for j, n in jobs.items() if n > 1], "a job queued twice"
