"""The canary workflow a maintainer commits once, and `fixwurx workflow canary`, which prints it.

FixWurx has no `workflows` permission and never writes under .github/workflows: the maintainer
reads this file, adapts its setup steps, and commits it. The template lives in
`templates/fixwurx-canary.yml`, so the docs, the command and the tests show the same text.
"""

from __future__ import annotations

from importlib.resources import files

import click

#: The template's file name, which is also the `canary_workflow` default in the repo config.
TEMPLATE = "fixwurx-canary.yml"


def workflow_text() -> str:
    """The canary workflow's YAML."""
    return (files("app.commands") / "templates" / TEMPLATE).read_text(encoding="utf-8")


@click.group()
def workflow() -> None:
    """Workflow files for the repository's own GitHub Actions."""


@workflow.command()
def canary() -> None:
    """Print the canary workflow: commit it as .github/workflows/fixwurx-canary.yml."""
    click.echo(workflow_text(), nl=False)
