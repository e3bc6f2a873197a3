"""`fixwurx worker` and `python -m workers`: start an RQ worker over the FixWurx queues."""

from __future__ import annotations

import logging

import click

from app.config import Settings


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
def worker(burst: bool) -> None:
    """Run jobs from fixwurx-high, fixwurx-default and fixwurx-low, in that order."""
    from app.errors import ConfigError, SandboxError
    from app.github.auth import check_app_settings
    from app.sandbox.backends import check_service_backend
    from app.sandbox.doctor import enforcement
    from workers.worker import run

    try:  # repository code must not run unisolated unless the operator says so
        check_service_backend()
    except SandboxError as exc:
        raise click.ClickException(str(exc)) from exc
    settings = Settings.from_env()
    if settings.github_app_configured:
        try:
            check_app_settings(settings)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger(__name__).info("sandbox enforcement: %s", enforcement().summary())
    run(settings, burst=burst)
