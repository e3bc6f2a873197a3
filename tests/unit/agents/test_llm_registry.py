"""Models by role from the system config, overridden by the repo config; endpoints by settings."""

from __future__ import annotations

import pytest

from app.agents.budget import Budget
from app.agents.llm.base import Usage
from app.agents.llm.pricing import UNKNOWN_PRICE, cost_usd, price_of
from app.agents.llm.registry import (
    ModelRef,
    build_chain,
    build_llm_sources,
    build_providers,
    endpoints,
    model_refs,
    role_models,
)
from app.config import Settings
from app.errors import ConfigError

ALL = Settings(
    openai_api_key="sk-openai-secret-value",
    anthropic_api_key="sk-ant-secret-value",
    local_llm_base_url="http://127.0.0.1:11434/v1",
)


def _refs(
    settings: Settings, role: str = "analysis", overrides: dict | None = None
) -> list[tuple[str, str]]:
    return [(r.kind, r.model) for r in model_refs(settings, role, overrides)]  # type: ignore[arg-type]


def test_nothing_configured_means_no_providers_and_no_sources() -> None:
    assert build_providers(Settings()) == []
    assert build_chain(Settings(), Budget.unlimited()) is None
    assert build_llm_sources(Settings(), budget=Budget.unlimited()) == []


def test_configured_endpoints_and_defaults_in_preference_order() -> None:
    assert list(endpoints(ALL)) == ["openai", "anthropic", "local"]
    assert _refs(ALL) == [
        ("openai", "gpt-5.1"),
        ("anthropic", "claude-sonnet-4-6"),
        ("local", "qwen2.5-coder"),
    ]
    assert _refs(ALL, "explanation")[0] == ("openai", "gpt-5.1-mini")
    assert "secret" not in repr(endpoints(ALL))


def test_system_config_picks_models_by_role_and_infers_providers() -> None:
    settings = ALL.replace(model_analysis="claude-opus-4-5", model_fallback="gpt-4.1")
    assert _refs(settings)[:2] == [("anthropic", "claude-opus-4-5"), ("openai", "gpt-4.1")]
    assert _refs(settings)[2] == ("local", "qwen2.5-coder")  # last resort: the other endpoint


def test_repo_config_overrides_the_system_config() -> None:
    settings = ALL.replace(model_analysis="gpt-4.1", model_explanation="gpt-4.1-mini")
    overrides = {"models": {"analysis": "local:deepseek-coder", "explanation": "claude-haiku-4-5"}}
    assert role_models(settings, overrides)["analysis"] == "local:deepseek-coder"
    assert _refs(settings, "analysis", overrides)[0] == ("local", "deepseek-coder")
    assert _refs(settings, "explanation", overrides)[0] == ("anthropic", "claude-haiku-4-5")


def test_models_of_unconfigured_providers_are_skipped() -> None:
    only_openai = Settings(openai_api_key="k", model_analysis="claude-opus-4-5")
    assert _refs(only_openai) == [("openai", "gpt-5.1")]
    only_local = Settings(local_llm_base_url="http://127.0.0.1:8000/v1", model_analysis="gpt-4o")
    assert _refs(only_local) == [("local", "gpt-4o")]  # vLLM may serve any name


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"models": ["gpt-4o"]}, "must be a mapping"),
        ({"models": {"planner": "gpt-4o"}}, "models.planner: unknown role"),
        ({"models": {"analysis": ""}}, "models.analysis='': give a model name"),
        ({"models": {"analysis": 3}}, "models.analysis=3"),
    ],
)
def test_bad_repo_config_names_the_value(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        role_models(ALL, overrides)


def test_providers_carry_their_kind_and_model() -> None:
    providers = build_providers(ALL.replace(model_analysis="anthropic:claude-haiku-4-5"))
    assert [(p.name, p.model) for p in providers] == [
        ("anthropic", "claude-haiku-4-5"),
        ("openai", "gpt-5.1"),
        ("local", "qwen2.5-coder"),
    ]
    assert ModelRef("local", "x") == ModelRef("local", "x")


def test_pricing_by_longest_prefix_unknown_dear_local_free() -> None:
    usage = Usage(1_000_000, 1_000_000)
    assert cost_usd("openai", "gpt-4o-mini-2024-07-18", usage) == pytest.approx(0.75)
    assert cost_usd("openai", "gpt-4o", usage) == pytest.approx(12.5)
    assert cost_usd("anthropic", "claude-sonnet-4-5-20250929", usage) == pytest.approx(18.0)
    assert price_of("openai", "some-new-model") == UNKNOWN_PRICE
    assert cost_usd("local", "gpt-4o", usage) == 0.0
