"""Run history for the CLI: each `fixwurx fix` is a run in the database, shown by `fixwurx show`.

History is a convenience, not a requirement: if the database cannot be opened, the repair still
runs and a one-line warning says why there is no record.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket

from sqlalchemy.exc import SQLAlchemyError

from app import runs
from app.chain.lineage import RunRecorder
from app.chain.state import RunState
from app.config import Settings
from app.db import ensure_sqlite_dir, session_scope
from app.models import CLI_KIND, Run
from app.runs.sweep import end_abandoned_cli_runs

log = logging.getLogger(__name__)


def ensure_schema(database_url: str) -> None:
    """Bring the database to the latest migration (cheap when it already is)."""
    from app.ops.migrate import upgrade

    ensure_sqlite_dir(database_url)
    upgrade(database_url)


def open_cli_run(settings: Settings, source: str) -> RunRecorder | None:
    """A new `cli` run and its recorder, or None (with a warning) when there is no database."""
    try:
        ensure_schema(settings.database_url)
        host = socket.gethostname()
        settle_abandoned(settings.database_url)
        with session_scope(settings.database_url) as session:
            run = Run(
                kind=CLI_KIND,
                trigger="fixwurx fix",
                branch=source,
                requested_by=_user(),
                owner=f"{host}:{os.getpid()}",
            )
            session.add(run)
            session.flush()
            run_id = run.id
        runs.claim(settings.database_url, run_id)  # the CLI runs it right away
    except (SQLAlchemyError, OSError) as exc:
        log.warning("run history is off: cannot open %s: %s", _safe(settings.database_url), exc)
        return None
    return RunRecorder(settings.database_url, run_id)


#: The run status each chain status ends a CLI run with (`error` is a failed run).
CLI_STATUS = {"fixed": "fixed", "not_fixed": "not_fixed", "error": "failed", "running": "failed"}


def close_cli_run(recorder: RunRecorder, state: RunState) -> None:
    """Finish the run with the chain's end, through `app.runs` (the run row's one owner)."""
    runs.finish(recorder.database_url, recorder.run_id, CLI_STATUS[state.status], state.reason)


def fail_cli_run(recorder: RunRecorder | None, reason: str) -> None:
    """End the run as failed when the CLI stops early (bad input, an error, Ctrl-C).

    Without this a run that ended in exit 2 read "running" forever. Conditional on the run
    still running, so a run already finished keeps its end; never raises (the user's error is
    the message that matters).
    """
    if recorder is None:
        return
    try:
        runs.finish(recorder.database_url, recorder.run_id, "failed", reason)
    except SQLAlchemyError as exc:
        log.warning("could not record the end of run %s: %s", recorder.run_id, exc)


def settle_abandoned(database_url: str) -> list[int]:
    """Fail this host's CLI runs whose `fixwurx fix` process is gone (killed before its end)."""
    return end_abandoned_cli_runs(database_url, socket.gethostname(), pid_alive)


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists on this host (a zombie counts: its parent has not reaped it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process holds the pid
    return True


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _safe(url: str) -> str:
    """The URL without credentials, for messages."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rsplit('@', 1)[-1]}"
