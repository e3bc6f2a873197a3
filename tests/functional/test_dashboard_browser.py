"""The dashboard in a real browser: Debian's Chromium driven by Playwright (no browser download:
`executable_path`), against the web app on a loopback port and the fake GitHub's OAuth flow.

Each page must show the seeded numbers with no console error (so the vendored Chart.js loads
and draws under the page's Content Security Policy); sign-in is required, a login outside
DASHBOARD_USERS gets 403. A screenshot of each page is saved under test-artifacts/dashboard/
(gitignored) for people to look at.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright
from sqlalchemy import create_engine, update
from werkzeug.serving import make_server

from app.db import session_scope
from app.models import Base, Run
from tests.fakes.github import FakeGitHub
from tests.fakes.github.fixtures import fake_github
from tests.functional import dashboard_seed
from tests.functional.test_dashboard import dashboard_config
from webhooks import create_app

__all__ = ["fake_github"]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
#: Debian's package; .ci/run installs it.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "chromium is not installed; .ci/run installs Debian's"
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's own sandbox cannot start.
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def server(
    tmp_path: Path, redis_url: str, redis_conn: Any, fake_github: FakeGitHub
) -> Iterator[str]:
    database_url = f"sqlite:///{tmp_path / 'dashboard.sqlite3'}"
    engine = create_engine(database_url)
    Base.metadata.create_all(engine)
    engine.dispose()
    dashboard_seed.seed(database_url)
    dashboard_seed.seed_answered(redis_conn)
    flask_app = create_app(dashboard_config(database_url, redis_url, fake_github))
    http = make_server("127.0.0.1", 0, flask_app, threaded=True)
    thread = threading.Thread(
        target=http.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    http.server_close()


def _watched(page: Page) -> list[str]:
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"console {message.type}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda req: problems.append(f"request failed: {req.url}"))
    return problems


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _database_of(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'dashboard.sqlite3'}"


def finish(database_url: str, run_id: int) -> None:
    with session_scope(database_url) as session:
        session.execute(update(Run).where(Run.id == run_id).values(status="fixed"))


def test_each_page_shows_the_seeded_numbers(
    browser: Browser, server: str, fake_github: FakeGitHub, tmp_path: Path
) -> None:
    fake_github.oauth.signed_in_as = "octocat"
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    problems = _watched(page)

    page.goto(f"{server}/dashboard/")  # -> /dashboard/login -> GitHub's authorize -> callback
    assert fake_github.oauth.authorizations, "the browser never reached GitHub's authorize page"
    assert page.url == f"{server}/dashboard/"
    assert page.get_by_test_id("login").inner_text() == "octocat"
    for testid, value in dashboard_seed.EXPECTED.items():
        assert page.get_by_test_id(testid).inner_text() == value, testid
    for testid, value in {**dashboard_seed.ROLLBACK_FIGURE, **dashboard_seed.RUNG_FIGURE}.items():
        assert page.get_by_test_id(testid).inner_text() == value, testid
    # Chart.js drew on each canvas (a blank canvas has no chart instance).
    page.wait_for_function(
        "() => ['chart-runs', 'chart-fix-rate', 'chart-cost'].every(id => Chart.getChart(id))"
    )
    assert "the sandbox ran out of memory" in page.get_by_test_id("failures").inner_text()
    _shot(page, "overview")

    page.get_by_role("link", name="Runs", exact=True).click()
    page.wait_for_url(f"{server}/dashboard/runs")
    rows = page.locator("[data-testid=runs] tbody tr")
    assert rows.count() == 8  # runs 7 and 8 are acme/tools's (the rung figure's)
    page.fill("input[name=repository]", "acme/gadgets")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/dashboard/runs?repository=acme%2Fgadgets**")
    assert sorted(
        page.locator("[data-testid=runs] tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.run)"
        )
    ) == ["3", "4"]
    _shot(page, "runs")

    page.goto(f"{server}/dashboard/runs/{dashboard_seed.FIXED_RUN}")
    tree = page.get_by_test_id("tree").inner_text()
    assert "candidate #1 [template:off_by_one] rejected" in tree
    assert "  candidate #2 [llm:openai] chosen: guard the empty list" in tree
    assert page.get_by_test_id("bundle").inner_text() == dashboard_seed.BUNDLE
    assert "#41" in page.get_by_test_id("pulls").inner_text()
    assert "1200 tokens, $0.12" in page.get_by_test_id("call-totals").inner_text()
    assert page.locator("[data-testid=stages] tbody tr").count() == 4
    _shot(page, "run")

    page.goto(f"{server}/dashboard/runs/{dashboard_seed.LIVE_RUN}")
    assert page.get_by_test_id("live").is_visible()
    _shot(page, "run-live")
    # The run finishes while the page is open: the page notices by itself and shows it.
    finish(_database_of(tmp_path), dashboard_seed.LIVE_RUN)
    page.get_by_test_id("run-status").filter(has_text="fixed").wait_for(timeout=20_000)
    assert not page.get_by_test_id("live").is_visible()

    page.goto(f"{server}/dashboard/repositories")
    widgets = page.locator("tr[data-repo='acme/widgets'] td")
    assert widgets.nth(1).inner_text() == "4" and widgets.nth(2).inner_text() == "2"
    assert widgets.nth(3).inner_text() == "66.7%"  # 2 fixed of 3 finished repairs
    assert (
        widgets.nth(4).inner_text().startswith("$0.00 / $10.00")
        or "$0." in widgets.nth(4).inner_text()
    )
    gadgets = page.locator("tr[data-repo='acme/gadgets'] [data-testid='config-error']")
    assert dashboard_seed.CONFIG_ERROR in gadgets.inner_text()
    _shot(page, "repositories")

    page.goto(f"{server}/dashboard/deliveries")
    table = page.get_by_test_id("deliveries").inner_text()
    assert "dlv-aaa" in table and "repository not installed" in table
    noted = page.get_by_test_id("answered-deliveries").inner_text()
    assert "redelivery of a delivery already recorded" in noted
    assert "star.created is not handled" in noted
    refused = page.get_by_test_id("refused-deliveries").inner_text()
    assert "dlv-forged" in refused and "401" in refused
    _shot(page, "deliveries")

    assert problems == []
    context.close()


def test_sign_in_is_required_and_others_get_403(
    browser: Browser, server: str, fake_github: FakeGitHub
) -> None:
    context = browser.new_context()
    page = context.new_page()
    answered = page.request.get(f"{server}/dashboard/runs", max_redirects=0)
    assert answered.status == 302 and answered.headers["location"].endswith("/dashboard/login")
    fake_github.oauth.signed_in_as = "mallory"
    response = None

    def remember(resp: Any) -> None:
        nonlocal response
        if resp.url.startswith(f"{server}/dashboard/callback"):
            response = resp

    page.on("response", remember)
    page.goto(f"{server}/dashboard/")
    assert response is not None and response.status == 403
    assert "mallory" in page.get_by_test_id("forbidden").inner_text()
    _shot(page, "forbidden")
    # Still nobody signed in: the next visit goes to GitHub again.
    again = page.request.get(f"{server}/dashboard/", max_redirects=0)
    assert again.status == 302
    context.close()
