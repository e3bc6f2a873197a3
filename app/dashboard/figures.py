"""Two overview figures that judge FixWurx's own choices: rollback precision, cost per rung.

Rollback decisions (issue 24). A decision to revert is a `blamed` verdict; one fix counts once
however many red commits repeated the verdict. It is *confirmed* when a human merged FixWurx's
revert pull request or the fix was reverted on the default branch by anyone (shadow mode, where
FixWurx opens nothing, is judged by the latter alone); *closed unmerged* when the revert pull
request was closed without merging and the fix stayed; *open* otherwise. A *miss* is a merged
fix reverted on the default branch without a decision to revert it. Precision is confirmed /
(confirmed + closed unmerged): open decisions have no verdict yet.

Cost per resolved issue, by rung (issue 26). A fixed run was resolved at the rung whose
candidate it chose (`template:` templates, `llm:` the single-pass model, `agent:` the agent).
A rung's cost is every model call recorded under it (`llm_calls.rung`), including calls of runs
that escalated past it or were never fixed: that is what the rung costs per issue it resolves.
Calls outside the candidate search (explanations, reproduction tests) have no rung and are
shown apart; the total row divides all of it by every resolved run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.agents.budget import AGENT_RUNG, MODEL_RUNG
from app.models import (
    CLI_KIND,
    Attempt,
    CandidateRecord,
    LlmCall,
    PullRequest,
    RollbackDecision,
    Run,
    aware,
)

#: How far back the rollback figure looks (decisions are rare; a month would say little).
ROLLBACK_WINDOW_DAYS = 90
#: How far back the rung figure looks: the overview's 30 days (it reads a run's candidates, and
#: benchmarks/dashboard.py's 100,000 runs keep the page under its target at 30 days).
RUNG_WINDOW_DAYS = 30

MERGED = "merged"
CLOSED = "closed"
TEMPLATES_RUNG = "templates"
#: Candidate source prefix -> rung (app/repair/templates, app/agents/analyst, app/agents/agent).
SOURCE_RUNGS = {"template": TEMPLATES_RUNG, "llm": MODEL_RUNG, "agent": AGENT_RUNG}
RUNG_LABELS = {
    TEMPLATES_RUNG: "Templates",
    MODEL_RUNG: "Single-pass model",
    AGENT_RUNG: "Agent",
}


@dataclass(frozen=True)
class RollbackFigure:
    """Decisions to revert and what humans did about them."""

    decided: int
    confirmed: int
    closed_unmerged: int
    open: int
    misses: int
    shadow: int

    @property
    def precision(self) -> float | None:
        """Confirmed among the decisions humans have judged (None before any was)."""
        judged = self.confirmed + self.closed_unmerged
        return self.confirmed / judged if judged else None


def rollback_figure(session: Session, since: dt.datetime) -> RollbackFigure:
    """The figure over decisions made, and reverts seen, since `since`."""
    fixes: dict[tuple[int, int], list[tuple[str, str | None]]] = {}
    for repo, number, action, outcome in session.execute(
        select(
            RollbackDecision.repository_id,
            RollbackDecision.pr_number,
            RollbackDecision.action,
            RollbackDecision.revert_outcome,
        ).where(RollbackDecision.created_at >= since, RollbackDecision.verdict == "blamed")
    ):
        fixes.setdefault((int(repo), int(number)), []).append((str(action), outcome))
    reverted: dict[tuple[int, int], bool] = {}  # fix -> reverted inside the window
    for repo, number, at in session.execute(
        select(PullRequest.repository_id, PullRequest.number, PullRequest.reverted_at).where(
            PullRequest.kind == "fix",
            PullRequest.reverted_by_sha.is_not(None),
            or_(
                PullRequest.reverted_at >= since,
                PullRequest.number.in_({n for _, n in fixes} or {-1}),
            ),
        )
    ):
        reverted[(int(repo), int(number))] = at is not None and aware(at) >= since
    confirmed = closed = shadow = 0
    for key, rows in fixes.items():
        outcomes = {outcome for _, outcome in rows}
        shadow += all(action == "shadow" for action, _ in rows)
        if key in reverted or MERGED in outcomes:
            confirmed += 1
        elif CLOSED in outcomes:
            closed += 1
    return RollbackFigure(
        decided=len(fixes),
        confirmed=confirmed,
        closed_unmerged=closed,
        open=len(fixes) - confirmed - closed,
        misses=sum(inside for key, inside in reverted.items() if key not in fixes),
        shadow=shadow,
    )


@dataclass(frozen=True)
class RungRow:
    """One rung: the runs it resolved and what its model calls cost."""

    rung: str
    label: str
    resolved: int
    cost_usd: float

    @property
    def per_resolved(self) -> float | None:
        """Dollars per issue this rung resolved (None when it resolved none)."""
        return self.cost_usd / self.resolved if self.resolved else None


@dataclass(frozen=True)
class RungCosts:
    rows: list[RungRow]
    #: Calls outside the candidate search (no rung).
    other_usd: float

    @property
    def total(self) -> RungRow:
        """Every call over every resolved run."""
        return RungRow(
            "total",
            "All rungs",
            sum(r.resolved for r in self.rows),
            sum(r.cost_usd for r in self.rows) + self.other_usd,
        )


#: A run's calls come after it was created: CLI runs this much older than the window still
#: count as CLI runs for the calls inside it.
CLI_SLACK = dt.timedelta(days=1)
#: Attempt ids per query when looking up chosen candidates (an IN list the planner turns into
#: index lookups; a join let it scan every candidate for the rare `chosen` status).
CHUNK = 1000


def _chosen_sources(session: Session, since: dt.datetime, include_cli: bool) -> dict[int, str]:
    """run id -> the source of the candidate its latest attempt chose, for runs fixed since
    `since`."""
    wanted = select(Attempt.id, Attempt.run_id).join(Run, Run.id == Attempt.run_id)
    wanted = wanted.where(Run.created_at >= since, Run.status == "fixed")
    if not include_cli:
        wanted = wanted.where(Run.kind != CLI_KIND)
    attempts = {int(a): int(r) for a, r in session.execute(wanted)}
    ids = sorted(attempts)
    chosen: dict[int, tuple[int, str]] = {}
    for at in range(0, len(ids), CHUNK):
        for candidate_id, attempt_id, source in session.execute(
            select(CandidateRecord.id, CandidateRecord.attempt_id, CandidateRecord.source).where(
                CandidateRecord.attempt_id.in_(ids[at : at + CHUNK]),
                CandidateRecord.status == "chosen",
            )
        ):
            run = attempts[int(attempt_id)]
            if run not in chosen or int(candidate_id) > chosen[run][0]:  # the latest attempt's
                chosen[run] = (int(candidate_id), str(source))
    return {run: source for run, (_, source) in chosen.items()}


def rung_of(source: str) -> str:
    """The rung of a candidate source ("template:off_by_one" -> templates)."""
    return SOURCE_RUNGS.get(source.partition(":")[0], "other")


def rung_costs(session: Session, since: dt.datetime, include_cli: bool = False) -> RungCosts:
    """Resolved runs and model cost per rung, over runs and calls since `since`."""
    resolved: dict[str, int] = {}
    for source in _chosen_sources(session, since, include_cli).values():
        found = rung_of(source)
        resolved[found] = resolved.get(found, 0) + 1
    calls = select(LlmCall.rung, func.sum(LlmCall.cost_usd)).where(LlmCall.created_at >= since)
    if not include_cli:  # the few CLI runs' calls, left out like the runs themselves
        cli = select(Run.id).where(Run.kind == CLI_KIND, Run.created_at >= since - CLI_SLACK)
        calls = calls.where(or_(LlmCall.run_id.is_(None), LlmCall.run_id.not_in(cli)))
    spent: dict[str | None, float] = {}
    for tagged, usd in session.execute(calls.group_by(LlmCall.rung)):
        spent[tagged] = float(usd or 0.0)
    rows = [
        RungRow(rung, label, resolved.get(rung, 0), spent.pop(rung, 0.0))
        for rung, label in RUNG_LABELS.items()
    ]
    if resolved.get("other"):
        rows.append(RungRow("other", "Other sources", resolved["other"], 0.0))
    return RungCosts(rows, sum(spent.values()))
