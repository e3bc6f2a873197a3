"""`fixwurx setup` end to end: Chromium opens the local page, which posts app.yml to the fake
GitHub (a GitHub Enterprise Server at GITHUB_URL); the fake redirects back with a code, setup
converts it (`POST /app-manifests/{code}/conversions`, checked against @octokit/openapi) and
writes .env and a 0600 key file that FixWurx's own settings accept.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from app.config import Settings
from app.errors import BadInput
from app.github.auth import check_app_settings
from app.onboarding.manifest import GitHubHost
from app.onboarding.setup_command import SHIPPED_MANIFEST, SetupRequest, run_setup
from tests.fakes.github import FakeGitHub
from tests.fakes.github.fixtures import fake_github
from tests.fakes.github.manifests import Created
from tests.functional.test_dashboard_browser import browser

__all__ = ["browser", "fake_github"]


def request(tmp_path: Path, github: FakeGitHub, **changes: Any) -> SetupRequest:
    fields: dict[str, Any] = {
        "manifest": SHIPPED_MANIFEST,
        "env_path": tmp_path / ".env",
        "key_path": tmp_path / "fixwurx-app.pem",
        "host": GitHubHost(github.base_url),
        "webhook_url": "https://fixwurx.example.org/webhooks/github",
        "wait_s": 60,
    }
    return SetupRequest(**{**fields, **changes})


def read_env(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def in_thread(setup: SetupRequest) -> tuple[threading.Thread, dict[str, Any], threading.Event]:
    outcome: dict[str, Any] = {}
    ready = threading.Event()

    def on_ready(url: str) -> None:
        outcome["url"] = url
        ready.set()

    def work() -> None:
        try:
            outcome["app"] = run_setup(setup, on_ready)
        except Exception as exc:
            outcome["error"] = exc
            ready.set()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    assert ready.wait(10), "the setup page never came up"
    return thread, outcome, ready


def test_setup_creates_the_app_through_the_browser_and_writes_env(
    browser: Browser, tmp_path: Path, fake_github: FakeGitHub
) -> None:
    setup = request(tmp_path, fake_github, org="acme")
    thread, outcome, _ = in_thread(setup)
    page = browser.new_context().new_page()
    page.goto(outcome["url"])  # auto-submits the manifest to the fake, which redirects back
    page.wait_for_selector("text=Created the GitHub App")
    thread.join(10)
    assert "error" not in outcome, outcome.get("error")

    (manifest,) = fake_github.manifests.received
    assert manifest["name"] == "FixWurx"
    assert manifest["redirect_url"] == outcome["url"] + "callback"
    assert manifest["hook_attributes"]["url"] == "https://fixwurx.example.org/webhooks/github"
    assert manifest["default_permissions"]["contents"] == "write"
    assert fake_github.count("POST", r"/app-manifests/[^/]+/conversions") == 1

    env = read_env(setup.env_path)
    assert env["APP_ID"] == str(fake_github.app_id)
    assert env["PRIVATE_KEY_PATH"] == str(setup.key_path)
    assert len(env["WEBHOOK_SECRET"]) >= 20 and env["GITHUB_CLIENT_ID"].startswith("Iv1.")
    assert env["GITHUB_CLIENT_SECRET"] and len(env["SECRET_KEY"]) == 64
    assert env["DASHBOARD_USERS"] == "acme"
    assert env["GITHUB_API_URL"] == fake_github.api_url  # GitHub Enterprise Server
    for path in (setup.env_path, setup.key_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert setup.key_path.read_text() == fake_github.private_key_pem
    settings = Settings(
        app_id=env["APP_ID"],
        private_key_path=env["PRIVATE_KEY_PATH"],
        webhook_secret=env["WEBHOOK_SECRET"],
        github_api_url=env["GITHUB_API_URL"],
    )
    check_app_settings(settings)  # the key parses and matches: the worker would start
    assert fake_github.violations == []


def test_a_redirect_with_another_state_is_refused_and_the_code_not_spent(
    tmp_path: Path, fake_github: FakeGitHub
) -> None:
    setup = request(tmp_path, fake_github, wait_s=5)
    thread, outcome, _ = in_thread(setup)
    forged = outcome["url"] + "callback?code=abc&state=not-ours"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(forged, timeout=5)
    assert refused.value.code == 400
    thread.join(10)
    assert "no answer from GitHub" in str(outcome["error"])
    assert not setup.env_path.exists() and not setup.key_path.exists()
    assert fake_github.count("POST", r"/app-manifests/[^/]+/conversions") == 0


def test_an_existing_env_is_never_overwritten_without_force(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("APP_ID=1\n")
    args = ["setup", "--env-file", str(env), "--key-file", str(tmp_path / "k.pem")]
    result = subprocess.run(
        [sys.executable, "-m", "app", *args, "--no-browser"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(SHIPPED_MANIFEST.parent)},
        check=False,
    )
    assert result.returncode == 2
    assert f"{env} exists; move it away or run `fixwurx setup --force`" in result.stderr
    assert env.read_text() == "APP_ID=1\n"


def test_a_manifest_code_converts_once(fake_github: FakeGitHub) -> None:
    from app.onboarding.manifest import convert

    host = GitHubHost(fake_github.base_url)
    created = Created({"url": "https://example.org", "name": "FixWurx"}, None, time.time())
    fake_github.manifests.codes["c0de"] = created
    assert convert(host, "c0de").app_id == fake_github.app_id
    with pytest.raises(BadInput, match="answered 404 to the code conversion"):
        convert(host, "c0de")


def test_root_redirects_to_the_dashboard(fake_github: FakeGitHub, tmp_path: Path) -> None:
    from webhooks import create_app

    flask_app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'r.sqlite3'}"})
    answer = flask_app.test_client().get("/")
    assert answer.status_code == 302 and answer.headers["Location"] == "/dashboard/"
