"""Budgets per run, per repository per day and per installation per month, in tokens and USD."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.agents.budget import Budget, BudgetLimits, CallRecord
from app.config import Settings
from app.db import session_scope
from app.errors import BudgetExhausted
from app.models import LlmCall

BIG = 10**9
NOW = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)


def _call(tokens: int = 0, usd: float = 0.0, status: str = "ok") -> CallRecord:
    return CallRecord("openai", "gpt-4o", "analysis", tokens, 0, usd, status, 10)


def _budget(url: str | None, limits: BudgetLimits, at: dt.datetime = NOW, **scope: int) -> Budget:
    return Budget(limits, url, clock=lambda: at, **scope)  # type: ignore[arg-type]


def _limits(**caps: float) -> BudgetLimits:
    values: dict[str, float] = {
        "run_tokens": BIG,
        "run_usd": 1e9,
        "repo_day_tokens": BIG,
        "repo_day_usd": 1e9,
        "installation_month_tokens": BIG,
        "installation_month_usd": 1e9,
    }
    values.update(caps)
    return BudgetLimits(**values)  # type: ignore[arg-type]


def test_run_token_cap(database_url: str) -> None:
    budget = _budget(database_url, _limits(run_tokens=1000), run_id=1)
    budget.record(_call(tokens=900))
    budget.check(100, 0.0)  # exactly at the cap is allowed
    with pytest.raises(BudgetExhausted, match="per-run tokens budget is 1,000 tokens"):
        budget.check(101, 0.0)
    other_run = _budget(database_url, _limits(run_tokens=1000), run_id=2)
    other_run.check(1000, 0.0)  # another run has its own allowance


def test_run_usd_cap_counts_failed_calls_too(database_url: str) -> None:
    budget = _budget(database_url, _limits(run_usd=0.10), run_id=1)
    budget.record(_call(tokens=10, usd=0.06))
    budget.record(_call(tokens=0, usd=0.03, status="timeout"))
    spend = budget.run_spend()
    assert (spend.tokens, spend.usd) == (10, pytest.approx(0.09))
    with pytest.raises(BudgetExhausted) as raised:
        budget.check(0, 0.02)
    message = str(raised.value)
    assert "per-run USD budget is $0.1000, $0.0900 already spent" in message
    assert "raise BUDGET_RUN_TOKENS / BUDGET_RUN_USD" in message


def test_repository_day_cap_resets_at_midnight_utc(database_url: str) -> None:
    limits = _limits(repo_day_tokens=1000, repo_day_usd=1.0)
    yesterday = _budget(database_url, limits, NOW - dt.timedelta(days=1), run_id=1, repository_id=5)
    yesterday.record(_call(tokens=900, usd=0.9))
    today = _budget(database_url, limits, NOW, run_id=2, repository_id=5)
    today.check(1000, 1.0)  # yesterday's spending does not count today
    today.record(_call(tokens=600, usd=0.1))
    later = _budget(database_url, limits, NOW + dt.timedelta(hours=3), run_id=3, repository_id=5)
    with pytest.raises(BudgetExhausted, match="per-repository daily tokens budget") as raised:
        later.check(500, 0.0)
    assert "wait until 00:00 UTC" in str(raised.value)
    _budget(database_url, limits, NOW, run_id=4, repository_id=6).check(1000, 1.0)


def test_installation_month_cap(database_url: str) -> None:
    limits = _limits(installation_month_usd=5.0)
    last_month = _budget(
        database_url, limits, NOW - dt.timedelta(days=20), repository_id=1, installation_id=9
    )
    last_month.record(_call(usd=4.0))
    for day in (1, 10):
        _budget(
            database_url, limits, NOW.replace(day=day), repository_id=day, installation_id=9
        ).record(_call(usd=2.0))
    budget = _budget(database_url, limits, NOW, repository_id=3, installation_id=9)
    budget.check(0, 1.0)
    with pytest.raises(
        BudgetExhausted, match=r"per-installation monthly USD budget is \$5.0000, \$4.0000"
    ):
        budget.check(0, 1.01)


def test_every_call_is_a_ledger_row(database_url: str) -> None:
    budget = _budget(database_url, _limits(), run_id=4, repository_id=5, installation_id=6)
    budget.record(_call(tokens=12, usd=0.5))
    budget.record(_call(status="rate_limited"))
    with session_scope(database_url) as session:
        rows = session.execute(
            select(LlmCall.run_id, LlmCall.repository_id, LlmCall.installation_id, LlmCall.status)
        ).all()
        total = session.scalar(select(func.sum(LlmCall.cost_usd)))
    assert sorted(rows) == [(4, 5, 6, "ok"), (4, 5, 6, "rate_limited")]
    assert total == pytest.approx(0.5)


def test_without_a_database_the_process_ledger_is_used() -> None:
    budget = _budget(None, _limits(run_tokens=100, repo_day_tokens=50), run_id=1, repository_id=1)
    budget.record(_call(tokens=40))
    with pytest.raises(BudgetExhausted, match="per-repository daily"):
        budget.check(11, 0.0)


def test_limits_come_from_settings() -> None:
    settings = Settings(budget_run_usd=0.5, budget_installation_month_tokens=77)
    limits = BudgetLimits.from_settings(settings)
    assert (limits.run_usd, limits.installation_month_tokens) == (0.5, 77)
    assert Budget.from_settings(settings, run_id=3).database_url == settings.database_url
