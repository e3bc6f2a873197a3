"""The dashboard through Flask's test client, against the fake GitHub's OAuth flow: sign-in,
the allow-list, the seeded numbers on each page, and the guard's answers.
(tests/functional/test_dashboard_browser.py drives the same pages in Chromium.)"""

from __future__ import annotations

import http.client
import urllib.parse
from typing import Any

import pytest
from flask.testing import FlaskClient

from app import create_app
from tests.fakes.github import FakeGitHub
from tests.fakes.github.fixtures import fake_github
from tests.fakes.github.oauth import CLIENT_ID, CLIENT_SECRET
from tests.functional import dashboard_seed

__all__ = ["fake_github"]


def dashboard_config(
    database_url: str, redis_url: str, github: FakeGitHub, **extra: Any
) -> dict[str, Any]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "GITHUB_API_URL": github.api_url,
        "GITHUB_CLIENT_ID": CLIENT_ID,
        "GITHUB_CLIENT_SECRET": CLIENT_SECRET,
        "DASHBOARD_USERS": "octocat, Alice",
        "SECRET_KEY": "dashboard-test-secret-key",
        "SENTRY_DSN": "",
        **extra,
    }


def sign_in(client: FlaskClient, github: FakeGitHub, login: str) -> Any:
    """Follow the OAuth dance: our redirect, GitHub's authorize page (real HTTP), our callback."""
    github.oauth.signed_in_as = login
    start = client.get("/dashboard/login")
    assert start.status_code == 302
    authorize = urllib.parse.urlsplit(start.headers["Location"])
    assert f"{authorize.scheme}://{authorize.netloc}" == github.base_url
    conn = http.client.HTTPConnection(authorize.hostname, authorize.port, timeout=10)
    conn.request("GET", f"{authorize.path}?{authorize.query}")
    answer = conn.getresponse()
    assert answer.status == 302
    back = urllib.parse.urlsplit(answer.getheader("Location"))
    conn.close()
    return client.get(f"{back.path}?{back.query}")


@pytest.fixture
def client(
    database_url: str, redis_url: str, redis_conn: object, fake_github: FakeGitHub
) -> FlaskClient:
    dashboard_seed.seed(database_url)
    return create_app(dashboard_config(database_url, redis_url, fake_github)).test_client()


def test_every_page_needs_a_signed_in_allowed_login(
    client: FlaskClient, fake_github: FakeGitHub
) -> None:
    for path in (
        "/dashboard/",
        "/dashboard/runs",
        "/dashboard/runs/1",
        "/dashboard/repositories",
        "/dashboard/deliveries",
    ):
        anonymous = client.get(path)
        assert anonymous.status_code == 302 and anonymous.headers["Location"].endswith(
            "/dashboard/login"
        ), path
    refused = sign_in(client, fake_github, "mallory")
    assert refused.status_code == 403
    assert "mallory" in refused.get_data(as_text=True)
    assert client.get("/dashboard/").status_code == 302  # nothing was kept from mallory's try
    # A login is case-insensitive, as GitHub's are.
    assert sign_in(client, fake_github, "alice").status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_a_forged_state_or_a_wrong_secret_does_not_sign_in(
    database_url: str, redis_url: str, fake_github: FakeGitHub
) -> None:
    client = create_app(dashboard_config(database_url, redis_url, fake_github)).test_client()
    client.get("/dashboard/login")
    forged = client.get("/dashboard/callback?code=anything&state=forged")
    assert forged.status_code == 400
    wrong = create_app(
        dashboard_config(
            database_url, redis_url, fake_github, GITHUB_CLIENT_SECRET="not-the-secret"
        )
    ).test_client()
    failed = sign_in(wrong, fake_github, "octocat")
    assert failed.status_code == 502
    assert "did not issue a token" in failed.get_data(as_text=True)
    assert wrong.get("/dashboard/").status_code == 302


def test_without_its_settings_the_dashboard_says_which_are_missing(
    database_url: str, redis_url: str, fake_github: FakeGitHub
) -> None:
    config = dashboard_config(
        database_url, redis_url, fake_github, SECRET_KEY="", DASHBOARD_USERS=""
    )
    answer = create_app(config).test_client().get("/dashboard/")
    assert answer.status_code == 503
    assert "SECRET_KEY" in answer.get_data(as_text=True) and "DASHBOARD_USERS" in answer.get_data(
        as_text=True
    )


