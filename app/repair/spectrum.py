"""Spectrum-based suspiciousness: Ochiai over which tests executed which lines.

A line executed by many failing tests and few passing ones is suspicious:
ochiai = failed(line) / sqrt(total_failed * (failed(line) + passed(line))).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

LineKey = tuple[str, int]


@dataclass(frozen=True)
class Spectrum:
    """For each (path, line): how many failing and passing tests executed it."""

    failed: Mapping[LineKey, int]
    passed: Mapping[LineKey, int]
    total_failed: int

    def ochiai(self, key: LineKey) -> float:
        """The Ochiai score of one line; 0.0 when no failing test ran it."""
        ef = self.failed.get(key, 0)
        if ef == 0 or self.total_failed == 0:
            return 0.0
        ep = self.passed.get(key, 0)
        return ef / math.sqrt(self.total_failed * (ef + ep))

    def lines(self) -> set[LineKey]:
        """Every line some failing test executed: the only candidates for blame."""
        return set(self.failed)


def build_spectrum(
    lines_by_test: Mapping[str, Iterable[LineKey]], failing: set[str], passing: set[str]
) -> Spectrum:
    """Count executions per line over the tests whose outcome we know."""
    failed: dict[LineKey, int] = {}
    passed: dict[LineKey, int] = {}
    for test, lines in lines_by_test.items():
        target = failed if test in failing else passed if test in passing else None
        if target is None:
            continue
        for key in set(lines):
            target[key] = target.get(key, 0) + 1
    seen_failing = sum(1 for t in lines_by_test if t in failing)
    return Spectrum(failed, passed, seen_failing)


def context_matches(context: str, test_id: str) -> bool:
    """Does a coverage `test_function` context (module.qualname) name this pytest node id?

    `tests/test_calc.py::TestAdd::test_big[3]` is recorded as `test_calc.TestAdd.test_big` or
    `tests.test_calc.TestAdd.test_big` depending on the import mode, so compare the qualified
    name exactly and the module by dotted suffix.
    """
    parts = test_id.split("::")
    if len(parts) < 2:
        return False
    qualname = ".".join([*parts[1:-1], parts[-1].split("[", 1)[0]])
    if not context.endswith(qualname):
        return False
    module = context[: -len(qualname)].rstrip(".")
    dotted = parts[0].removesuffix(".py").replace("/", ".")
    return bool(module) and (
        dotted == module or dotted.endswith("." + module) or module.endswith("." + dotted)
    )
