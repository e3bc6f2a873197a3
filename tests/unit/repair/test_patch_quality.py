"""Patches that bypass computed values instead of fixing them are recognised."""

from app.repair.candidates import Candidate, FileEdit
from app.repair.patch_quality import dead_locals, orphans
from app.repair.search import edit_cost

BEFORE = """\
def top(orders, n):
    ranked = sorted(orders, reverse=False)
    return ranked[:n]
"""


def edit(after: str) -> Candidate:
    return Candidate((FileEdit("shop.py", BEFORE, after),), "template:test", "edit")


def test_dead_locals_are_found_per_function() -> None:
    assert dead_locals(BEFORE) == set()
    assert dead_locals("def f():\n    x = 1\n    return 2\n") == {("f", "x")}
    assert dead_locals("def f():\n    global X\n    X = 1\n") == set()
    assert dead_locals("def f(:\n") == set()


def test_bypassing_a_computation_is_an_orphan_and_costs_more() -> None:
    bypass = edit(BEFORE.replace("return ranked[:n]", "return orders[:n]"))
    fix = edit(BEFORE.replace("reverse=False", "reverse=True"))
    assert orphans(bypass) == {("top", "ranked")}
    assert orphans(fix) == set()
    assert edit_cost(bypass) > edit_cost(fix)


def test_code_that_was_already_dead_is_not_blamed_on_the_patch() -> None:
    before = "def f(a):\n    unused = 1\n    return a + 1\n"
    cand = Candidate((FileEdit("m.py", before, before.replace("+ 1", "- 1")),), "t", "d")
    assert orphans(cand) == set()


def test_a_parameter_the_patch_stops_reading_is_an_orphan() -> None:
    before = "def top(counts):\n    return sorted(counts, key=lambda item: counts[item])\n"
    after = before.replace("counts[item]", "counts[0]")
    cand = Candidate((FileEdit("m.py", before, after),), "t", "d")
    assert orphans(cand) == {("<lambda:2>", "item")}
    assert dead_locals("def f(self, used):\n    return used\n") == set()
