"""The dashboard's rules without a browser: who may act, CLI runs out of the App's figures,
sign-in links that expire, and the login command's errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine

from app.config import Settings
from app.dashboard import auth, queries, signin_link
from app.dashboard.login_command import dashboard
from app.db import session_scope
from app.models import Base, Run
from tests.fakes.github import FakeGitHub
from tests.fakes.github.fixtures import fake_github
from tests.functional.test_dashboard_actions import add_run, audit, config, status
from webhooks import create_app

__all__ = ["fake_github"]


@pytest.fixture
def database_file(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'operator.sqlite3'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return url


def test_a_login_outside_dashboard_users_cannot_act(
    database_file: str, redis_url: str, fake_github: FakeGitHub
) -> None:
    run_id = add_run(database_file, "running")
    client = create_app(config(database_file, redis_url, fake_github)).test_client()
    with client.session_transaction() as session:
        session[auth.LOGIN_KEY] = "mallory"
        session["dashboard_csrf"] = "t"
    answer = client.post(f"/dashboard/runs/{run_id}/stop", data={"csrf_token": "t"})
    assert answer.status_code == 403
    assert status(database_file, run_id) == "running"
    assert audit(database_file) == []


def test_cli_runs_stay_out_of_the_fix_rate_and_failures_unless_asked(database_file: str) -> None:
    add_run(database_file, "fixed")
    cli = add_run(database_file, "failed", kind="cli")
    now = dt.datetime.now(dt.UTC)
    with session_scope(database_file) as db:
        app_only = queries.overview(db, now)
        everything = queries.overview(db, now, include_cli=True)
    assert (app_only.runs_7d, app_only.fix_rate_7d) == (1, 1.0)
    assert cli not in [r.id for r in app_only.failures]
    assert (everything.runs_7d, everything.fix_rate_7d) == (2, 0.5)
    assert cli in [r.id for r in everything.failures]


def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key="k" * 32, dashboard_users="octocat")


def test_a_link_expires_after_its_lifetime(
    database_file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = signin_link.mint(settings(database_file), "octocat", ttl_s=60)
    import itsdangerous.timed

    later = int(dt.datetime.now(dt.UTC).timestamp()) + 61
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda _s: later)
    with pytest.raises(signin_link.LinkRefused, match="expired"):
        signin_link.redeem(settings(database_file), token)


def test_a_link_for_someone_else_or_signed_with_another_key_is_refused(
    database_file: str,
) -> None:
    with pytest.raises(signin_link.LinkRefused, match="not in DASHBOARD_USERS"):
        signin_link.mint(settings(database_file), "mallory")
    token = signin_link.mint(settings(database_file), "octocat")
    other = Settings(database_url=database_file, secret_key="z" * 32, dashboard_users="octocat")
    with pytest.raises(signin_link.LinkRefused, match="not valid"):
        signin_link.redeem(other, token)
    removed = Settings(database_url=database_file, secret_key="k" * 32, dashboard_users="alice")
    with pytest.raises(signin_link.LinkRefused, match="may not use the dashboard"):
        signin_link.redeem(removed, token)


def test_the_login_command_names_the_fix(database_file: str) -> None:
    env = {
        "SECRET_KEY": "k" * 32,
        "DASHBOARD_USERS": "octocat, alice",
        "DATABASE_URL": database_file,
    }
    result = CliRunner().invoke(dashboard, ["login"], env=env)
    assert result.exit_code == 1
    assert "say which login with --user (DASHBOARD_USERS: alice, octocat)" in result.output
    result = CliRunner().invoke(dashboard, ["login", "--user", "bob"], env=env)
    assert "'bob' is not in DASHBOARD_USERS" in result.output
    result = CliRunner().invoke(dashboard, ["login", "--user", "alice", "--minutes", "5"], env=env)
    assert result.exit_code == 0
    assert result.stdout.startswith("http://127.0.0.1:8000/dashboard/login/")
    with session_scope(database_file) as db:
        assert db.query(Run).count() == 0


def test_the_run_page_shows_the_live_stage_the_diff_evidence_and_rejections(
    database_file: str, redis_url: str, fake_github: FakeGitHub
) -> None:
    from app.models import Attempt, CandidateRecord, PatchBundleRecord, StageRun

    run_id = add_run(database_file, "running")
    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=42)
    with session_scope(database_file) as db:
        attempt = Attempt(run_id=run_id, number=1)
        db.add(attempt)
        db.flush()
        live = {"tried": 7, "plausible": 2, "budget_s": 300.0, "last": "verify: #7 x: rejected"}
        db.add(StageRun(attempt_id=attempt.id, stage="patch", result=live, started_at=started))
        db.add(
            CandidateRecord(
                attempt_id=attempt.id,
                source="templates",
                description="swap < for <=",
                status="rejected",
                reason="canary failed: tests/test_search.py::test_last",
            )
        )
        evidence = {
            "before": [{"test": "tests/test_search.py::test_last", "outcome": "failed"}],
            "after": [{"test": "tests/test_search.py::test_last", "outcome": "passed"}],
            "regression": {"baseline_passing": 11, "tests_run": 12},
        }
        body = {"diff": "-    while lo < hi:\n+    while lo <= hi:\n", "evidence": evidence}
        db.add(PatchBundleRecord(run_id=run_id, hash="sha256:" + "2" * 64, body=body))
    client = create_app(config(database_file, redis_url, fake_github)).test_client()
    with client.session_transaction() as session:
        session[auth.LOGIN_KEY] = "octocat"
    page = client.get(f"/dashboard/runs/{run_id}").get_data(as_text=True)
    assert "Now: <strong>patch</strong> for 4" in page  # 42 s: "4x.x s"
    assert 'data-testid="live-tried">7<' in page and 'data-testid="live-plausible">2<' in page
    assert "5.0 min search budget" in page
    assert "+    while lo &lt;= hi:" in page
    assert (
        "<td><code>tests/test_search.py::test_last</code></td><td>failed</td><td>passed</td>"
        in page
    )
    assert "11 tests that passed before still pass" in page
    assert "canary failed: tests/test_search.py::test_last" in page
