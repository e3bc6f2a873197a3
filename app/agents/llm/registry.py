"""Which models serve which role, on which configured endpoint.

Roles: `analysis` (localize and patch), `fallback` (tried when the analysis model fails) and
`explanation` (a cheap model for the PR body). The system config (`MODEL_ANALYSIS`,
`MODEL_FALLBACK`, `MODEL_EXPLANATION`) names them; a repository's config may override them with
`{"models": {"analysis": ..., "fallback": ..., "explanation": ...}}` - model names only, never
endpoints or keys, so a repository cannot point FixWurx at a server of its choosing.

A model name is `provider:model` (`openai:gpt-5`, `anthropic:claude-sonnet-4-5`,
`local:qwen2.5-coder`) or a bare name whose provider is inferred (`claude-*` is Anthropic,
`gpt-*`/`o1`/`o3`/`o4` are OpenAI, anything else goes to the local server when one is set).
Endpoints are configured by the SDKs' usual variables: OPENAI_API_KEY/OPENAI_BASE_URL,
ANTHROPIC_API_KEY/ANTHROPIC_BASE_URL, and LOCAL_LLM_BASE_URL (+ LOCAL_LLM_API_KEY) for Ollama,
vLLM or llama.cpp. Nothing configured means no providers, and the planner stays offline.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from app.agents.agent import AgentSettings, AgentSource
from app.agents.analyst import AnalystConfig, LlmSource
from app.agents.budget import Budget
from app.agents.llm import constants
from app.agents.llm.anthropic_provider import AnthropicProvider
from app.agents.llm.base import ROLES, Provider, Role
from app.agents.llm.chain import ProviderChain, RetryPolicy
from app.agents.llm.openai_provider import OpenAIProvider
from app.config import Settings
from app.errors import ConfigError

log = logging.getLogger(__name__)

KINDS = ("openai", "anthropic", "local")
_OPENAI_PREFIXES = ("gpt-", "o1", "o3", "o4", "chatgpt-", "codex-")


@dataclass(frozen=True)
class Endpoint:
    """A configured place to send requests: which SDK, which key, which base URL."""

    kind: str
    api_key: str
    base_url: str

    def __repr__(self) -> str:  # the key never appears in logs
        return f"Endpoint(kind={self.kind!r}, base_url={self.base_url!r})"


@dataclass(frozen=True)
class ModelRef:
    """A model on a provider kind."""

    kind: str
    model: str


def endpoints(settings: Settings) -> dict[str, Endpoint]:
    """The configured endpoints, in preference order (OpenAI, Anthropic, local)."""
    found: dict[str, Endpoint] = {}
    if settings.openai_api_key:
        found["openai"] = Endpoint("openai", settings.openai_api_key, settings.openai_base_url)
    if settings.anthropic_api_key:
        found["anthropic"] = Endpoint(
            "anthropic", settings.anthropic_api_key, settings.anthropic_base_url
        )
    if settings.local_llm_base_url:
        key = settings.local_llm_api_key or constants.LOCAL_PLACEHOLDER_KEY
        found["local"] = Endpoint("local", key, settings.local_llm_base_url)
    return found


def role_models(settings: Settings, overrides: Mapping[str, Any] | None = None) -> dict[str, str]:
    """Model name per role: system config, then the repo config's `models` on top."""
    models = {
        "analysis": settings.model_analysis,
        "fallback": settings.model_fallback,
        "explanation": settings.model_explanation,
    }
    models.update(_repo_models(overrides))
    return models


def _repo_models(overrides: Mapping[str, Any] | None) -> dict[str, str]:
    if not overrides or "models" not in overrides:
        return {}
    models = overrides["models"]
    if not isinstance(models, Mapping):
        raise ConfigError(
            f"repo config 'models' must be a mapping of role to model, got {models!r}"
        )
    for role, name in models.items():
        if role not in ROLES:
            raise ConfigError(f"repo config models.{role}: unknown role; use one of {ROLES}")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"repo config models.{role}={name!r}: give a model name string")
    return {role: name.strip() for role, name in models.items()}


def resolve(name: str, configured: Mapping[str, Endpoint]) -> ModelRef | None:
    """Where model `name` runs, or None when its provider is not configured."""
    kind, sep, model = name.partition(":")
    if sep and kind in KINDS:
        return ModelRef(kind, model) if kind in configured else None
    guess = _infer_kind(name)
    if guess in configured:
        return ModelRef(guess, name)
    # A local server (vLLM, Ollama) may serve any name; prefer it over dropping the model.
    return ModelRef("local", name) if "local" in configured else None


