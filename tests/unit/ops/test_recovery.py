"""`fixwurx deliveries recover`: GitHub's delivery log against our table, on the strict fake GitHub,
a real Redis and both databases."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openapi_schema_validator import OAS30Validator
from redis import Redis

from app.commands.deliveries import deliveries
from app.db import session_scope
from app.models import Delivery
from tests.fakes.github import FakeGitHub
from tests.fakes.github.fixtures import fake_github
from tests.fakes.github.spec import SPEC_URI, load_spec
from tests.fakes.loopback import free_port
from webhooks import dedupe

__all__ = ["fake_github"]

#: `run("--dry-run")` invokes the command against the fake, Redis and the database.
Run = Callable[..., Result]
LOST = "11111111-0000-0000-0000-000000000001"
KEPT = "22222222-0000-0000-0000-000000000002"


def ago(minutes: float) -> dt.datetime:
    # From now, not from when the module was imported: in a long suite the import can be more
    # than ten minutes before the test, and a "50 minutes ago" entry fell past the 1 h cutoff.
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes)


def record(database_url: str, *guids: str) -> None:
    """Rows as the web tier writes them for deliveries it kept."""
    with session_scope(database_url) as session:
        for guid in guids:
            session.add(Delivery(delivery_id=guid, event="issues", action="labeled", job_ids=[]))


def mark_done(redis_conn: Redis, *guids: str) -> None:
    """The "done" mark the web tier leaves after enqueueing a delivery's jobs."""
    for guid in guids:
        redis_conn.set(dedupe.key(guid), dedupe.done_value(["fixwurx-run-1"]))


@pytest.fixture
def env(fake_github: FakeGitHub, redis_url: str) -> dict[str, str | None]:
    return {
        "APP_ID": str(fake_github.app_id),
        "PRIVATE_KEY": fake_github.private_key_pem,
        "PRIVATE_KEY_PATH": None,
        "GITHUB_API_URL": fake_github.api_url,
        "REDIS_URL": redis_url,
    }


@pytest.fixture
def run(env: dict[str, str | None], database_url: str, redis_conn: Redis) -> Run:
    def invoke(*args: str) -> Result:
        return CliRunner().invoke(
            deliveries, ["recover", *args], env={**env, "DATABASE_URL": database_url}
        )

    return invoke


def lines(result: Result) -> list[str]:
    return result.stdout.splitlines()


def test_acknowledged_but_unrecorded_delivery_is_redelivered_after_its_mark_is_cleared(
    run: Run, fake_github: FakeGitHub, database_url: str, redis_conn: Redis
) -> None:
    lost = fake_github.add_delivery(LOST, "issues", "labeled", 202, ago(5))
    fake_github.add_delivery(KEPT, "issues", "labeled", 202, ago(4))
    record(database_url, KEPT)
    mark_done(redis_conn, LOST, KEPT)

    result = run()

    assert result.exit_code == 0, result.output
    assert fake_github.redelivered == [lost]
    assert redis_conn.get(dedupe.key(LOST)) is None  # else our endpoint would say "duplicate"
    assert redis_conn.get(dedupe.key(KEPT)) is not None  # a kept delivery's mark stays
    first, summary = lines(result)
    assert first.startswith(f"{LOST}  issues.labeled  GitHub last got 202 (OK) at ")
    assert first.endswith("-> redelivered")
    assert KEPT not in result.stdout
    assert summary.startswith("checked 2 deliveries since ")
    assert summary.endswith(": 1 redelivered, 0 refused")


@pytest.mark.parametrize(
    ("status_code", "status"),
    [(500, "Invalid HTTP Response: 500"), (503, "Invalid HTTP Response: 503"), (0, "timed out")],
)
def test_a_delivery_our_endpoint_never_took_is_redelivered(
    run: Run, fake_github: FakeGitHub, status_code: int, status: str
) -> None:
    entry = fake_github.add_delivery(
        LOST, "issue_comment", "created", status_code, ago(5), status=status
    )

    result = run()

    assert result.exit_code == 0, result.output
    assert fake_github.redelivered == [entry]
    seen = f"{status_code}" if status_code else "no response"
    assert f"issue_comment.created  GitHub last got {seen} ({status})" in result.stdout


