"""Spending caps for model calls: per run, per repository per day, per installation per month.

Each cap exists in tokens and in US dollars. `Budget.check` runs BEFORE every call with an
upper estimate of that call (prompt size plus the full `max_tokens`), so a call that could push a
scope over its cap is never made: the cap is a ceiling, not a trigger. Every call, failed ones
included, is written to `llm_calls`, and the sums over that table are the source of truth, so a
run resumed by another worker still sees what the first one spent. Without a database (or
without the id of a scope) the budget falls back to what this process itself recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute

from app.config import Settings
from app.db import session_scope
from app.errors import BudgetExhausted
from app.models import LlmCall, utcnow

#: The escalation rungs whose candidate search makes model calls (templates make none); the
#: dashboard's cost per resolved issue sums `llm_calls.cost_usd` by these.
MODEL_RUNG = "model"
AGENT_RUNG = "agent"


@dataclass(frozen=True)
class Spend:
    """Tokens and dollars."""

    tokens: int = 0
    usd: float = 0.0

    def __add__(self, other: Spend) -> Spend:
        return Spend(self.tokens + other.tokens, self.usd + other.usd)


@dataclass(frozen=True)
class BudgetLimits:
    """The six spending caps and the agent's turns; see `Settings.budget_*` for the defaults."""

    run_tokens: int
    run_usd: float
    repo_day_tokens: int
    repo_day_usd: float
    installation_month_tokens: int
    installation_month_usd: float
    #: Turns an agent session may take (app/agents/agent); tokens and dollars bind it too.
    agent_steps: int = 30

    @classmethod
    def from_settings(cls, settings: Settings) -> BudgetLimits:
        """The caps configured for this deployment."""
        return cls(
            run_tokens=settings.budget_run_tokens,
            run_usd=settings.budget_run_usd,
            repo_day_tokens=settings.budget_repo_day_tokens,
            repo_day_usd=settings.budget_repo_day_usd,
            installation_month_tokens=settings.budget_installation_month_tokens,
            installation_month_usd=settings.budget_installation_month_usd,
            agent_steps=settings.budget_agent_steps,
        )


@dataclass(frozen=True)
class CallRecord:
    """One model call as written to `llm_calls`."""

    provider: str
    model: str
    role: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    status: str
    latency_ms: int


@dataclass
class Budget:
    """The caps for one run, and the ledger its calls are written to."""

    limits: BudgetLimits
    database_url: str | None = None
    run_id: int | None = None
    repository_id: int | None = None
    installation_id: int | None = None
    clock: Callable[[], dt.datetime] = utcnow
    local: Spend = field(default_factory=Spend)
    #: The rung each call is recorded under (None: a call outside the candidate search).
    rung: str | None = None
    #: The budget this one is a rung's view of: its caps and local ledger are the same.
    _parent: Budget | None = field(default=None, repr=False)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        run_id: int | None = None,
        repository_id: int | None = None,
        installation_id: int | None = None,
    ) -> Budget:
        """A budget with the configured caps, recording into the configured database."""
        return cls(
            BudgetLimits.from_settings(settings),
            settings.database_url,
            run_id=run_id,
            repository_id=repository_id,
            installation_id=installation_id,
        )

    @classmethod
    def unlimited(cls) -> Budget:
        """No caps and no database: for tools and tests that only need the ledger shape."""
        big = 10**12
        return cls(BudgetLimits(big, float(big), big, float(big), big, float(big)))

    def at_rung(self, rung: str) -> Budget:
        """This budget, recording each call with `rung`: the same caps, the same ledger."""
        return replace(self, rung=rung, _parent=self._root())

    def _root(self) -> Budget:
        return self._parent if self._parent is not None else self

    def check(self, tokens: int, usd: float) -> None:
        """Raise `BudgetExhausted` if a call of up to `tokens` / `usd` could exceed any cap."""
        for scope in self._scopes():
            spent = scope.spent()
            _check_one(scope.label, scope.fix, spent.tokens, tokens, scope.max_tokens, "tokens")
            _check_one(scope.label, scope.fix, spent.usd, usd, scope.max_usd, "USD")

    def record(self, call: CallRecord) -> None:
        """Write one call (successful or not) to the ledger."""
        root = self._root()
        root.local = root.local + Spend(call.input_tokens + call.output_tokens, call.cost_usd)
        if self.database_url is None:
            return
        with session_scope(self.database_url) as session:
            session.add(
                LlmCall(
                    run_id=self.run_id,
                    repository_id=self.repository_id,
                    installation_id=self.installation_id,
                    created_at=self.clock(),
                    rung=self.rung,
                    **vars(call),
                )
            )

    def run_spend(self) -> Spend:
        """What this run has spent so far."""
        return self._scopes()[0].spent()

    def _scopes(self) -> list[_Scope]:
        now = self.clock()
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        month = day.replace(day=1)
        limits = self.limits
        return [
            _Scope(
                "per-run",
                "raise BUDGET_RUN_TOKENS / BUDGET_RUN_USD or start a new run",
                limits.run_tokens,
                limits.run_usd,
                self._spent(LlmCall.run_id, self.run_id, None),
            ),
            _Scope(
                "per-repository daily",
                "raise BUDGET_REPO_DAY_TOKENS / BUDGET_REPO_DAY_USD or wait until 00:00 UTC",
                limits.repo_day_tokens,
                limits.repo_day_usd,
                self._spent(LlmCall.repository_id, self.repository_id, day),
            ),
            _Scope(
                "per-installation monthly",
                "raise BUDGET_INSTALLATION_MONTH_TOKENS / BUDGET_INSTALLATION_MONTH_USD "
                "or wait until the 1st of next month (UTC)",
                limits.installation_month_tokens,
                limits.installation_month_usd,
                self._spent(LlmCall.installation_id, self.installation_id, month),
            ),
        ]

    def _spent(
        self,
        column: InstrumentedAttribute[int | None],
        value: int | None,
        since: dt.datetime | None,
    ) -> Callable[[], Spend]:
        if self.database_url is None or value is None:
            return lambda: self._root().local
        url = self.database_url

        def query() -> Spend:
            tokens = func.coalesce(func.sum(LlmCall.input_tokens + LlmCall.output_tokens), 0)
            usd = func.coalesce(func.sum(LlmCall.cost_usd), 0.0)
            stmt = select(tokens, usd).where(column == value)
            if since is not None:
                stmt = stmt.where(LlmCall.created_at >= since)
            with session_scope(url) as session:
                row = session.execute(stmt).one()
            return Spend(int(row[0]), float(row[1]))

        return query


@dataclass(frozen=True)
class _Scope:
    label: str
    fix: str
    max_tokens: float
    max_usd: float
    spent: Callable[[], Spend]


def _check_one(label: str, fix: str, spent: float, need: float, cap: float, unit: str) -> None:
    if spent + need <= cap:
        return
    raise BudgetExhausted(
        f"LLM budget exhausted: the {label} {unit} budget is {_fmt(cap, unit)}, "
        f"{_fmt(spent, unit)} already spent and the next call may need up to {_fmt(need, unit)}; "
        f"{fix}."
    )


def _fmt(value: float, unit: str) -> str:
    return f"${value:,.4f}" if unit == "USD" else f"{int(value):,} tokens"
