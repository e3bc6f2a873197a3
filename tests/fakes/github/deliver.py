"""Signed webhook deliveries about the fake's repositories, sent to the web app.

Payloads are real `@octokit/webhooks-examples` payloads (via `tests/fakes/webhooks.py`) with the
repository, installation, issue and sender rewritten to match the fake's state, so the web tier
records runs that the flow can then carry out against the fake. `pump` sends what the fake's CI
simulator queued (check suites, check runs, workflow runs, merged pulls).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from tests.fakes import webhooks
from tests.fakes.github.server import FakeGitHub, FakeRepo


def repository(fake: FakeGitHub, repo: FakeRepo) -> dict[str, Any]:
    """The `repository` override for a payload about `repo`."""
    return {
        "id": repo.id,
        "name": repo.name,
        "full_name": repo.full_name,
        "default_branch": repo.default_branch,
        "owner": {"login": repo.owner},
        "url": f"{fake.api_url}/repos/{repo.full_name}",
        "html_url": f"{fake.base_url}/{repo.full_name}",
    }


def _common(fake: FakeGitHub, repo: FakeRepo, sender: str) -> dict[str, Any]:
    return {
        "repository": repository(fake, repo),
        "installation": {"id": repo.installation_id},
        "sender": {"login": sender, "type": "User"},
    }


def _issue(repo: FakeRepo, number: int) -> dict[str, Any]:
    issue = repo.issues[number]
    return {
        "number": number,
        "title": issue["title"],
        "body": issue["body"],
        "state": issue["state"],
        "locked": issue["locked"],
    }


def labeled(fake: FakeGitHub, repo: FakeRepo, number: int, label: str = "fixwurx") -> Any:
    """issues.labeled for issue `number`."""
    return webhooks.labeled_issue(label, issue=_issue(repo, number), **_common(fake, repo, "alice"))


def command(fake: FakeGitHub, repo: FakeRepo, number: int, body: str, sender: str) -> Any:
    """issue_comment.created with `body` by `sender` on issue `number`."""
    common = _common(fake, repo, sender)
    return webhooks.command_comment(
        body, issue=_issue(repo, number), comment={"user": {"login": sender}}, **common
    )


def failed_check_suite(fake: FakeGitHub, repo: FakeRepo, branch: str, sha: str) -> Any:
    """check_suite.completed, conclusion failure, on `branch` at `sha` (no pull request)."""
    suite = {"head_branch": branch, "head_sha": sha, "pull_requests": []}
    return webhooks.failing_check_suite(check_suite=suite, **_common(fake, repo, "alice"))


def send(client: Any, event: str, payload: Any, secret: str, delivery_id: str | None = None) -> Any:
    """Sign and POST a delivery to the web app (a Flask test client or a base URL)."""
    sent = webhooks.delivery(event, payload, secret, delivery_id)
    if isinstance(client, str):
        return webhooks.post(f"{client.rstrip('/')}/webhooks/github", sent)
    response = client.post("/webhooks/github", data=sent.body, headers=sent.headers)
    return response.status_code, response.get_data()


def pump(
    fake: FakeGitHub, client: Any, secret: str, *, wait: float | None = 60.0
) -> list[tuple[str, str | None, int]]:
    """Send every delivery the fake queued (`fake.ci.take_deliveries()`), signed, to the web
    app (a Flask test client or a base URL), oldest first, after waiting up to `wait` seconds
    for running CI jobs (None: do not wait). Each attempt is logged in the fake's App delivery
    log as GitHub would. Returns (event, action, HTTP status) per delivery."""
    if wait is not None:
        fake.ci.wait_idle(wait)
    sent = []
    for event, payload in fake.ci.take_deliveries():
        guid = str(uuid.uuid4())
        status = int(send(client, event, payload, secret, guid)[0])
        action = payload.get("action")
        installation = payload.get("installation", {}).get("id")
        now = dt.datetime.now(dt.UTC)
        fake.add_delivery(guid, event, action, status, now, installation_id=installation)
        sent.append((event, action, status))
    return sent
