"""Error types in the failing tests reweight the template families."""

from app.repair.templates.hints import HINTS, family_boosts
from app.testing import results


def failing(message: str, traceback: str = "") -> results.TestOutcome:
    return results.TestOutcome("t.py::test_x", "failed", 0.1, message, traceback)


def test_none_errors_favour_returns_and_guards() -> None:
    boosts = family_boosts([failing("TypeError: 'NoneType' object is not subscriptable")])
    assert boosts["literal_or_return"] > 1 and boosts["guard"] > 1
    assert boosts.get("operator_replacement", 1.0) == 1.0


def test_a_value_that_came_back_none_favours_returns_and_missing_statements() -> None:
    message = "assert None == 0\n +  where None = sign(0)"
    boosts = family_boosts([failing(message)])
    assert boosts["literal_or_return"] > 1 and boosts["statement"] > 1
    assert family_boosts([failing("assert 0 == None")]) == {}


def test_hangs_favour_loop_conditions() -> None:
    boosts = family_boosts([failing("Failed: Timeout (>5.0s) from pytest-timeout.")])
    assert boosts["condition"] > boosts.get("guard", 1.0)


def test_plain_assertions_change_nothing_and_agreeing_hints_do_not_compound() -> None:
    assert family_boosts([failing("assert 3 == 4")]) == {}
    many = "IndexError ZeroDivisionError KeyError NoneType AttributeError"
    boosts = family_boosts([failing(many, many)])
    matched = [multipliers for pattern, multipliers in HINTS if pattern.search(many)]
    assert len(matched) == 5 and len([m for m in matched if "guard" in m]) == 5
    for family, boost in boosts.items():
        assert boost == max(m[family] for m in matched if family in m)
    assert max(boosts.values()) <= max(f for _, m in HINTS for f in m.values())
