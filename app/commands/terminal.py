"""What every `fixwurx` subcommand shares: exit codes, the one-line error, progress, the cache.

Kept apart from `app/cli.py` (the command map) so the subcommands' implementations never import
the module that calls them.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

import click

#: Exit codes of `fixwurx fix` (and the commands that follow its convention).
EXIT_FIXED, EXIT_NOT_FIXED, EXIT_BAD_INPUT = 0, 1, 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """One line naming the problem, then exit `code` (2, bad input, unless said otherwise)."""
    click.echo(f"fixwurx: error: {message}", err=True)
    sys.exit(code)


def progress_printer(enabled: bool) -> Any:
    """A progress callback that prints `[stage] message` with elapsed seconds to stderr."""
    started = time.monotonic()

    def show(stage: str, message: str) -> None:
        if enabled:
            elapsed = time.monotonic() - started
            click.echo(f"[{elapsed:6.1f}s] {stage:<9} {message}", err=True)

    return show


def cache_dir() -> Path:
    """Where bundles go by default: outside the user's tree."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fixwurx"
