"""The webhook ingress end to end: signed real payloads -> Flask -> database + Redis (RQ).

Runs on SQLite and PostgreSQL (fixture `database_url`) against a private Redis. Covers every
bad-input case of issue 4, redelivery (sequential and concurrent), Redis and database outages,
and installation changes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue
from sqlalchemy import event as orm_events
from sqlalchemy import func, select, text, update
from werkzeug.serving import make_server

from app import defaults, runs
from app.config import Settings
from app.db import get_engine, session_scope
from app.models import Delivery, Repository, Run
from tests.fakes import webhooks as fake
from tests.fakes.loopback import free_port, wait_for_port
from webhooks import create_app, dedupe, intake
from workers import queues, sweeper

SECRET = "ingress-test-secret"
URL = "/webhooks/github"


def make_app(database_url: str, redis_url: str, **extra: Any) -> Flask:
    config = {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WEBHOOK_SECRET": SECRET,
        "SENTRY_DSN": "",
        **extra,
    }
    return create_app(config)


@pytest.fixture
def client(database_url: str, redis_url: str, redis_conn: Redis) -> FlaskClient:
    return make_app(database_url, redis_url).test_client()


@pytest.fixture(scope="module")
def edge_client(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> FlaskClient:
    """For checks decided before a row is written: one SQLite app, to keep the suite fast."""
    from sqlalchemy import create_engine

    from app.models import Base

    url = f"sqlite:///{tmp_path_factory.mktemp('edge') / 'edge.sqlite3'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return make_app(url, redis_url).test_client()


def send(
    client: FlaskClient, event: str, payload: dict[str, Any], delivery_id: str | None = None
) -> Any:
    sent = fake.delivery(event, payload, SECRET, delivery_id)
    return client.post(URL, data=sent.body, headers=sent.headers)


def queued_job_ids(conn: Redis, name: str = queues.DEFAULT) -> list[str]:
    return list(Queue(name, connection=conn).get_job_ids())


def count_runs(database_url: str) -> int:
    with session_scope(database_url) as session:
        return int(session.scalar(select(func.count(Run.id))) or 0)


# --- the happy paths ------------------------------------------------------------------------


def test_labeled_issue_is_recorded_then_enqueued(
    client: FlaskClient, database_url: str, redis_conn: Redis
) -> None:
    payload = fake.labeled_issue()
    response = send(client, "issues", payload, "delivery-1")
    assert response.status_code == 202
    (job,) = response.get_json()["jobs"]
    with session_scope(database_url) as session:
        run = session.scalar(select(Run))
        assert run is not None
        assert (run.kind, run.trigger, run.status) == ("issue", "issues.labeled", "queued")
        assert run.issue_number == payload["issue"]["number"]
        assert run.repository_id == payload["repository"]["id"]
        assert run.requested_by == payload["sender"]["login"]
        assert run.delivery_id == "delivery-1"
        assert job == queues.job_id(run.id)
    assert queued_job_ids(redis_conn) == [job]
    enqueued = Queue(queues.DEFAULT, connection=redis_conn, serializer=queues.SERIALIZER).fetch_job(
        job
    )
    assert enqueued is not None and enqueued.args == [int(job.removeprefix("run-"))]  # JSON
    assert enqueued.func_name == "workers.jobs.process_run"


def test_each_trigger_lands_on_its_priority_queue(
    client: FlaskClient, database_url: str, redis_conn: Redis
) -> None:
    send(client, "issues", fake.labeled_issue(), "d-issue")  # records the repository
    cases = [
        ("issues", fake.labeled_issue(issue={"number": 7}), queues.DEFAULT),
        ("issue_comment", fake.command_comment("/fixwurx status"), queues.HIGH),
        (
            "issue_comment",
            fake.command_comment("@fixwurx fix", on_pull_request=True),
            queues.DEFAULT,
        ),
        ("check_suite", fake.failing_check_suite(), queues.LOW),
        ("workflow_run", fake.failing_workflow_run("timed_out"), queues.LOW),
        ("pull_request", fake.merged_pull_request(), queues.DEFAULT),
    ]
    for event, payload, queue in cases:
        response = send(client, event, payload)
        assert response.status_code == 202, (event, response.get_data())
        assert response.get_json()["jobs"][0] in queued_job_ids(redis_conn, queue), event
    assert count_runs(database_url) == len(cases) + 1


def test_redelivery_is_acknowledged_and_enqueues_nothing(
    client: FlaskClient, database_url: str, redis_conn: Redis
) -> None:
    payload = fake.labeled_issue()
    first = send(client, "issues", payload, "same-delivery")
    again = send(client, "issues", payload, "same-delivery")
    assert again.status_code == 200
    assert again.get_json() == {"jobs": first.get_json()["jobs"], "duplicate": True}
    redis_conn.delete(dedupe.key("same-delivery"))  # lose the fast path: the database decides
    third = send(client, "issues", payload, "same-delivery")
    assert third.status_code == 200 and third.get_json()["jobs"] == first.get_json()["jobs"]
    assert count_runs(database_url) == 1
    assert len(queued_job_ids(redis_conn)) == 1


def test_concurrent_redeliveries_record_one_run(
    database_url: str, redis_url: str, redis_conn: Redis
) -> None:
    app = make_app(database_url, redis_url)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}{URL}"
        fake.post(url, fake.delivery("issues", fake.labeled_issue(), SECRET))  # known repo
        sent = fake.delivery("issues", fake.labeled_issue(issue={"number": 9}), SECRET, "race")
        with ThreadPoolExecutor(8) as pool:
            statuses = sorted(s for s, _ in pool.map(lambda _: fake.post(url, sent), range(8)))
    finally:
        server.shutdown()
    assert statuses.count(202) == 1 and statuses.count(200) == 7, statuses
    with session_scope(database_url) as session:
        assert session.scalar(select(func.count(Run.id)).where(Run.delivery_id == "race")) == 1
    assert len(queued_job_ids(redis_conn)) == 2


def test_ping_and_unhandled_events(edge_client: FlaskClient, redis_conn: Redis) -> None:
    ping = send(edge_client, "ping", fake.example("ping"))
    assert ping.status_code == 200 and ping.get_json()["ping"] == "pong"
    assert send(edge_client, "issues", fake.example("issues", "opened")).status_code == 204
    assert send(edge_client, "push", {"ref": "refs/heads/main"}).status_code == 204
    ignored = send(edge_client, "issues", fake.labeled_issue(**fake.bot_sender()))
    assert ignored.status_code == 204 and "bot" in ignored.headers["X-FixWurx-Ignored"]
    assert queued_job_ids(redis_conn) == []


# --- bad input: never a 500 --------------------------------------------------------------------


def post_raw(client: FlaskClient, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(URL, data=body, headers=headers)


def signed(body: bytes, event: str = "issues", delivery: str = "d-bad") -> dict[str, str]:
    return fake.delivery_headers(event, body, SECRET, delivery)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda h: h.pop("X-Hub-Signature-256"),
        lambda h: h.update({"X-Hub-Signature-256": fake.sign(b"other", SECRET)}),
        lambda h: h.update({"X-Hub-Signature-256": fake.sign(b"{}", "wrong-secret")}),
        lambda h: h.update({"X-Hub-Signature-256": "sha256=zz"}),
    ],
    ids=["missing", "other-body", "wrong-secret", "garbage"],
)
def test_missing_or_wrong_signature_is_401(edge_client: FlaskClient, mutate: Any) -> None:
    body = json.dumps(fake.labeled_issue()).encode()
    headers = signed(body)
    mutate(headers)
    response = post_raw(edge_client, body, headers)
    assert response.status_code == 401
    assert "X-Hub-Signature-256" in response.get_json()["error"]


def test_signature_is_checked_before_parsing(edge_client: FlaskClient) -> None:
    headers = signed(b"{}")
    headers.pop("X-GitHub-Event")
    response = post_raw(edge_client, b"not json at all", {**headers, "X-Hub-Signature-256": "x"})
    assert response.status_code == 401


def test_unset_webhook_secret_rejects_everything(tmp_path: Path, redis_url: str) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'x.sqlite3'}", redis_url, WEBHOOK_SECRET="")
    client = app.test_client()
    body = b"{}"
    response = post_raw(client, body, fake.delivery_headers("ping", body, ""))
    assert response.status_code == 401


@pytest.mark.parametrize("header", ["X-GitHub-Event", "X-GitHub-Delivery"])
def test_missing_event_or_delivery_header_is_400(edge_client: FlaskClient, header: str) -> None:
    body = json.dumps(fake.labeled_issue()).encode()
    headers = signed(body)
    headers.pop(header)
    response = post_raw(edge_client, body, headers)
    assert response.status_code == 400 and header in response.get_json()["error"]


def test_overlong_delivery_id_is_400(edge_client: FlaskClient) -> None:
    body = json.dumps(fake.labeled_issue()).encode()
    response = post_raw(edge_client, body, signed(body, delivery="x" * 65))
    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"a string"', b"null"],
    ids=["broken", "empty", "not-utf8", "array", "string", "null"],
)
def test_malformed_json_is_400(edge_client: FlaskClient, body: bytes) -> None:
    response = post_raw(edge_client, body, signed(body))
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("event", "payload"),
    [
        ("issues", {**fake.labeled_issue(), "issue": None}),
        ("issues", {**fake.labeled_issue(), "repository": {"id": "x", "full_name": 3}}),
        ("issue_comment", {**fake.command_comment(), "comment": "text"}),
        ("check_suite", {**fake.failing_check_suite(), "check_suite": []}),
        ("installation", {"action": "created", "installation": {}}),
        ("issues", fake.merge(fake.labeled_issue(), {"repository": {"id": 2**70}})),
        ("issues", fake.merge(fake.labeled_issue(), {"issue": {"number": 2**70}})),
        ("issues", {**fake.labeled_issue(), "sender": "octocat"}),
    ],
    ids=[
        "null-issue",
        "bad-repo",
        "comment-str",
        "suite-list",
        "no-inst-id",
        "repo-id-overflow",
        "issue-number-overflow",
        "sender-str",
    ],
)
def test_payloads_of_the_wrong_shape_are_400(
    client: FlaskClient, event: str, payload: dict[str, Any]
) -> None:
    body = json.dumps(payload).encode()
    response = post_raw(client, body, signed(body, event))
    assert response.status_code == 400, response.get_data()


def test_a_bare_payload_is_ignored_not_an_error(edge_client: FlaskClient) -> None:
    body = json.dumps({"action": "labeled"}).encode()
    response = post_raw(edge_client, body, signed(body, "issues"))
    assert response.status_code == 204
    assert response.headers["X-FixWurx-Ignored"] == "payload has no installation"


def test_body_over_the_cap_is_413(
    edge_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = json.dumps(fake.labeled_issue()).encode()
    declared = edge_client.post(
        URL,
        data=body,
        headers=signed(body),
        environ_overrides={"CONTENT_LENGTH": str(defaults.MAX_WEBHOOK_BYTES + 1)},
    )
    assert declared.status_code == 413
    monkeypatch.setattr(defaults, "MAX_WEBHOOK_BYTES", len(body) - 1)
    assert post_raw(edge_client, body, signed(body)).status_code == 413


def test_oversize_body_is_refused_without_reading_it(tmp_path: Path, redis_url: str) -> None:
    """Over a real socket: declare 26 MB, send 10 bytes; the answer comes without the rest."""
    app = make_app(f"sqlite:///{tmp_path / 'x.sqlite3'}", redis_url)
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with socket.create_connection(("127.0.0.1", server.server_port), timeout=5) as sock:
            head = (
                f"POST {URL} HTTP/1.1\r\nHost: x\r\nContent-Length: {26 * 1024 * 1024}\r\n"
                "X-GitHub-Event: issues\r\nX-GitHub-Delivery: big\r\n\r\n"
            )
            sock.sendall(head.encode() + b"0123456789")
            reply = sock.recv(4096)
    finally:
        server.shutdown()
    assert reply.startswith(b"HTTP/1.1 413")


def test_wrong_method_is_405(edge_client: FlaskClient) -> None:
    assert edge_client.get(URL).status_code == 405


# --- outages ---------------------------------------------------------------------------------


def test_redis_down_still_commits_and_the_sweeper_enqueues_later(
    database_url: str, redis_url: str, redis_conn: Redis
) -> None:
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    client = make_app(database_url, dead_redis).test_client()
    response = send(client, "issues", fake.labeled_issue(), "while-redis-down")
    assert response.status_code == 202
    (job,) = response.get_json()["jobs"]
    assert queued_job_ids(redis_conn) == []
    with session_scope(database_url) as session:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=runs.ENQUEUE_GRACE_S + 1)
        session.execute(update(Run).values(created_at=past))
    report = sweeper.sweep(Settings(database_url=database_url, redis_url=redis_url), redis_conn)
    assert [queues.job_id(r) for r in report.enqueued] == [job]
    assert queued_job_ids(redis_conn) == [job]


def test_database_down_is_503_and_a_redelivery_is_processed(
    database_url: str, redis_url: str, redis_conn: Redis
) -> None:
    dead_db = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nope"
    down = make_app(dead_db, redis_url).test_client()
    assert send(down, "issues", fake.labeled_issue(), "retry-me").status_code == 503
    assert redis_conn.get(dedupe.key("retry-me")) is None
    up = make_app(database_url, redis_url).test_client()
    assert send(up, "issues", fake.labeled_issue(), "retry-me").status_code == 202


# --- installations ---------------------------------------------------------------------------


def test_installation_events_gate_later_deliveries(
    client: FlaskClient, database_url: str, redis_conn: Redis
) -> None:
    payload = fake.labeled_issue()
    repo = {"id": payload["repository"]["id"], "full_name": payload["repository"]["full_name"]}
    inst_id = payload["installation"]["id"]
    base = fake.example("installation_repositories", "added")
    added = fake.merge(base, {"installation": {"id": inst_id}})
    added["repositories_added"] = [{**base["repositories_added"][0], **repo}]
    assert send(client, "installation_repositories", added).status_code == 202
    with session_scope(database_url) as session:
        row = session.get(Repository, repo["id"])
        assert row is not None and row.active
    assert send(client, "issues", payload).status_code == 202

    removed = {**added, "action": "removed", "repositories_added": []}
    removed["repositories_removed"] = added["repositories_added"]
    fake.validate("installation_repositories", removed)
    assert send(client, "installation_repositories", removed).status_code == 202
    response = send(client, "issues", payload, "after-removal")
    assert response.status_code == 204
    assert response.headers["X-FixWurx-Ignored"] == "repository not installed"
    with session_scope(database_url) as session:
        delivery = session.scalar(select(Delivery).where(Delivery.delivery_id == "after-removal"))
        assert delivery is not None and delivery.outcome == "ignored"
        # The addition read the new repository's config (one run), then the label's run.
        kinds = session.scalars(select(Run.kind).order_by(Run.id)).all()
    assert kinds == ["config", "issue"]


def test_suspended_installation_is_ignored(client: FlaskClient, database_url: str) -> None:
    payload = fake.labeled_issue()
    assert send(client, "issues", payload).status_code == 202
    suspend = fake.example("installation", "suspend")
    suspend["installation"]["id"] = payload["installation"]["id"]
    assert send(client, "installation", suspend).status_code == 202
    assert send(client, "issues", payload).status_code == 204
    unsuspend = fake.example("installation", "unsuspend")
    unsuspend["installation"]["id"] = payload["installation"]["id"]
    assert send(client, "installation", unsuspend).status_code == 202
    assert send(client, "issues", payload).status_code == 202


# --- the real server -------------------------------------------------------------------------


def test_fixwurx_serve_runs_gunicorn_that_answers_signed_deliveries(
    tmp_path: Path, redis_url: str, redis_conn: Redis
) -> None:
    from app.ops.migrate import upgrade

    database_url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    upgrade(database_url)  # what the Procfile's release step does
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WEBHOOK_SECRET": SECRET,
        "SENTRY_DSN": "",
    }
    fixwurx = str(Path(sys.executable).parent / "fixwurx")
    argv = [fixwurx, "serve", "--port", str(port), "--workers", "1", "--threads", "2"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, 20.0, proc)
        url = f"http://127.0.0.1:{port}{URL}"
        status, body = fake.post(url, fake.delivery("issues", fake.labeled_issue(), SECRET))
        assert status == 202 and json.loads(body)["jobs"] == queued_job_ids(redis_conn)
        status, _ = fake.post(url, fake.delivery("issues", fake.labeled_issue(), "wrong"))
        assert status == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)


def test_hot_path_survives_a_database_restart_of_its_connections(
    client: FlaskClient, database_url: str, redis_conn: Redis
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the one-statement hot path is PostgreSQL's")
    assert send(client, "issues", fake.labeled_issue(), "before").status_code == 202
    assert send(client, "issues", fake.labeled_issue(), "hot").status_code == 202
    with session_scope(database_url) as session:  # what a server restart does to clients
        session.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    assert send(client, "issues", fake.labeled_issue(), "after").status_code == 202
    assert count_runs(database_url) == 3


@pytest.mark.parametrize("sync_commit", [False, True])
def test_delivery_commits_wait_for_the_disk_only_when_configured(
    database_url: str, redis_url: str, redis_conn: Redis, sync_commit: bool
) -> None:
    """Both paths: the first delivery of an unknown repository takes the pooled one (it records
    the repository), the next one the hot per-thread connection."""
    if not database_url.startswith("postgresql"):
        pytest.skip("synchronous_commit is PostgreSQL's")
    extra = {"DELIVERY_SYNC_COMMIT": "1"} if sync_commit else {}
    client = make_app(database_url, redis_url, **extra).test_client()
    pooled: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        pooled.append(statement)

    engine = get_engine(database_url)
    orm_events.listen(engine, "before_cursor_execute", remember)
    try:
        first = fake.labeled_issue()
        # A repository unknown here: the pooled path.
        first["repository"].update(id=4_000_000 + sync_commit, full_name=f"o/commit-{sync_commit}")
        assert send(client, "issues", first, f"pooled-{sync_commit}").status_code == 202
    finally:
        orm_events.remove(engine, "before_cursor_execute", remember)
    assert ("SET LOCAL synchronous_commit = off" in pooled) is not sync_commit
    assert send(client, "issues", first, f"hot-{sync_commit}").status_code == 202
    # The Flask test client serves in this thread, so this is the connection that recorded it.
    hot = intake._hot_statement(database_url, sync_commit)
    assert hot is not None
    assert hot("SHOW synchronous_commit", {})[0] == ("on" if sync_commit else "off")


def test_renamed_and_recreated_repositories_keep_being_served(
    client: FlaskClient, database_url: str, redis_conn: Redis
) -> None:
    """Ids are identities, names are not: a rename is stored (jobs call GitHub by name), and a new
    repository under a name another id still holds is recorded, not answered 503."""

    def labeled(repo_id: int, name: str) -> dict[str, Any]:
        payload = fake.labeled_issue()
        payload["repository"].update(id=repo_id, full_name=name)
        return payload

    def names() -> dict[int, str]:
        with session_scope(database_url) as session:
            rows = session.execute(
                select(Repository.id, Repository.full_name).where(Repository.id > 5_000_000)
            )
            return {int(i): str(n) for i, n in rows}

    assert send(client, "issues", labeled(5_000_001, "o/app"), "first").status_code == 202
    assert send(client, "issues", labeled(5_000_001, "o/app2"), "renamed").status_code == 202
    assert names() == {5_000_001: "o/app2"}
    # A new repository takes the name (the old one was deleted, or renamed without a delivery).
    assert send(client, "issues", labeled(5_000_002, "o/app2"), "recreated").status_code == 202
    assert send(client, "issues", labeled(5_000_002, "o/app2"), "again").status_code == 202
    assert names() == {5_000_001: "o/app2", 5_000_002: "o/app2"}
    assert count_runs(database_url) == 4


# --- a custom trigger label -----------------------------------------------------------------


def test_the_stored_trigger_label_filters_label_events(
    client: FlaskClient, database_url: str, redis_conn: Redis
) -> None:
    first = fake.labeled_issue("autofix")
    # Nothing stored yet: only the default label may trigger (the config read will tell).
    assert send(client, "issues", first, "label-1").status_code == 204
    assert send(client, "issues", fake.labeled_issue("fixwurx"), "label-0").status_code == 202
    with session_scope(database_url) as session:
        repository = session.get_one(Repository, first["repository"]["id"])
        repository.trigger_label = "autofix"  # what a job stores after reading the config
    assert send(client, "issues", fake.labeled_issue("bug"), "label-2").status_code == 204
    assert send(client, "issues", fake.labeled_issue("AutoFix"), "label-3").status_code == 202
    assert count_runs(database_url) == 2


def test_a_label_lookup_without_a_database_answers_503_not_ignored(
    tmp_path: Path, redis_url: str, redis_conn: Redis
) -> None:
    # No tables: the lookup of a custom label fails. Answering 204 ("not the trigger label")
    # would lose the delivery for good; a 503 has GitHub send it again.
    broken = make_app(f"sqlite:///{tmp_path / 'empty.sqlite3'}", redis_url).test_client()
    response = send(broken, "issues", fake.labeled_issue("autofix"), "no-db")
    assert response.status_code == 503
    assert "database unavailable" in response.get_json()["error"]