def test_the_latest_attempt_is_the_one_redelivered(run: Run, fake_github: FakeGitHub) -> None:
    fake_github.add_delivery(LOST, "issues", "labeled", 502, ago(30))
    again = fake_github.add_delivery(LOST, "issues", "labeled", 0, ago(10), redelivery=True)

    result = run()

    assert fake_github.redelivered == [again]
    assert "checked 1 delivery since" in result.stdout


def test_a_refused_delivery_is_reported_and_not_redelivered(
    run: Run, fake_github: FakeGitHub
) -> None:
    fake_github.add_delivery(LOST, "issues", "opened", 401, ago(5))

    result = run()

    assert result.exit_code == 0, result.output
    assert fake_github.redelivered == []
    refused, summary = lines(result)
    assert refused.startswith(f"{LOST}  issues.opened  GitHub last got 401 ")
    assert "refused, not redelivered" in refused and "WEBHOOK_SECRET" in refused
    assert summary.endswith(": 0 redelivered, 1 refused")


def test_a_delivery_refused_last_is_refused_even_if_it_failed_before(
    run: Run, fake_github: FakeGitHub
) -> None:
    fake_github.add_delivery(LOST, "issues", "opened", 503, ago(20))
    fake_github.add_delivery(LOST, "issues", "opened", 400, ago(10), redelivery=True)

    result = run()

    assert fake_github.redelivered == []
    assert result.stdout.endswith(": 0 redelivered, 1 refused\n")


def test_deliveries_answered_without_a_row_on_purpose_are_left_alone(
    run: Run, fake_github: FakeGitHub
) -> None:
    fake_github.add_delivery(LOST, "ping", None, 200, ago(5), installation_id=None)
    fake_github.add_delivery(KEPT, "issues", "closed", 204, ago(4))  # an action we ignore

    result = run()

    assert result.exit_code == 0, result.output
    assert fake_github.redelivered == []
    assert lines(result) == [lines(result)[-1]]  # the summary only
    assert lines(result)[-1].endswith(": 0 redelivered, 0 refused")
    assert "checked 2 deliveries" in result.stdout


def test_an_ignored_answer_on_any_attempt_means_nothing_is_missing(
    run: Run, fake_github: FakeGitHub
) -> None:
    fake_github.add_delivery(LOST, "issues", "closed", 204, ago(20))
    fake_github.add_delivery(LOST, "issues", "closed", 503, ago(10), redelivery=True)

    run()

    assert fake_github.redelivered == []


def test_a_duplicate_answer_without_a_row_is_redelivered(
    run: Run, fake_github: FakeGitHub, redis_conn: Redis
) -> None:
    # Acknowledged, then the row was lost; a redelivery from GitHub's page met the stale "done"
    # mark and was answered "duplicate" (200). Only clearing the mark gets the delivery in.
    fake_github.add_delivery(LOST, "issues", "labeled", 202, ago(20))
    again = fake_github.add_delivery(LOST, "issues", "labeled", 200, ago(10), redelivery=True)
    mark_done(redis_conn, LOST)

    result = run()

    assert fake_github.redelivered == [again]
    assert redis_conn.get(dedupe.key(LOST)) is None
    assert "GitHub last got 200 (OK)" in result.stdout


def test_a_delivery_recorded_on_redelivery_is_left_alone(
    run: Run, fake_github: FakeGitHub, database_url: str
) -> None:
    fake_github.add_delivery(LOST, "issues", "labeled", 503, ago(20))
    fake_github.add_delivery(LOST, "issues", "labeled", 202, ago(10), redelivery=True)
    record(database_url, LOST)

    result = run()

    assert result.exit_code == 0, result.output
    assert fake_github.redelivered == []
    assert result.stdout.endswith(": 0 redelivered, 0 refused\n")


