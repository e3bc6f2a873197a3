"""Prompts live in `app/agents/prompts/*.txt` (SWE-agent style) and are filled here.

`string.Template` (`$name`) is used rather than `str.format` because prompts quote code and
code is full of braces. Every placeholder must be given: a missing one is a bug, not a blank.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from string import Template

from app.testing.results import TestOutcome


@cache
def _template(name: str) -> Template:
    text = (resources.files("app.agents") / "prompts" / f"{name}.txt").read_text(encoding="utf-8")
    return Template(text)


def render(name: str, **values: str) -> str:
    """Prompt `name` with its `$placeholders` filled; KeyError names a missing one."""
    return _template(name).substitute(values)


#: Failing tests shown to a model at most, and characters of traceback kept for each: the first
#: failures carry the signal; more of them only cost tokens.
MAX_FAILURES_SHOWN = 5
MAX_TRACEBACK_CHARS = 2500


def issue_block(text: str) -> str:
    """The issue text, fenced as data ("(none)" when empty)."""
    from app.agents.safety import fence

    return fence("issue", text) if text.strip() else "(none)"


def failures_block(failing: Sequence[TestOutcome]) -> str:
    """The failing tests with messages and the tail of each traceback, fenced as data."""
    from app.agents.safety import fence

    if not failing:
        return "(none)"
    parts = []
    for outcome in failing[:MAX_FAILURES_SHOWN]:
        trace = outcome.traceback[-MAX_TRACEBACK_CHARS:]
        parts.append(f"{outcome.test_id} [{outcome.outcome}]: {outcome.message}\n{trace}".rstrip())
    if len(failing) > MAX_FAILURES_SHOWN:
        parts.append(f"... and {len(failing) - MAX_FAILURES_SHOWN} more failing tests")
    return fence("test-results", "\n\n".join(parts))
