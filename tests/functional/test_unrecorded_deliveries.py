"""Deliveries answered without a database row (duplicate, ignored, refused) are noted in capped
Redis streams and listed on the dashboard's deliveries page; what a stranger can write there is
bounded in count and size."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from redis import Redis

from app import defaults
from app.runs import answered
from tests.fakes import webhooks as fake
from tests.fakes.github import FakeGitHub
from tests.fakes.github.fixtures import fake_github
from tests.functional.test_dashboard import dashboard_config, sign_in
from webhooks import create_app

__all__ = ["fake_github"]

SECRET = "journal-secret"
URL = "/webhooks/github"


@pytest.fixture
def client(
    tmp_path: Any, redis_url: str, redis_conn: Redis, fake_github: FakeGitHub
) -> FlaskClient:
    from sqlalchemy import create_engine

    from app.models import Base

    url = f"sqlite:///{tmp_path / 'journal.sqlite3'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    config = dashboard_config(url, redis_url, fake_github, WEBHOOK_SECRET=SECRET)
    return create_app(config).test_client()


def send(client: FlaskClient, sent: fake.Delivery, **headers: str) -> int:
    return client.post(URL, data=sent.body, headers={**sent.headers, **headers}).status_code


def test_duplicates_ignored_and_refused_deliveries_are_noted_and_listed(
    client: FlaskClient, redis_conn: Redis, fake_github: FakeGitHub
) -> None:
    labeled = fake.delivery("issues", fake.labeled_issue(), SECRET, "dlv-first")
    assert send(client, labeled) == 202
    assert send(client, labeled) == 200  # GitHub's redelivery
    assert send(client, fake.delivery("star", {"action": "created"}, SECRET, "dlv-star")) == 204
    forged = fake.delivery("issues", fake.labeled_issue(), "not-the-secret", "dlv-forged")
    assert send(client, forged) == 401
    garbage = b"{not json"
    assert (
        client.post(
            URL, data=garbage, headers=fake.delivery_headers("issues", garbage, SECRET, "dlv-bad")
        ).status_code
        == 400
    )
    huge = b" " * (defaults.MAX_WEBHOOK_BYTES + 1)
    assert (
        client.post(
            URL, data=huge, headers=fake.delivery_headers("issues", b"", SECRET, "dlv-huge")
        ).status_code
        == 413
    )

    noted = answered.recent(redis_conn, answered.ANSWERED_KEY, 10)
    assert [(d.delivery_id, d.outcome, d.status) for d in noted] == [
        ("dlv-star", "ignored", 204),
        ("dlv-first", "duplicate", 200),
    ]
    assert noted[0].reason == "star.created is not handled" and noted[0].action == "created"
    assert noted[1].event == "issues" and noted[1].action == "labeled"
    refused = {d.delivery_id: d for d in answered.recent(redis_conn, answered.REFUSED_KEY, 10)}
    assert {k: (d.status, d.outcome) for k, d in refused.items()} == {
        "dlv-huge": (413, "refused"),
        "dlv-bad": (400, "refused"),
        "dlv-forged": (401, "refused"),
    }
    assert "X-Hub-Signature-256" in refused["dlv-forged"].reason
    assert "not valid JSON" in refused["dlv-bad"].reason
    assert "exceeds" in refused["dlv-huge"].reason

    sign_in(client, fake_github, "octocat")
    page = client.get("/dashboard/deliveries").get_data(as_text=True)
    answered_part = page.split('data-testid="answered-deliveries"')[1].split("</table>")[0]
    refused_part = page.split('data-testid="refused-deliveries"')[1].split("</table>")[0]
    assert "dlv-first" in answered_part and "duplicate" in answered_part
    assert "star.created is not handled" in answered_part
    assert "dlv-forged" in refused_part and "invalid X-Hub-Signature-256" in refused_part
    assert "dlv-bad" in refused_part and "dlv-huge" in refused_part
    assert "dlv-first" in page.split('data-testid="deliveries"')[1].split("</table>")[0]


def test_what_a_stranger_writes_is_bounded_in_size_and_count(
    client: FlaskClient, redis_conn: Redis
) -> None:
    body = b"{}"
    headers = fake.delivery_headers("issues\u0007", body, "wrong", "x" * 60 + "\u0000" * 10)
    headers["X-GitHub-Event"] = "e" * 5000
    assert client.post(URL, data=body, headers=headers).status_code == 401
    (entry,) = answered.recent(redis_conn, answered.REFUSED_KEY, 10)
    assert len(entry.event) == answered.FIELD_CHARS and entry.delivery_id.isprintable()
    assert len(entry.delivery_id) <= answered.FIELD_CHARS
    # A flood: the stream stays capped (Redis trims whole nodes of 100 entries under "~").
    pipe = redis_conn.pipeline(transaction=False)
    for n in range(answered.MAX_ENTRIES * 2):
        command = answered.xadd_command("refused", 401, f"d{n}", "issues", None, "bad", "1.2.3.4")
        assert command is not None
        pipe.execute_command(*command)
    pipe.execute()
    assert (
        answered.MAX_ENTRIES <= redis_conn.xlen(answered.REFUSED_KEY) <= answered.MAX_ENTRIES + 100
    )
    # ...and never pushes out the authenticated answers, which have their own stream.
    assert redis_conn.xlen(answered.ANSWERED_KEY) == 0


def test_a_redis_outage_costs_the_note_not_the_answer(
    tmp_path: Any, fake_github: FakeGitHub
) -> None:
    from sqlalchemy import create_engine

    from app.models import Base
    from tests.fakes.loopback import free_port

    url = f"sqlite:///{tmp_path / 'down.sqlite3'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    down = f"redis://127.0.0.1:{free_port()}/0"
    client = create_app(
        dashboard_config(url, down, fake_github, WEBHOOK_SECRET=SECRET)
    ).test_client()
    forged = fake.delivery("issues", fake.labeled_issue(), "not-the-secret")
    assert send(client, forged) == 401
    assert send(client, fake.delivery("star", {"action": "created"}, SECRET)) == 204
