"""The GitHub job: what a worker does for one run (fix, CI failure, or a command).

`workers/jobs.py::process_run(run_id)` claims the run and calls `execute_run`; everything that
talks to GitHub for that run happens from here, so the worker stays a thin shell.
"""

from __future__ import annotations

from app.config import Settings


def execute_run(settings: Settings, run_id: int) -> None:
    """Carry out run `run_id` against GitHub: guards, clone, repair chain, PR or comment."""
    raise NotImplementedError(f"execute_run({run_id}) is not implemented yet")
