"""Every delivery the fake's CI makes goes through FixWurx's real webhook router without error,
so the payloads are ones the App can parse (their shapes are also schema-checked on creation)."""

from __future__ import annotations

from tests.fakes.github import FakeGitHub, FakeRepo
from tests.unit.fakes.conftest import Api
from webhooks.handlers import build_router
from webhooks.router import Context


def test_the_apps_router_takes_every_ci_delivery(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    sha = fake_github.commit_files(repo.full_name, "fixwurx/r", {"FAIL": ""}, "Break")
    made = api.post("/pulls", {"title": "Fix", "head": "fixwurx/r", "base": "main"}).json()
    api.post("/actions/workflows/fixwurx-canary.yml/dispatches", {"ref": "fixwurx/r"})
    api.post("/check-runs", {"name": "FixWurx verification", "head_sha": sha, "status": "queued"})
    fake_github.ci.wait_idle(30)
    fake_github.merge_pull(repo.full_name, made["number"])
    fake_github.ci.wait_idle(30)

    router = build_router()
    seen = set()
    for event, payload in fake_github.ci.take_deliveries():
        seen.add((event, payload["action"]))
        handler = router.handler_for(event, payload["action"])
        if handler is not None:
            handler(payload, Context(app_slug=fake_github.slug))
    assert {
        ("check_suite", "requested"),
        ("check_suite", "completed"),
        ("check_run", "created"),
        ("check_run", "completed"),
        ("workflow_run", "requested"),
        ("workflow_run", "completed"),
        ("pull_request", "closed"),
    } <= seen
