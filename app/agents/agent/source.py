"""`AgentSource`: the agent loop as a `CandidateSource`, the last rung of the escalation.

`propose` starts a session on a fresh copy of the pristine tree and yields one candidate when
the model submits: the copy's diff. The planner verifies it like any other. When the verifier
rejects it, the patch stage calls `propose` again with the verifier's output
(`accepts_feedback`): the same session continues, on the same copy, with that output as the
next turn; once (`AgentSettings.revisions`). A feedback round beyond that yields nothing.

A submission FixWurx could never keep (no change, a change to CI or credential files, a patch
over the size cap) is answered in the loop instead of reaching the verifier. The sessions'
trajectories (bounded) are kept in `records` for the run state.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.agents import safety
from app.agents.agent.loop import Session
from app.agents.agent.settings import AgentSettings
from app.agents.agent.shell import Shell
from app.agents.agent.trajectory import Trajectory, brief
from app.agents.agent.workcopy import WorkCopy
from app.agents.llm.base import Message
from app.agents.llm.chain import ProviderChain
from app.agents.llm.prompts import failures_block, issue_block, render
from app.errors import BudgetExhausted, ProviderError
from app.repair.candidates import Candidate, FileEdit, RepairContext
from app.testing.results import Location
from app.testing.testcmd import TestCommand

log = logging.getLogger(__name__)

#: Suspicious lines shown in the task; the agent can look further itself.
MAX_LOCATIONS = 8


@dataclass
class _Live:
    """A session and its copy, kept between a submission and its verdict."""

    session: Session
    copy: WorkCopy
    record: dict[str, Any]
    revisions_left: int
    last_key: str = ""
    spent_tokens: int = 0
    spent_usd: float = 0.0


@dataclass
class AgentSource:
    """Proposes the diff an agent session submits."""

    chain: ProviderChain
    settings: AgentSettings = field(default_factory=AgentSettings)
    #: The run's test command, bound to the repository's environment once the chain built it.
    command: TestCommand | None = None
    name: str = "agent"
    accepts_feedback: bool = True
    #: One bounded trajectory per session, in order, for the run state.
    records: list[dict[str, Any]] = field(default_factory=list)
    #: Told one line per command (the patch stage points it at the run's progress).
    progress: Callable[[str], None] | None = None
    _live: _Live | None = None

    def propose(self, context: RepairContext) -> Iterator[Candidate]:
        """Start a session (or continue the last one with the verifier's feedback)."""
        live = self._continue(context) if context.feedback else self._start(context)
        if live is None:
            return
        parent = live.last_key or None
        try:
            submitted = live.session.run(lambda: self._acceptable(live, context))
        except BudgetExhausted as exc:
            self._end(live, f"budget exhausted: {exc}")
            raise
        except ProviderError as exc:
            self._end(live, f"providers failed: {exc}")
            raise
        finally:
            self._sync(live)
        if not submitted:
            self._end(live, live.session.trajectory.ended)
            return
        yield self._candidate(live, context, parent)

    # --- sessions ----------------------------------------------------------------------------

    def _start(self, context: RepairContext) -> _Live:
        self.close()
        copy = WorkCopy(context.root)
        command = (
            context.command or self.command or TestCommand(context.test_command, is_pytest=True)
        )
        shell = Shell(
            copy.root, command, self.settings.command_timeout_s, self.settings.observation_chars
        )
        system = render(
            "agent_system",
            timeout=f"{self.settings.command_timeout_s:g}",
            chars=str(self.settings.observation_chars),
            steps=str(self.settings.max_steps),
        )
        task = render(
            "agent_task",
            issue=issue_block(context.issue_text),
            failures=failures_block(context.failing),
            locations=_locations(context.locations),
            test_command=_shown(context.test_command, command),
        )
        session = Session(
            self.chain,
            shell,
            self.settings,
            system,
            [Message("user", task)],
            progress=self.progress,
        )
        record: dict[str, Any] = {"source": self.name, "submitted": []}
        self.records.append(record)
        self._live = _Live(session, copy, record, self.settings.revisions)
        return self._live

    def _continue(self, context: RepairContext) -> _Live | None:
        live = self._live
        if live is None:
            return None
        if live.revisions_left <= 0:  # one revision per session: the next round gets nothing
            self._end(live, "the verifier rejected the revised submission too; no revision left")
            return None
        live.revisions_left -= 1
        reason = context.rejected[0].description if context.rejected else ""
        live.session.tell(
            render(
                "agent_feedback",
                reason=_first_line(context.feedback) or reason or "(no reason given)",
                output=safety.fence("verifier-output", context.feedback[-6000:]),
            )
        )
        return live

    def _acceptable(self, live: _Live, context: RepairContext) -> str:
        """ "" when the copy's diff may go to the verifier, else what is wrong with it."""
        edits, problems = live.copy.changes()
        edits = tuple(e for e in edits if not _ignored(e.path, context.ignore_paths))
        if not edits:
            extra = f" ({'; '.join(problems)})" if problems else ""
            return "the copy has no change to any text file" + extra
        refused = [(e.path, why) for e in edits if (why := _refusal(e, context))]
        if refused:
            for path, _ in refused:
                live.copy.restore(path)
            said = "; ".join(f"refused edit to {path}: {why}" for path, why in refused)
            return f"{said}. FixWurx put those files back as they were; submit again without them"
        probe = Candidate(edits, self.name, "probe")
        try:
            safety.check_candidate(probe, safety.Scope.of(e.path for e in edits))
        except safety.UnsafeEdit as exc:
            return f"{exc}. Make the change smaller and submit again."
        if live.last_key and probe.key == live.last_key:
            return "this is the patch FixWurx already rejected; change it first"
        return ""

    def _candidate(self, live: _Live, context: RepairContext, parent: str | None) -> Candidate:
        edits, _ = live.copy.changes()
        edits = tuple(e for e in edits if not _ignored(e.path, context.ignore_paths))
        trajectory = live.session.trajectory
        tokens = trajectory.tokens - live.spent_tokens
        usd = trajectory.cost_usd - live.spent_usd
        live.spent_tokens, live.spent_usd = trajectory.tokens, trajectory.cost_usd
        provider = next(
            (s.provider for s in reversed(trajectory.steps) if s.provider), "unknown/unknown"
        )
        candidate = Candidate(
            edits=edits,
            source=f"agent:{provider}",
            description=_description(live.session.last_reply, trajectory),
            score=1.0,
            parent=parent,
            location=_location(context.locations, edits[0].path),
            tokens=tokens,
            cost_usd=usd,
            metadata={"turns": live.session.turns},
        )
        live.last_key = candidate.key
        live.record["submitted"].append(candidate.key)
        self._sync(live)
        candidate.metadata["agent"] = brief(live.record)
        return candidate

    def _end(self, live: _Live, why: str) -> None:
        live.session.trajectory.ended = why
        self._sync(live)
        # What the session spent after its last submission is on no candidate: the run state
        # adds it to the run's cost (PatchResult.apply), so a session that ends without a
        # candidate is not free in the report.
        trajectory = live.session.trajectory
        live.record["unattributed"] = {
            "tokens": trajectory.tokens - live.spent_tokens,
            "usd": round(trajectory.cost_usd - live.spent_usd, 6),
        }
        log.info("agent session ended: %s", why.splitlines()[0] if why else "")

    def _sync(self, live: _Live) -> None:
        live.record.update(live.session.trajectory.to_json())

    def close(self) -> None:
        """Remove the live session's copy (the record stays)."""
        if self._live is not None:
            self._live.copy.close()
            self._live = None

    @property
    def trajectories(self) -> list[dict[str, Any]]:
        """The sessions' bounded records (what the run state keeps)."""
        return list(self.records)


def _refusal(edit: FileEdit, context: RepairContext) -> str:
    """Why the agent may not change this file ("" when it may).

    Beyond what no model may touch (CI, credentials), the tests that judge the fix: the
    verifier runs them from the candidate's copy, so a weakened test would pass it. New test
    files (a reproduction) are welcome.
    """
    reason = safety.refusal_reason(edit.path)
    if reason:
        return reason
    judged = {o.test_id.split("::", 1)[0] for o in context.failing}
    if edit.before and (edit.path in judged or safety.is_test_path(edit.path)):
        return "an existing test, which judges the fix; change the code, not the test"
    return ""


def _locations(locations: tuple[Location, ...]) -> str:
    if not locations:
        return "(none)"
    return "\n".join(
        f"{loc.path}:{loc.line} (score {loc.score:.2f})" for loc in locations[:MAX_LOCATIONS]
    )


def _shown(argv: tuple[str, ...], command: TestCommand) -> str:
    if command.environment is not None or argv == command.argv:
        return command.display()
    return shlex.join(argv)


def _ignored(path: str, ignore: tuple[str, ...]) -> bool:
    return any(path.startswith(prefix) for prefix in ignore)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:300]


def _description(reply: str, trajectory: Trajectory) -> str:
    prose = reply.split("```", 1)[0]
    line = _first_line(prose)
    if not line:
        line = f"agent patch after {trajectory.commands} commands"
    return safety.defuse_mentions(line[:200])


def _location(locations: tuple[Location, ...], path: str) -> Location | None:
    return next((loc for loc in locations if loc.path == path), None)