def test_pages_are_followed_down_to_the_cutoff(
    run: Run, fake_github: FakeGitHub, database_url: str
) -> None:
    fake_github.max_per_page = 2
    guid = "33333333-0000-0000-0000-0000000000{:02d}".format
    # Newest first the pages are [5, 10] [20, 30] [40, 50] [55, 70] [80, 90]. The fourth holds
    # the 1-hour cutoff: its 70-minute entry is dropped and the fifth page is never asked for.
    lost = {
        m: fake_github.add_delivery(guid(m), "issues", "labeled", 202, ago(m))
        for m in (10, 40, 50, 55)
    }
    fake_github.add_delivery(guid(20), "issues", "labeled", 202, ago(20))
    record(database_url, guid(20))  # recorded: found by the second page's query
    # One delivery whose attempts span pages: ignored (204) on the first, failed on the second.
    fake_github.add_delivery(guid(30), "issues", "closed", 503, ago(30))
    fake_github.add_delivery(guid(30), "issues", "closed", 204, ago(5), redelivery=True)
    for minutes in (70, 80, 90):
        fake_github.add_delivery(guid(minutes), "issues", "labeled", 503, ago(minutes))

    result = run("--since", "1h")

    assert result.exit_code == 0, result.output
    assert fake_github.redelivered == [lost[55], lost[50], lost[40], lost[10]]  # oldest first
    assert fake_github.count("GET", r"/app/hook/deliveries") == 4
    assert "checked 6 deliveries" in result.stdout


@pytest.mark.parametrize(("since", "redelivered"), [("30m", 1), ("90m", 2), ("2d", 3)])
def test_since_takes_minutes_hours_and_days(
    run: Run, fake_github: FakeGitHub, since: str, redelivered: int
) -> None:
    for n, minutes in enumerate((10, 60, 24 * 60)):
        fake_github.add_delivery(f"guid-{n}", "issues", "labeled", 202, ago(minutes))

    result = run("--since", since)

    assert result.exit_code == 0, result.output
    assert len(fake_github.redelivered) == redelivered


def test_a_bad_since_is_a_usage_error(env: dict[str, str | None], fake_github: FakeGitHub) -> None:
    result = CliRunner().invoke(deliveries, ["recover", "--since", "1 hour"], env=env)

    assert result.exit_code == 2
    assert "like 30m, 1h or 2d" in result.output
    assert fake_github.requests == []


def test_dry_run_reports_and_sends_nothing(
    run: Run, fake_github: FakeGitHub, redis_conn: Redis
) -> None:
    fake_github.add_delivery(LOST, "issues", "labeled", 202, ago(5))
    fake_github.add_delivery(KEPT, "issues", "opened", 401, ago(4))
    mark_done(redis_conn, LOST)

    result = run("--dry-run")

    assert result.exit_code == 0, result.output
    assert fake_github.redelivered == []
    assert fake_github.count("POST", r".*") == 0
    assert redis_conn.get(dedupe.key(LOST)) is not None
    would, refused, summary = lines(result)
    assert would.startswith(LOST) and would.endswith("-> would redeliver")
    assert refused.startswith(KEPT) and "refused" in refused
    assert summary.endswith(": 1 would redeliver, 1 refused")


def test_a_redelivery_github_does_not_accept_is_reported_and_exits_1(
    run: Run, fake_github: FakeGitHub
) -> None:
    fake_github.add_delivery(LOST, "issues", "labeled", 202, ago(20))
    kept_going = fake_github.add_delivery(KEPT, "issues", "labeled", 202, ago(10))
    fake_github.inject("POST", r"/app/hook/deliveries/\d+/attempts", 422, message="Too old")

    result = run()

    assert result.exit_code == 1
    assert fake_github.redelivered == [kept_going]  # the first failed, the second went on
    failed, ok, summary = lines(result)
    assert failed.startswith(LOST) and "redelivery failed" in failed and "HTTP 422" in failed
    assert "Too old" in failed
    assert ok.startswith(KEPT) and ok.endswith("-> redelivered")
    assert summary.endswith(": 1 redelivered, 0 refused, 1 failed")


