"""`fixwurx forward SMEE_URL`: deliveries from a smee.io channel to the local receiver."""

from __future__ import annotations

import logging

import click

from app.onboarding import forward

#: `fixwurx serve`'s webhook endpoint.
LOCAL_RECEIVER = "http://127.0.0.1:8000/webhooks/github"


@click.command("forward")
@click.argument("source")
@click.option("--to", "target", default=LOCAL_RECEIVER, show_default=True)
def forward_command(source: str, target: str) -> None:
    """Re-post webhook deliveries from a smee.io-compatible channel (SOURCE) to TARGET.

    For development without a public URL: set the App's webhook URL to the channel's.
    """
    if not source.startswith(("https://", "http://")):
        raise click.BadParameter(f"{source!r} is not a channel URL like https://smee.io/abc123")
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    def report(done: forward.Forwarded) -> None:
        click.echo(f"{done.event} {done.delivery} -> {target}: {done.status or 'no answer'}")

    click.echo(f"forwarding {source} -> {target} (Ctrl-C stops)", err=True)
    forward.run(source, target, report)
