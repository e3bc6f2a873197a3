"""`app.yml`, the App manifest: the events FixWurx routes, the least permissions, each explained."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MANIFEST = Path(__file__).resolve().parents[3] / "app.yml"


def load() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text())


def test_subscribes_exactly_to_the_routed_events() -> None:
    events = set(load()["default_events"])
    assert events == {
        "issues",
        "issue_comment",
        "check_suite",
        "workflow_run",
        "check_run",
        "pull_request",
        "push",
    }


def test_every_subscribed_event_has_a_route() -> None:
    from webhooks.handlers import build_router

    router = build_router()
    routed = {event for event, _action in router.routes()}
    assert set(load()["default_events"]) <= routed


def test_asks_for_the_least_permissions() -> None:
    permissions = load()["default_permissions"]
    writes = {name for name, level in permissions.items() if level == "write"}
    # checks: FixWurx's own check run; actions: the canary's workflow_dispatch.
    assert writes == {"contents", "issues", "pull_requests", "checks", "actions"}
    assert set(permissions) <= {
        "contents",
        "issues",
        "pull_requests",
        "checks",
        "actions",
        "metadata",
    }
    assert "workflows" not in permissions and "administration" not in permissions


def test_every_permission_and_event_is_justified_by_a_comment() -> None:
    lines = MANIFEST.read_text().splitlines()
    data = load()
    for name in [*data["default_permissions"], *data["default_events"]]:
        index = next(
            i for i, line in enumerate(lines) if line.strip().lstrip("- ").startswith(name)
        )
        assert lines[index - 1].strip().startswith("#"), f"{name} has no comment above it"
