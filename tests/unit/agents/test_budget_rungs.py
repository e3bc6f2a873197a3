"""Each escalation rung's model calls are recorded under its name (`llm_calls.rung`), for the
dashboard's cost per resolved issue, while every rung still spends from the run's one budget."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.agents.budget import AGENT_RUNG, MODEL_RUNG, Budget, BudgetLimits, CallRecord
from app.agents.llm.base import ChatRequest
from app.agents.llm_services import ModelServices
from app.config import Settings
from app.db import session_scope
from app.errors import BudgetExhausted
from app.models import LlmCall
from tests.fakes.llm import Reply, fake_llm


def _limits(run_usd: float = 1e9) -> BudgetLimits:
    big = 10**9
    return BudgetLimits(big, run_usd, big, 1e9, big, 1e9)


def _call(usd: float) -> CallRecord:
    return CallRecord("openai", "gpt-4o", "analysis", 10, 5, usd, "ok", 10)


def test_a_rungs_view_shares_the_ledger_and_the_caps_without_a_database() -> None:
    budget = Budget(_limits(run_usd=1.0))
    budget.at_rung(MODEL_RUNG).record(_call(0.6))
    agent = budget.at_rung(MODEL_RUNG).at_rung(AGENT_RUNG)
    agent.record(_call(0.3))
    assert budget.local.usd == pytest.approx(0.9)
    with pytest.raises(BudgetExhausted):
        agent.check(0, 0.2)  # the model's spend counts against the agent too


def test_the_services_tag_the_single_pass_and_the_agent_calls(database_url: str) -> None:
    with fake_llm("openai") as server:
        server.push(Reply("one", 100, 20), Reply("two", 300, 50), Reply("three", 10, 5))
        settings = Settings(
            openai_api_key="sk-test", openai_base_url=server.base_url, database_url=database_url
        )
        services = ModelServices.for_run(settings, run_id=7)
        assert services is not None
        model, agent = services.sources(agent=True)
        request = ChatRequest.single("system", "user", max_tokens=64)
        model.chain.complete(request)  # type: ignore[attr-defined]
        agent.chain.complete(request)  # type: ignore[attr-defined]
        services.budget.record(_call(0.0))  # an explanation: outside the candidate search
    with session_scope(database_url) as session:
        rows = session.execute(select(LlmCall.rung, LlmCall.run_id).order_by(LlmCall.id)).all()
    assert [tuple(r) for r in rows] == [(MODEL_RUNG, 7), (AGENT_RUNG, 7), (None, 7)]
