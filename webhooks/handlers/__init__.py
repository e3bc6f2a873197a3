"""The handler modules, one per event family, and the router they register on."""

from __future__ import annotations

from webhooks.handlers import ci, comments, installations, issues, pull_requests, push
from webhooks.router import Router

MODULES = (issues, comments, ci, pull_requests, installations, push)


def build_router() -> Router:
    """A router with every FixWurx route registered."""
    router = Router()
    for module in MODULES:
        module.register(router)
    return router
