"""Routing: (event, action) -> handler. One router; each handler module registers its routes.

Handlers are pure: payload in, `RouteResult` out. They name the runs to record (or an installation
change) and never touch the database, Redis, GitHub or a model, which keeps them trivially
testable against real payloads and keeps the web request fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app import defaults
from app.runs import InstallationChange, RunRequest

Payload = dict[str, Any]


def _never_read(_repository_id: int) -> str | None:
    return None


@dataclass(frozen=True)
class Context:
    """What handlers may know besides the payload.

    `repo_label(repository_id)` is the trigger label a job last read from that repository's
    config, or None when no job has read it yet (the only lookup a handler may make).
    """

    app_slug: str = "fixwurx"
    trigger_label: str = defaults.TRIGGER_LABEL
    repo_label: Callable[[int], str | None] = _never_read


@dataclass(frozen=True)
class RouteResult:
    """A handler's decision: runs to record, an installation change, or a reason to ignore."""

    runs: tuple[RunRequest, ...] = ()
    installation: InstallationChange | None = None
    ignored: str | None = None


def ignore(reason: str) -> RouteResult:
    """An outcome that records nothing, with the reason (sent back in a response header)."""
    return RouteResult(ignored=reason)


Handler = Callable[[Payload, Context], RouteResult]


class Router:
    """Maps `(event, action)` to a handler; `action=None` matches events without an action."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str | None], Handler] = {}

    def register(self, event: str, *actions: str | None) -> Callable[[Handler], Handler]:
        """Decorator: route `event` with any of `actions` to the decorated handler."""

        def decorate(handler: Handler) -> Handler:
            for action in actions or (None,):
                key = (event, action)
                if key in self._routes:
                    raise ValueError(f"route {event}.{action} is registered twice")
                self._routes[key] = handler
            return handler

        return decorate

    def handler_for(self, event: str, action: str | None) -> Handler | None:
        """The handler for this event and action, or None when FixWurx does not handle it."""
        return self._routes.get((event, action))

    def routes(self) -> list[tuple[str, str | None]]:
        """Every registered (event, action), for documentation and tests."""
        return sorted(self._routes, key=lambda k: (k[0], k[1] or ""))