def _infer_kind(model: str) -> str:
    if model.startswith("claude"):
        return "anthropic"
    if model.startswith(_OPENAI_PREFIXES):
        return "openai"
    return "local"


def model_refs(
    settings: Settings, role: Role = "analysis", overrides: Mapping[str, Any] | None = None
) -> list[ModelRef]:
    """The models to try for `role`, best first, without duplicates."""
    configured = endpoints(settings)
    models = role_models(settings, overrides)
    wanted = [models[role], models["fallback"]] if role == "analysis" else [models[role]]
    default_role = "explanation" if role == "explanation" else "analysis"
    refs: list[ModelRef] = []
    for name in wanted:
        ref = resolve(name, configured) if name else None
        if name and ref is None:
            log.warning("model %r has no configured provider; skipping it", name)
        if ref is not None and ref not in refs:
            refs.append(ref)
    for kind in configured:  # every configured endpoint is a last-resort fallback
        default = ModelRef(kind, constants.DEFAULT_MODELS[kind][default_role])
        if not any(ref.kind == kind for ref in refs):
            refs.append(default)
    return refs


def build_providers(
    settings: Settings,
    overrides: Mapping[str, Any] | None = None,
    role: Role = "analysis",
    timeout_s: float = constants.CALL_TIMEOUT_S,
) -> list[Provider]:
    """Providers for `role` in fallback order; empty when no endpoint is configured."""
    configured = endpoints(settings)
    return [
        _provider(ref, configured[ref.kind], timeout_s)
        for ref in model_refs(settings, role, overrides)
    ]


def _provider(ref: ModelRef, endpoint: Endpoint, timeout_s: float) -> Provider:
    if ref.kind == "anthropic":
        return AnthropicProvider(
            ref.model, api_key=endpoint.api_key, base_url=endpoint.base_url, timeout_s=timeout_s
        )
    return OpenAIProvider(
        ref.model,
        api_key=endpoint.api_key,
        base_url=endpoint.base_url,
        name=ref.kind,
        timeout_s=timeout_s,
    )


def build_chain(
    settings: Settings,
    budget: Budget,
    role: Role = "analysis",
    overrides: Mapping[str, Any] | None = None,
    policy: RetryPolicy | None = None,
    timeout_s: float = constants.CALL_TIMEOUT_S,
) -> ProviderChain | None:
    """A retrying, falling-back chain for `role`, or None when no provider is configured."""
    providers = build_providers(settings, overrides, role, timeout_s)
    return ProviderChain(providers, budget, role, policy) if providers else None


def build_agent_source(
    settings: Settings,
    overrides: Mapping[str, Any] | None = None,
    budget: Budget | None = None,
    *,
    agent: AgentSettings | None = None,
    policy: RetryPolicy | None = None,
    timeout_s: float = constants.CALL_TIMEOUT_S,
) -> AgentSource | None:
    """The agent loop on the analysis chain, or None when no provider is configured.

    Its turns are capped by the budget's `agent_steps` (BUDGET_AGENT_STEPS), its tokens and
    dollars by the budget's caps, like every model call.
    """
    budget = budget or Budget.from_settings(settings)
    chain = build_chain(settings, budget, "analysis", overrides, policy, timeout_s)
    if chain is None:
        return None
    knobs = agent or AgentSettings()
    steps = min(knobs.max_steps, budget.limits.agent_steps) if agent else budget.limits.agent_steps
    return AgentSource(chain, replace(knobs, max_steps=steps))


def build_llm_sources(
    settings: Settings,
    overrides: Mapping[str, Any] | None = None,
    budget: Budget | None = None,
    *,
    config: AnalystConfig | None = None,
    repository: str | None = None,
    memory: bool = True,
    policy: RetryPolicy | None = None,
    timeout_s: float = constants.CALL_TIMEOUT_S,
) -> list[LlmSource]:
    """The model candidate sources for the planner: `[]` when no provider is configured.

    `budget` defaults to the configured caps with no run scope; `memory` retrieves past fixes
    from `settings.database_url` as few-shot examples.
    """
    budget = budget or Budget.from_settings(settings)
    chain = build_chain(settings, budget, "analysis", overrides, policy, timeout_s)
    if chain is None:
        return []
    return [
        LlmSource(
            chain,
            config or AnalystConfig(),
            memory_url=settings.database_url if memory else None,
            repository=repository,
        )
    ]
