"""`fixwurx worker` and `python -m workers`: start an RQ worker over the FixWurx queues."""

from __future__ import annotations

import logging

import click

from app.config import Settings


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
def worker(burst: bool) -> None:
    """Run jobs from fixwurx-high, fixwurx-default and fixwurx-low, in that order."""
    from workers.worker import run

    settings = Settings.from_env()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    run(settings, burst=burst)
