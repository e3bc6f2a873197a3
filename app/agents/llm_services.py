"""The language-model services a run may use, built once per run from the settings.

The planner asks this object for model candidate sources (after the templates), for a
reproduction test when an issue has no failing test, for the PR's root-cause explanation, and to
remember verified fixes. With no provider configured every answer is "nothing", and the chain
stays offline and free.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.config import Settings
from app.errors import BudgetExhausted, PatchError, ProviderError
from app.repair.candidates import CandidateSource, FileEdit, RepairContext
from app.testing.repro_match import Attempt
from app.testing.results import Location, TestOutcome

if TYPE_CHECKING:
    from app.agents.budget import Budget

log = logging.getLogger(__name__)


def provider_configured(settings: Settings) -> bool:
    """Is any model endpoint configured? Cheap: the SDKs (seconds to import) stay unloaded."""
    return bool(
        settings.openai_api_key or settings.anthropic_api_key or settings.local_llm_base_url
    )


@dataclass(frozen=True)
class ReproAnswer:
    """A model's reproduction test, or why there is none and whether asking again may help."""

    edit: FileEdit | None
    why: str
    retry: bool = True


@dataclass
class ModelServices:
    """Model access for one run, under one budget."""

    settings: Settings
    budget: Budget
    overrides: Mapping[str, Any] | None = None
    repository: str | None = None
    #: The code localized for the first reproduction try, reused by the next ones.
    _repro_code: str | None = field(default=None, init=False, repr=False)

    @classmethod
    def for_run(
        cls,
        settings: Settings,
        *,
        run_id: int | None = None,
        repository: str | None = None,
        repository_id: int | None = None,
        installation_id: int | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> ModelServices | None:
        """The services, or None when no provider is configured."""
        if not provider_configured(settings):
            return None
        from app.agents.budget import Budget

        budget = Budget.from_settings(settings, run_id, repository_id, installation_id)
        return cls(settings, budget, overrides, repository)

    def sources(self, agent: bool = False) -> list[CandidateSource]:
        """Model candidate sources, to try after the templates, cheapest first: the single-pass
        analyst, then (when `agent` is asked for) the agent loop."""
        from app.agents.budget import AGENT_RUNG, MODEL_RUNG
        from app.agents.llm.registry import build_agent_source, build_llm_sources

        # Each rung's calls are recorded with its name: the dashboard's cost per resolved issue.
        found: list[CandidateSource] = list(
            build_llm_sources(
                self.settings,
                self.overrides,
                self.budget.at_rung(MODEL_RUNG),
                repository=self.repository,
            )
        )
        if agent:
            source = build_agent_source(
                self.settings, self.overrides, self.budget.at_rung(AGENT_RUNG)
            )
            if source is not None:
                found.append(source)
        return found

    def reproduction_test(
        self, context: RepairContext, previous: Sequence[Attempt] = ()
    ) -> ReproAnswer:
        """A model-written test for the issue, or None and why not.

        `previous` are the tries already rejected: the model sees each, with what it printed.
        """
        from app.agents.llm.registry import build_chain
        from app.agents.reprotest import write_reproduction_test

        chain = build_chain(self.settings, self.budget, "analysis", self.overrides)
        if chain is None:
            return ReproAnswer(None, "no analysis model is configured", retry=False)
        try:
            written = write_reproduction_test(
                context, chain, previous=previous, code=self._repro_code
            )
        except PatchError as exc:  # an unusable answer: the next try may do better
            return ReproAnswer(None, f"the model's answer was not a usable test: {exc}")
        except (ProviderError, BudgetExhausted) as exc:  # asking again would fail the same way
            why = f"the model could not write a reproduction test: {exc}"
            return ReproAnswer(None, why, retry=False)
        self._repro_code = written.code
        return ReproAnswer(written.edit, "")

    def explanation(self, bundle_like: Any, issue_text: str) -> str:
        """A short root-cause paragraph for the PR body ("" when none can be had)."""
        from app.agents.explainer import explain

        return explain(
            bundle_like, self.settings, self.budget, self.overrides, issue_text=issue_text
        )

    def remember(
        self, failing: Sequence[TestOutcome], location: Location | None, diff: str
    ) -> None:
        """Keep a verified fix as an example for later runs; a failure here costs nothing."""
        from app.agents import memory

        try:
            memory.remember_fix(
                self.settings.database_url, failing, location, diff, repository=self.repository
            )
        except Exception as exc:  # memory is an optimisation, never a reason to fail a fix
            log.warning("could not remember the fix: %s", exc)
