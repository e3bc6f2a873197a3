"""A background thread that keeps a claimed run's heartbeat fresh while its job works.

The sweeper treats a run whose heartbeat is older than `app.runs.STALE_AFTER_S` as abandoned by
a dead worker. The heartbeat must therefore come from the work horse itself (it dies with the
horse), not from the parent worker process.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from app import runs

log = logging.getLogger(__name__)


class Heartbeat:
    """Context manager: beat every `interval` seconds until the block exits."""

    def __init__(
        self, database_url: str, run_id: int, interval: float = runs.HEARTBEAT_INTERVAL_S
    ) -> None:
        self.database_url = database_url
        self.run_id = run_id
        self.interval = interval
        self.beats = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"heartbeat-{run_id}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if not runs.heartbeat(self.database_url, self.run_id):
                    return  # finished, stopped or taken over: nothing left to keep alive
                self.beats += 1
            except Exception:
                # A database hiccup must not kill the job; a later beat may succeed.
                log.warning("heartbeat for run %s failed", self.run_id, exc_info=True)
