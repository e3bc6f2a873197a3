"""Families with more verified fixes are tried a little earlier; no evidence changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from app.repair.candidates import RepairContext
from app.repair.templates import TemplateSource, likelihood
from app.testing.results import Location

# One statement where comparison flips (operators) and name replacements both apply.
SOURCE = "def last(items, n):\n    if n < len(items):\n        return items[n]\n    return None\n"


def _families(tmp_path: Path, source: TemplateSource) -> list[str]:
    (tmp_path / "seq.py").write_text(SOURCE)
    context = RepairContext(tmp_path, (), (Location("seq.py", 2, 1.0),), ("pytest",))
    return [str(c.metadata["family"]) for c in source.propose(context)]


def test_evidence_moves_the_family_that_fixed_more_ahead(tmp_path: Path) -> None:
    neutral = _families(tmp_path, TemplateSource(evidence={}))
    assert neutral[:3] == ["operator_replacement", "operator_replacement", "name_replacement"]
    favoured = _families(tmp_path, TemplateSource(evidence={"name_replacement": 30}))
    # Bounded: the best flip (prior 1.0) stays first; the names overtake the weaker flips.
    assert favoured[:3] == ["operator_replacement", "name_replacement", "name_replacement"]
    assert sorted(favoured) == sorted(neutral)  # reordered, nothing dropped or added


def test_factors_are_bounded_smoothed_and_neutral_without_evidence() -> None:
    families = ("a", "b", "c")
    assert likelihood.factors({}, families) == {"a": 1.0, "b": 1.0, "c": 1.0}
    got = likelihood.factors({"a": 9, "b": 0}, families)
    assert got["a"] == likelihood.HIGH
    assert likelihood.LOW < got["b"] == got["c"] < got["a"]


def test_the_evidence_is_read_and_a_bad_one_is_ignored() -> None:
    good = json.dumps({"verified": {"call": 3, "guard": 1}})
    assert likelihood.load(good) == {"call": 3, "guard": 1}
    assert likelihood.load("[1, 2") == {}
    assert likelihood.load(json.dumps({"verified": {"call": "many"}})) == {}
    assert set(likelihood.load()) <= {f.FAMILY for f in TemplateSource().families}
