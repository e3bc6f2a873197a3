"""Run history for the CLI: each `fixwurx fix` is a run in the database, shown by `fixwurx show`.

History is a convenience, not a requirement: if the database cannot be opened, the repair still
runs and a one-line warning says why there is no record.
"""

from __future__ import annotations

import getpass
import logging

from sqlalchemy.exc import SQLAlchemyError

from app import runs
from app.chain.lineage import RunRecorder
from app.chain.state import RunState
from app.config import Settings
from app.db import ensure_sqlite_dir, session_scope
from app.models import Run

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
        with session_scope(settings.database_url) as session:
            run = Run(kind="cli", trigger="fixwurx fix", branch=source, requested_by=_user())
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


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _safe(url: str) -> str:
    """The URL without credentials, for messages."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rsplit('@', 1)[-1]}"
