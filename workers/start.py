"""`fixwurx worker` and `python -m workers`: start an RQ worker over the FixWurx queues."""

from __future__ import annotations

import logging

import click

from app.config import Settings


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
def worker(burst: bool) -> None:
    """Run jobs from fixwurx-high, fixwurx-default and fixwurx-low, in that order."""
    from app.errors import ConfigError
    from app.github.auth import check_app_settings
    from workers.worker import run

    settings = Settings.from_env()
    if settings.github_app_configured:
        try:
            check_app_settings(settings)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from exc
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    run(settings, burst=burst)
