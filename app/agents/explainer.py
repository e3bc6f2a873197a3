"""A short root-cause explanation for the pull request body, by the cheap model.

The explanation is a courtesy, never a requirement: with no provider, a provider failure or an
exhausted budget it is simply "" and the PR is opened without it. The text is model output
going into a public PR, so it is cut to a length and mentions are defused (a model must not be
able to ping people or teams).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from app.agents.budget import Budget
from app.agents.llm.base import ChatRequest
from app.agents.llm.chain import ProviderChain, RetryPolicy
from app.agents.llm.prompts import failures_block, issue_block, render
from app.agents.safety import defuse_mentions, fence
from app.config import Settings
from app.errors import BudgetExhausted, ProviderError
from app.testing.results import TestOutcome

log = logging.getLogger(__name__)

#: Words asked for, and characters kept: a PR body is skimmed, not read.
MAX_WORDS = 120
MAX_CHARS = 1200
#: Output tokens allowed: ample for MAX_WORDS words.
MAX_TOKENS = 400
#: Diff characters shown; the explanation needs the gist, not every hunk.
MAX_DIFF_CHARS = 6000


def explain(
    bundle_like: Any,
    settings: Settings,
    budget: Budget,
    overrides: Mapping[str, Any] | None = None,
    *,
    issue_text: str = "",
    policy: RetryPolicy | None = None,
) -> str:
    """Root cause in a short paragraph, or "" when no model can (or may) write it.

    `bundle_like` is a PatchBundle, a mapping or any object with a `diff` and, optionally,
    `issue_text` and `failing` (TestOutcomes) or `evidence` entries; `issue_text` given here
    wins (a PatchBundle does not carry the issue).
    """
    from app.agents.llm.registry import build_chain

    chain = build_chain(settings, budget, "explanation", overrides, policy)
    return explain_with(chain, bundle_like, issue_text) if chain else ""


def explain_with(chain: ProviderChain, bundle_like: Any, issue_text: str = "") -> str:
    """`explain` over an existing chain."""
    diff = str(_field(bundle_like, "diff") or "")
    if not diff.strip():
        return ""
    issue = issue_text or str(_field(bundle_like, "issue_text", "issue") or "")
    prompt = render(
        "explain",
        max_words=str(MAX_WORDS),
        issue=issue_block(issue),
        failures=_failures(bundle_like),
        diff=fence("patch", diff[:MAX_DIFF_CHARS]),
    )
    try:
        answer = chain.complete(ChatRequest.single(render("system"), prompt, MAX_TOKENS)).text
    except (ProviderError, BudgetExhausted) as exc:
        log.warning("no root-cause explanation: %s", exc)
        return ""
    return sanitize(answer)


def sanitize(text: str) -> str:
    """Plain, bounded, mention-free text."""
    text = re.sub(r"```.*?(```|$)", "", text, flags=re.DOTALL).strip()
    text = defuse_mentions(text)
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS].rsplit(" ", 1)[0] + " …"
    return text


def _field(obj: Any, *names: str) -> Any:
    for name in names:
        value = obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)
        if value:
            return value
    return None


def _failures(bundle_like: Any) -> str:
    failing = _field(bundle_like, "failing", "failing_before")
    if isinstance(failing, Sequence) and all(isinstance(f, TestOutcome) for f in failing):
        return failures_block(list(failing))
    evidence = _field(bundle_like, "evidence")
    return fence("evidence", str(evidence)[:3000]) if evidence else "(not given)"
