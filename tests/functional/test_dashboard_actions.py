"""An operator who can act: one-time sign-in links, and stop, retry, re-read CI and redeliver
driven in Debian's Chromium against the real web app (with no OAuth client configured), the
fake GitHub and a real Redis. Each action leaves an audit row; a form with a wrong CSRF token is
refused and changes nothing.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from playwright.sync_api import Browser, Page
from redis import Redis
from sqlalchemy import create_engine, select
from werkzeug.serving import make_server

from app.dashboard.login_command import dashboard
from app.db import session_scope
from app.models import AuditLog, Base, CiWatch, Installation, Repository, Run
from app.runs import answered
from tests.fakes.github import FakeGitHub
from tests.fakes.github.fixtures import fake_github
from tests.functional.test_dashboard import dashboard_config
from tests.functional.test_dashboard_browser import browser
from webhooks import create_app
from workers import queues

__all__ = ["browser", "fake_github"]

SECRET = "actions-test-secret-key"
USERS = "octocat"


def config(database_url: str, redis_url: str, github: FakeGitHub) -> dict[str, Any]:
    return dashboard_config(
        database_url,
        redis_url,
        github,
        GITHUB_CLIENT_ID="",  # no OAuth app: one-time links are the way in
        GITHUB_CLIENT_SECRET="",
        DASHBOARD_USERS=USERS,
        SECRET_KEY=SECRET,
        APP_ID=str(github.app_id),
        PRIVATE_KEY=github.private_key_pem,
    )


@pytest.fixture
def database_file(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'actions.sqlite3'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def server(
    database_file: str, redis_url: str, redis_conn: Redis, fake_github: FakeGitHub
) -> Iterator[str]:
    flask_app = create_app(config(database_file, redis_url, fake_github))
    http = make_server("127.0.0.1", 0, flask_app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    http.server_close()


def login_link(server: str, database_url: str, *args: str) -> str:
    """What `fixwurx dashboard login` prints, run with the web app's settings."""
    env = {
        "SECRET_KEY": SECRET,
        "DASHBOARD_USERS": USERS,
        "DATABASE_URL": database_url,
        "PUBLIC_URL": server,
    }
    result = CliRunner().invoke(dashboard, ["login", *args], env=env)
    assert result.exit_code == 0, result.output
    link = result.stdout.strip()
    assert link.startswith(f"{server}/dashboard/login/")
    return link


def signed_in(browser: Browser, server: str, database_url: str) -> Page:
    page = browser.new_context().new_page()
    page.goto(login_link(server, database_url))
    assert page.url == f"{server}/dashboard/"
    assert page.get_by_test_id("login").inner_text() == "octocat"
    return page


def add_run(database_url: str, status: str, **fields: Any) -> int:
    with session_scope(database_url) as db:
        if db.get(Installation, 77) is None:
            db.add(Installation(id=77, account_login="octocat"))
            db.add(Repository(id=1296269, installation_id=77, full_name="octocat/Hello-World"))
            db.flush()
        run = Run(
            kind=fields.pop("kind", "issue"),
            trigger="issues.labeled",
            repository_id=1296269,
            issue_number=5,
            status=status,
            **fields,
        )
        db.add(run)
        db.flush()
        return run.id


def audit(database_url: str) -> list[tuple[str, str, int | None]]:
    with session_scope(database_url) as db:
        rows = db.execute(select(AuditLog.actor, AuditLog.action, AuditLog.run_id))
        return [(a, b, c) for a, b, c in rows]


def status(database_url: str, run_id: int) -> str | None:
    with session_scope(database_url) as db:
        return db.scalar(select(Run.status).where(Run.id == run_id))


