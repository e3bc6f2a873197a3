"""A job for the warm-shutdown test: marks that it started, works a while, marks that it ended."""

from __future__ import annotations

import time
from pathlib import Path


def sleep_and_mark(directory: str, seconds: float) -> str:
    Path(directory, "started").touch()
    time.sleep(seconds)
    Path(directory, "finished").touch()
    return "finished"
