"""How a flow says a run ended: a typed verdict, recorded by the job function and nowhere else.

Flows (app/flows) decide; `workers.jobs.process_run` records the verdict through
`app.runs.finish`. A refusal is its own type (`Refused`) carrying whether the user must be told,
instead of a reason string whose first character meant "tell the user".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: What a flow can conclude. `refused`: a guard said no before any work; `done`: the run had no
#: repair to judge (a status or help reply, a recorded merge).
VerdictKind = Literal["fixed", "not_fixed", "refused", "stopped", "failed", "done"]

#: The run status each outcome is stored as. A refusal is stored as `done` (it tried nothing,
#: so it must not count as an attempt, and existing queries and dashboards read `done`).
STORED_STATUS: dict[str, str] = {
    "fixed": "fixed",
    "not_fixed": "not_fixed",
    "refused": "done",
    "stopped": "stopped",
    "failed": "failed",
    "done": "done",
}


@dataclass(frozen=True)
class Verdict:
    """The end of a run as a flow saw it, with a reason a user can read."""

    outcome: VerdictKind
    reason: str = ""

    @property
    def status(self) -> str:
        """The run status this verdict is stored as."""
        return STORED_STATUS[self.outcome]


@dataclass(frozen=True)
class Refused(Verdict):
    """A guard refused the run; `tell_user` when the user gets a comment saying why."""

    outcome: VerdictKind = "refused"
    tell_user: bool = False


def fixed(reason: str) -> Verdict:
    """A verified fix was published (or, when the push was refused, commented)."""
    return Verdict("fixed", reason)


def not_fixed(reason: str) -> Verdict:
    """The chain ran and found no verified fix."""
    return Verdict("not_fixed", reason)


def failed(reason: str) -> Verdict:
    """The run could not do its work (no tests found, a crash, a timeout)."""
    return Verdict("failed", reason)


def stopped(reason: str) -> Verdict:
    """A `/fixwurx stop` ended the run; its status is already `stopped`."""
    return Verdict("stopped", reason)


def done(reason: str = "") -> Verdict:
    """The run ended without a repair to judge."""
    return Verdict("done", reason)


def refused(reason: str, *, tell_user: bool = False) -> Refused:
    """A guard said no before any work was done."""
    return Refused(reason=reason, tell_user=tell_user)
