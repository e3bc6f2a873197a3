"""Candidates that compile to the same tree are verified once; the original's tree never."""

from __future__ import annotations

from app.repair.candidates import UNCHANGED, Candidate, FileEdit, equivalence
from app.repair.search import SearchBudget, search
from app.repair.verifier import Verification

BEFORE = (
    "import math\n\n\n"
    "def area(r):\n    # the disc\n    return math.pi * r * r\n\n\n"
    "def half(x):\n    return x / 2\n"
)


def edit(after: str, path: str = "geo.py", before: str = BEFORE) -> Candidate:
    return Candidate((FileEdit(path, before, after),), "template:test", after[-30:])


def test_layout_and_parentheses_do_not_make_a_new_candidate() -> None:
    spaced = edit(BEFORE.replace("x / 2", "x // 2"))
    packed = edit(BEFORE.replace("x / 2", "(x)//2"))
    other = edit(BEFORE.replace("x / 2", "x * 2"))
    assert spaced.key != packed.key  # different text...
    assert equivalence(spaced) == equivalence(packed)  # ...same tree
    assert equivalence(other) != equivalence(spaced)


def test_an_edit_that_keeps_the_original_tree_is_unchanged() -> None:
    assert equivalence(edit(BEFORE.replace("# the disc", "# a disc"))) == UNCHANGED
    assert equivalence(edit(BEFORE.replace("math.pi * r * r", "(math.pi * r * r)"))) == UNCHANGED
    assert equivalence(edit(BEFORE.replace("r * r", "r * (r)"))) == UNCHANGED
    assert equivalence(edit(BEFORE.replace("r * r", "r ** 2"))) != UNCHANGED


def test_lines_added_or_removed_are_compared_by_tree_too() -> None:
    added = edit(BEFORE.replace("    return x / 2\n", "    y = x / 2\n    return y\n"))
    added_spaced = edit(BEFORE.replace("    return x / 2\n", "    y = x/2\n\n    return  y\n"))
    assert equivalence(added) == equivalence(added_spaced) != UNCHANGED


def test_what_is_not_python_or_does_not_parse_is_compared_as_text() -> None:
    notes = edit("b\n", path="notes.txt", before="a\n")
    assert equivalence(notes) != UNCHANGED
    new_file = edit("x = 1\n", before="")
    assert equivalence(new_file) != UNCHANGED
    broken = Candidate((FileEdit("geo.py", "def (:\n", "def (:\n  pass\n"),), "t", "broken")
    assert equivalence(broken) != UNCHANGED


def test_the_search_verifies_one_of_each_tree_and_never_the_original() -> None:
    checked: list[str] = []

    def check(candidate: Candidate) -> Verification:
        checked.append(candidate.edits[0].after)
        return Verification(False, "still fails (canary check)")

    stream = [
        edit(BEFORE.replace("x / 2", "x // 2")),
        edit(BEFORE.replace("x / 2", "(x) // 2")),  # same tree as the first
        edit(BEFORE.replace("# the disc", "# disc")),  # the original's tree
        edit(BEFORE.replace("x / 2", "x * 2")),
    ]
    result = search(stream, check, SearchBudget(workers=1))
    assert result.tried == 2
    assert [("//" in text, "* 2" in text) for text in checked] == [(True, False), (False, True)]