def test_a_sign_in_link_works_once_and_not_after_it_expires(
    browser: Browser, server: str, database_file: str
) -> None:
    link = login_link(server, database_file)
    first = browser.new_context().new_page()
    first.goto(link)
    assert first.get_by_test_id("login").inner_text() == "octocat"
    again = browser.new_context().new_page()
    response = again.goto(link)
    assert response is not None and response.status == 403
    assert "already used" in again.content()
    forged = browser.new_context().new_page()
    response = forged.goto(link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB"))
    assert response is not None and response.status == 403
    anonymous = browser.new_context().new_page()
    anonymous.goto(f"{server}/dashboard/runs")
    assert "fixwurx dashboard login" in anonymous.content()  # no OAuth app: says how


def test_stop_with_a_wrong_csrf_token_is_refused_then_stop_and_retry_work(
    browser: Browser, server: str, database_file: str, redis_conn: Redis
) -> None:
    run_id = add_run(database_file, "running")
    page = signed_in(browser, server, database_file)
    page.goto(f"{server}/dashboard/runs/{run_id}")
    page.eval_on_selector_all("input[name=csrf_token]", "els => els.forEach(e => e.value = 'x')")
    with page.expect_response(f"{server}/dashboard/runs/{run_id}/stop") as answer:
        page.get_by_test_id("stop").click()
    assert answer.value.status == 400
    assert status(database_file, run_id) == "running"
    assert audit(database_file) == []

    page.goto(f"{server}/dashboard/runs/{run_id}")
    page.get_by_test_id("stop").click()
    page.wait_for_url(f"{server}/dashboard/runs/{run_id}")
    assert page.get_by_test_id("run-status").inner_text() == "stopped"
    assert f"run {run_id} stopped" in page.get_by_test_id("flash").inner_text()
    assert audit(database_file) == [("dashboard:octocat", "dashboard.stop", run_id)]

    page.get_by_test_id("retry").click()
    page.wait_for_url(f"{server}/dashboard/runs/*")
    new_id = int(page.url.rsplit("/", 1)[1])
    assert new_id != run_id and status(database_file, new_id) == "queued"
    assert queues.job_state(redis_conn, new_id) == "queued"  # enqueued, not left to the sweeper
    assert ("dashboard:octocat", "dashboard.retry", run_id) in audit(database_file)


def test_reread_ci_starts_a_ci_result_run_for_the_fix_commit(
    browser: Browser, server: str, database_file: str, redis_conn: Redis
) -> None:
    run_id = add_run(database_file, "fixed", pr_number=9)
    with session_scope(database_file) as db:
        db.add(
            CiWatch(
                repository_id=1296269,
                run_id=run_id,
                pr_number=9,
                branch="fixwurx/issue-5",
                head_sha="c0ffee" * 6 + "beef",
                base_sha="0" * 40,
                bundle_hash="sha256:" + "1" * 64,
                state="success",
                deadline=dt.datetime.now(dt.UTC),
            )
        )
    page = signed_in(browser, server, database_file)
    page.goto(f"{server}/dashboard/runs/{run_id}")
    page.get_by_test_id("reread-ci").click()
    page.wait_for_url(f"{server}/dashboard/runs/*")
    new_id = int(page.url.rsplit("/", 1)[1])
    with session_scope(database_file) as db:
        ci_run = db.get_one(Run, new_id)
        assert (ci_run.kind, ci_run.trigger, ci_run.head_sha) == (
            "ci_result",
            "check_run.rerequested",
            "c0ffee" * 6 + "beef",
        )
    assert queues.job_state(redis_conn, new_id) == "queued"
    assert ("dashboard:octocat", "dashboard.ci_reread", run_id) in audit(database_file)


def test_a_delivery_answered_503_is_redelivered_from_the_deliveries_page(
    browser: Browser,
    server: str,
    database_file: str,
    redis_conn: Redis,
    fake_github: FakeGitHub,
) -> None:
    guid = "dlv-lost-1"
    entry = fake_github.add_delivery(guid, "issues", "labeled", 503, dt.datetime.now(dt.UTC))
    command = answered.xadd_command(
        "unavailable", 503, guid, "issues", "labeled", "database down", "10.0.0.9"
    )
    redis_conn.execute_command(*command)
    page = signed_in(browser, server, database_file)
    page.goto(f"{server}/dashboard/deliveries")
    page.get_by_test_id(f"redeliver-{guid}").click()
    page.wait_for_url(f"{server}/dashboard/deliveries")
    assert f"send delivery {guid} again" in page.get_by_test_id("flash").inner_text()
    assert fake_github.redelivered == [entry]
    assert ("dashboard:octocat", "dashboard.redeliver", None) in audit(database_file)


def test_a_cli_run_has_no_stop_or_retry(browser: Browser, server: str, database_file: str) -> None:
    run_id = add_run(database_file, "running", kind="cli")
    page = signed_in(browser, server, database_file)
    page.goto(f"{server}/dashboard/runs/{run_id}")
    assert page.get_by_test_id("stop").count() == 0
    assert "stopped or retried in its terminal" in page.get_by_test_id("actions").inner_text()
