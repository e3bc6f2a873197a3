"""What the failure itself says about the kind of fix: error types reweight family priors.

A `'NoneType' object is not subscriptable` points at a missing return or a missing None guard;
an `IndexError` at an off-by-one or a bounds guard; a test stopped by pytest-timeout at a loop
condition. These are properties of Python's errors, not of any benchmark, so they generalize.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.testing.results import TestOutcome

#: (pattern in a failing test's message or traceback, {family: prior multiplier}).
HINTS: tuple[tuple[re.Pattern[str], dict[str, float]], ...] = (
    (re.compile(r"NoneType|returned None|is None"), {"literal_or_return": 2.0, "guard": 1.6}),
    # pytest's rewritten `assert f(x) == 0` shows `assert None == 0` when `f` fell off its end
    # (or returned a bare `return`): a missing return, not a wrong operator.
    (
        re.compile(r"assert None (?:==|!=|in)|where None = "),
        {"literal_or_return": 1.6, "statement": 1.6},
    ),
    (re.compile(r"IndexError|out of range"), {"off_by_one": 1.4, "guard": 1.6}),
    (re.compile(r"ZeroDivisionError|division by zero"), {"guard": 2.0, "off_by_one": 1.2}),
    (re.compile(r"KeyError"), {"literal_or_return": 1.4, "guard": 1.4, "name_replacement": 1.2}),
    (re.compile(r"Timeout|timed out"), {"condition": 1.6, "operator_replacement": 1.1}),
    (re.compile(r"UnboundLocalError|NameError"), {"name_replacement": 1.6, "statement": 1.4}),
    (re.compile(r"AttributeError"), {"name_replacement": 1.4, "guard": 1.4}),
    (re.compile(r"TypeError"), {"argument_swap": 1.3, "call": 1.3}),
)


def family_boosts(failing: Iterable[TestOutcome]) -> dict[str, float]:
    """Multipliers for family priors from the failing tests' messages (1.0 when silent).

    Agreeing hints take the largest multiplier rather than compounding, so a family's boost is
    never above the largest single entry in `HINTS`.
    """
    boosts: dict[str, float] = {}
    text = "\n".join(f"{o.message}\n{o.traceback[-2000:]}" for o in failing)
    for pattern, multipliers in HINTS:
        if pattern.search(text):
            for family, factor in multipliers.items():
                boosts[family] = max(boosts.get(family, 1.0), factor)
    return boosts