def test_the_pages_show_the_seeded_numbers(client: FlaskClient, fake_github: FakeGitHub) -> None:
    sign_in(client, fake_github, "octocat")
    overview = client.get("/dashboard/").get_data(as_text=True)
    for testid, value in dashboard_seed.EXPECTED.items():
        assert f'data-testid="{testid}">{value}<' in overview, testid
    assert f'data-testid="sweeps">{dashboard_seed.SWEEPS}<' in overview
    for testid, value in {**dashboard_seed.ROLLBACK_FIGURE, **dashboard_seed.RUNG_FIGURE}.items():
        assert f'data-testid="{testid}">{value}<' in overview, testid
    assert "the sandbox ran out of memory" in overview and "no candidate passed" in overview
    run = client.get("/dashboard/runs/1").get_data(as_text=True)
    assert dashboard_seed.BUNDLE in run and "#41 (fix, open)" in run
    assert "candidate #1 [template:off_by_one] rejected" in run
    assert "  candidate #2 [llm:openai] chosen" in run  # the child, indented under its parent
    assert "1700 tokens, $0.17" not in run and "1200 tokens, $0.12" in run
    assert "20.0 s" in run  # the verify stage's duration
    assert dashboard_seed.CI_CHECK in run and "tests/test_lint.py::test_style" in run
    assert dashboard_seed.CI_HEAD[:12] in run
    assert dashboard_seed.ROLLBACK_REASON.replace("'", "&#39;") in run and "not_blamed" in run
    other = client.get("/dashboard/runs/2").get_data(as_text=True)
    assert dashboard_seed.CI_CHECK not in other and "No rollback decisions." in other
    live = client.get("/dashboard/runs/4").get_data(as_text=True)
    assert 'data-live="/dashboard/runs/4/status"' in live
    assert client.get("/dashboard/runs/4/status").get_json() == {
        "status": "running",
        "stage": "localize",
        "live": True,
    }
    assert "data-live" not in run
    filtered = client.get("/dashboard/runs?repository=acme/gadgets").get_data(as_text=True)
    assert (
        'data-run="3"' in filtered and 'data-run="4"' in filtered and 'data-run="1"' not in filtered
    )
    by_status = client.get("/dashboard/runs?status=fixed&kind=issue").get_data(as_text=True)
    assert (
        'data-run="1"' in by_status
        and 'data-run="6"' in by_status
        and 'data-run="2"' not in by_status
    )
    assert client.get("/dashboard/runs?since=yesterday").status_code == 400
    repos = client.get("/dashboard/repositories").get_data(as_text=True)
    assert "acme/widgets" in repos and "acme/gadgets" in repos
    assert dashboard_seed.CONFIG_ERROR in repos
    deliveries = client.get("/dashboard/deliveries").get_data(as_text=True)
    assert "dlv-aaa" in deliveries and "repository not installed" in deliveries
    assert client.get("/dashboard/runs/999").status_code == 404


def test_assets_are_served_by_fixwurx_under_a_strict_policy(
    client: FlaskClient, fake_github: FakeGitHub
) -> None:
    sign_in(client, fake_github, "octocat")
    page = client.get("/dashboard/")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    html = page.get_data(as_text=True)
    assert "http://" not in html.replace(fake_github.base_url, "") and "https://" not in html
    chart = client.get("/dashboard/static/vendor/chart.umd.min.js")
    assert chart.status_code == 200 and b"Chart.js v4" in chart.data[:200]


def test_behind_a_proxy_the_callback_uses_the_public_url(
    database_url: str, redis_url: str, fake_github: FakeGitHub
) -> None:
    config = dashboard_config(
        database_url, redis_url, fake_github, PUBLIC_URL="https://fixwurx.example.com/"
    )
    start = create_app(config).test_client().get("/dashboard/login")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(start.headers["Location"]).query)
    assert query["redirect_uri"] == ["https://fixwurx.example.com/dashboard/callback"]