def test_a_missing_app_id_is_a_config_error(
    env: dict[str, str | None], fake_github: FakeGitHub
) -> None:
    result = CliRunner().invoke(deliveries, ["recover"], env={**env, "APP_ID": None})

    assert result.exit_code == 2
    assert result.stderr.startswith("fixwurx: error: APP_ID=''")
    assert "numeric App ID" in result.stderr
    assert fake_github.requests == []


def test_github_failing_the_listing_is_a_clear_error(
    env: dict[str, str | None], fake_github: FakeGitHub
) -> None:
    fake_github.inject("GET", r"/app/hook/deliveries", 500, message="Server Error", times=20)

    result = CliRunner().invoke(deliveries, ["recover"], env=env)

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert result.stderr == (
        "fixwurx: error: listing the App's webhook deliveries failed with HTTP 500: Server Error\n"
    )
    assert fake_github.redelivered == []


def test_github_refusing_the_jwt_is_a_clear_error_that_shows_no_jwt(
    env: dict[str, str | None], fake_github: FakeGitHub
) -> None:
    result = CliRunner().invoke(deliveries, ["recover"], env={**env, "APP_ID": "1"})

    assert result.exit_code == 1
    assert "HTTP 401: 'iss' '1' is not this App" in result.stderr
    assert "eyJ" not in result.output  # every JWT starts so (base64 of '{"')


def test_the_fake_log_answers_in_githubs_documented_shape(fake_github: FakeGitHub) -> None:
    import requests

    from app.github.auth import app_jwt

    fake_github.add_delivery(LOST, "issues", "labeled", 202, ago(5))
    fake_github.add_delivery(KEPT, "ping", None, 200, ago(4), installation_id=None)
    jwt = app_jwt(str(fake_github.app_id), fake_github.private_key_pem)
    response = requests.get(
        f"{fake_github.api_url}/app/hook/deliveries",
        headers={"Authorization": f"Bearer {jwt}"},
        timeout=5,
    )

    assert response.status_code == 200
    schema = {
        "$ref": f"{SPEC_URI}#/paths/~1app~1hook~1deliveries/get/responses/200/content/application~1json/schema"
    }
    validator = OAS30Validator(schema, registry=load_spec().registry)
    assert [e.message for e in validator.iter_errors(response.json())] == []
    assert [d["guid"] for d in json.loads(response.text)] == [KEPT, LOST]  # newest first


def test_github_out_of_reach_is_a_clear_error(
    env: dict[str, str | None], fake_github: FakeGitHub
) -> None:
    unreachable = {**env, "GITHUB_API_URL": f"http://127.0.0.1:{free_port()}/api/v3"}

    result = CliRunner().invoke(deliveries, ["recover"], env=unreachable)

    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "listing the App's webhook deliveries at http://127.0.0.1:" in result.stderr
    assert result.stderr.endswith("failed: ConnectionError\n")


def test_a_database_without_the_table_is_a_clear_error(
    env: dict[str, str | None], fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fake_github.add_delivery(LOST, "issues", "labeled", 202, ago(5))
    empty = {**env, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}"}

    result = CliRunner().invoke(deliveries, ["recover"], env=empty)

    assert result.exit_code == 1
    assert "reading the deliveries table (DATABASE_URL) failed: no such table" in result.stderr
    assert fake_github.redelivered == []


def test_nothing_is_redelivered_past_a_mark_redis_would_not_clear(
    env: dict[str, str | None], fake_github: FakeGitHub, database_url: str
) -> None:
    fake_github.add_delivery(LOST, "issues", "labeled", 202, ago(5))
    no_redis = {
        **env,
        "DATABASE_URL": database_url,
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
    }

    result = CliRunner().invoke(deliveries, ["recover"], env=no_redis)

    assert result.exit_code == 1
    assert "clearing a redelivery mark in Redis (REDIS_URL) failed" in result.stderr
    assert fake_github.redelivered == []  # our endpoint would have called it a duplicate
