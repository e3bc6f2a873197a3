"""Two-edit candidates: built only from the best singles, after them, bounded, and fixing a
bug no single edit fixes when run through the real localizer, search and verifier."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from app.repair.candidates import Candidate, FileEdit, RepairContext
from app.repair.localization import localize
from app.repair.search import SearchBudget, search
from app.repair.templates import TemplateSource, pairs
from app.repair.templates.base import Mutation, ParsedFile
from app.repair.verifier import Baseline, Verifier
from app.testing import testcmd
from app.testing.testrun import run_tests

TEXT = "def f(a, b):\n    x = a - b\n    return x * 2\n"


def single(parsed: ParsedFile, mutation: Mutation, line: int, score: float = 1.0) -> pairs.Single:
    edit = FileEdit(parsed.path, parsed.text, parsed.apply(mutation))
    candidate = Candidate((edit,), "template:test", mutation.description, score=score)
    return pairs.Single(candidate, parsed, mutation, line)


def test_two_disjoint_edits_combine_into_one_file_edit() -> None:
    parsed = ParsedFile("m.py", TEXT)
    minus = TEXT.index("-")
    times = TEXT.index("*")
    first = single(parsed, Mutation(minus, minus + 1, "+", "- -> +"), 2, 0.5)
    second = single(parsed, Mutation(times, times + 1, "//", "* -> //"), 3, 0.4)
    pair = pairs.combine(first, second)
    assert pair is not None
    assert pair.edits[0].after == "def f(a, b):\n    x = a + b\n    return x // 2\n"
    assert pair.score == 0.2
    assert pair.source == "template:pair"


def test_overlapping_edits_and_insertions_at_one_point_do_not_pair() -> None:
    parsed = ParsedFile("m.py", TEXT)
    minus = TEXT.index("-")
    first = single(parsed, Mutation(minus - 2, minus + 3, "b - a", "swap"), 2)
    second = single(parsed, Mutation(minus, minus + 1, "+", "- -> +"), 2)
    assert pairs.combine(first, second) is None
    at = TEXT.index("    return")
    third = single(parsed, Mutation(at, at, "    x += 1\n", "insert"), 3)
    fourth = single(parsed, Mutation(at, at, "    x -= 1\n", "insert"), 3)
    assert pairs.combine(third, fourth) is None


def test_pairs_come_after_the_best_singles_and_are_bounded() -> None:
    parsed = ParsedFile("m.py", TEXT * 30)
    singles = []
    for i in range(120):
        offset = parsed.line_start(3 * (i % 30) + 2) + 4  # the `x` of each `x = a - b`
        mutation = Mutation(offset, offset + 1, f"y{i}", f"rename {i}")
        singles.append(single(parsed, mutation, 3 * (i % 30) + 2, score=1.0 - i / 1000))
    out = list(pairs.interleave(iter(singles)))
    sources = [c.source for c in out]
    assert sources[: pairs.POOL_FROM] == ["template:test"] * pairs.POOL_FROM
    assert sources.count("template:test") == 120  # every single still comes out, in order
    assert [c.description for c in out if c.source == "template:test"] == [
        s.candidate.description for s in singles
    ]
    count = sources.count("template:pair")
    assert 0 < count <= pairs.MAX_PAIRS
    # pairs alternate with the remaining singles rather than crowding them out
    assert sources[pairs.POOL_FROM : pairs.POOL_FROM + 4] == [
        "template:pair",
        "template:test",
        "template:pair",
        "template:test",
    ]
    scores = [c.score for c in out]
    assert scores == sorted(scores, reverse=True)  # the stream stays ranked
    # only edits at the first LOCATIONS statements pair up
    paired_lines = {
        line
        for c in out
        if c.source == "template:pair"
        for line in range(1, 91)
        if "y" in c.edits[0].after.splitlines()[line - 1]
    }
    assert len(paired_lines) <= pairs.LOCATIONS


SOURCE = """\
def clamp_all(values, lo, hi):
    # every value moved into [lo, hi]
    return [min(lo, max(hi, v)) for v in values]
"""
TESTS = """\
from clamp import clamp_all


def test_clamp():
    assert clamp_all([-5, 5, 15], 0, 10) == [0, 5, 10]
"""


def test_a_bug_that_needs_two_edits_is_fixed_by_a_pair(tmp_path: Path) -> None:
    (tmp_path / "clamp.py").write_text(SOURCE)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_clamp.py").write_text(textwrap.dedent(TESTS))
    command = testcmd.TestCommand((sys.executable, "-m", "pytest", "-q"), True)
    run = run_tests(tmp_path, command, timeout=60)
    failing = run.failing
    assert [o.test_id for o in failing] == ["tests/test_clamp.py::test_clamp"]

    locations = localize(tmp_path, command, failing, run.passing_ids, timeout=60)
    context = RepairContext(tmp_path, failing, tuple(locations), command.argv)
    verifier = Verifier(Baseline(tmp_path, command, run, ("tests/test_clamp.py::test_clamp",)))
    budget = SearchBudget(max_candidates=200, seconds=600, linger_candidates=4)
    result = search(TemplateSource().propose(context), verifier.check, budget)

    assert result.chosen is not None, result.summary
    chosen = result.chosen.candidate
    assert chosen.source == "template:pair"
    fixed = chosen.edits[0].after
    assert (
        "max(lo, min(hi, v))" in fixed
        or "min(hi, max(lo, v))" in fixed
        or "min(max(lo, v), hi)" in fixed
    ), fixed
    singles = [a for a in result.attempted if a.candidate.source != "template:pair"]
    assert not any(a.verification.plausible for a in singles)  # no single edit could do it
