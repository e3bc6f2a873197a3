"""Partial candidates (issue 25): a candidate that turns some of the failing tests green and
breaks nothing is classified, kept and reported as the closest, never proposed as a fix."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from app.chain.planner import RepairOptions, RepairOutcome, repair
from app.flows.render import failure_comment
from app.local.report import not_fixed_report
from app.repair.candidates import Candidate, FileEdit, RepairContext
from app.repair.partial import closest_partial, partial_line
from app.repair.search import Attempted, SearchBudget
from app.repair.verifier import (
    Baseline,
    Verification,
    Verifier,
    classify_partial,
    worth_counting,
)
from app.testing.results import TestOutcome
from app.testing.testcmd import parse
from app.testing.testrun import run_tests

BUGGY = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a + b\n\n\ndef one():\n    return 1\n"
TESTS = """from calc import add, mul, one


def test_add():
    assert add(2, 3) == 5


def test_mul():
    assert mul(2, 3) == 6


def test_one():
    assert one() == 1
"""
ADD = "tests/test_calc.py::test_add"
MUL = "tests/test_calc.py::test_mul"
ONE = "tests/test_calc.py::test_one"


def _project(root: Path) -> Path:
    (root / "tests").mkdir(parents=True)
    (root / "calc.py").write_text(BUGGY)
    (root / "tests" / "test_calc.py").write_text(TESTS)
    return root


def _edit(*pairs: tuple[str, str], what: str = "") -> Candidate:
    after = BUGGY
    for old, new in pairs:
        after = after.replace(old, new)
    return Candidate((FileEdit("calc.py", BUGGY, after),), "test:partial", what or str(pairs))


FIX_ADD = ("return a - b", "return a + b")
FIX_MUL = ("return a + b\n\n\ndef one", "return a * b\n\n\ndef one")
BREAK_ONE = ("return 1", "return 2")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    root = _project(tmp_path_factory.mktemp("partial"))
    command = parse("pytest -q")
    run = run_tests(root, command, timeout=120)
    assert sorted(o.test_id for o in run.failing) == [ADD, MUL]
    return Baseline(root, command, run, (ADD, MUL))


@pytest.mark.parametrize("warm", [False, True])
def test_a_candidate_that_fixes_one_of_two_and_breaks_nothing_is_partial(
    baseline: Baseline, warm: bool
) -> None:
    with Verifier(baseline, warm=warm) as verifier:
        verdict = verifier.check(_edit(FIX_ADD))
    assert not verdict.plausible
    assert verdict.partial
    assert verdict.green == (ADD,) and verdict.still_failing == (MUL,)
    assert verdict.reason.startswith("partial: turns 1 of 2 failing tests green")


def test_partial_counts_stop_after_the_verifiers_allowance(
    baseline: Baseline, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.repair.verifier.PARTIAL_COUNTS", 1)
    with Verifier(baseline, warm=False) as verifier:
        first = verifier.check(_edit(FIX_ADD))
        second = verifier.check(_edit(("return a - b", "return b + a")))
    assert first.partial
    assert not second.partial and second.reason.endswith("(canary check)")


def test_a_candidate_that_fixes_one_but_breaks_a_passing_test_is_not_partial(
    baseline: Baseline,
) -> None:
    with Verifier(baseline, warm=False) as verifier:
        verdict = verifier.check(_edit(FIX_ADD, BREAK_ONE))
    assert not verdict.plausible and not verdict.partial
    assert ONE in verdict.regressions
    assert "breaks tests that passed before" in verdict.reason


def test_a_full_fix_is_plausible_not_partial(baseline: Baseline) -> None:
    with Verifier(baseline, warm=False) as verifier:
        verdict = verifier.check(_edit(FIX_ADD, FIX_MUL))
    assert verdict.plausible and not verdict.partial


def test_the_count_is_paid_only_when_the_canary_saw_a_target_test_pass(
    baseline: Baseline,
) -> None:
    """The canary stops at the first failing target (-x): a candidate whose first target still
    fails is rejected at the canary's price, even when it fixes a later one."""
    with Verifier(baseline, warm=False) as verifier:
        verdict = verifier.check(_edit(FIX_MUL))
    assert not verdict.partial
    assert verdict.reason.endswith("(canary check)")
    assert verdict.tests_run == 1  # no full run was paid for


def _verdict(
    reason: str, *outcomes: tuple[str, str], regressions: tuple[str, ...] = ()
) -> Verification:
    after = tuple(TestOutcome(t, "passed" if s == "passed" else "failed") for t, s in outcomes)
    return Verification(False, reason, after, regressions)


def test_worth_counting_needs_a_green_target_in_a_canary_that_finished() -> None:
    assert worth_counting(
        _verdict("x still fails (canary check)", (ADD, "passed"), (MUL, "failed"))
    )
    assert not worth_counting(_verdict("x still fails", (ADD, "failed"), (MUL, "failed")))
    timed = "the failing tests did not finish in time (canary check)"
    assert not worth_counting(_verdict(timed, (ADD, "passed"), (MUL, "failed")))


def test_classify_partial_rules() -> None:
    canary = _verdict("canary", (ADD, "passed"), (MUL, "failed"))
    one_of_two = _verdict("smoke", (ADD, "passed"), (MUL, "failed"))
    assert classify_partial(canary, one_of_two).partial
    regressed = _verdict("smoke", (ADD, "passed"), (MUL, "failed"), regressions=(ONE,))
    assert not classify_partial(canary, regressed).partial
    timed = _verdict("the whole suite did not finish in time", (ADD, "passed"), (MUL, "failed"))
    assert not classify_partial(canary, timed).partial
    none_green = _verdict("smoke", (ADD, "failed"), (MUL, "failed"))
    assert not classify_partial(canary, none_green).partial
    all_green = Verification(True, "plausible", (TestOutcome(ADD, "passed"),))
    assert classify_partial(canary, all_green) is canary  # the canary saw a failure: no pick


def _attempt(n: int, green: int, total: int, changed: int = 1) -> Attempted:
    after = "".join(f"x{i} = {n}\n" for i in range(changed))
    candidate = Candidate((FileEdit("m.py", "", after),), "test", f"candidate {n}")
    outcomes = tuple(
        TestOutcome(f"t::{i}", "passed" if i < green else "failed") for i in range(total)
    )
    verdict = Verification(False, "partial", outcomes, partial=0 < green < total)
    return Attempted(candidate, verdict, n)


def test_the_closest_partial_turns_most_tests_green_then_edits_least() -> None:
    attempted = [
        _attempt(0, 0, 3),
        _attempt(1, 1, 3),
        _attempt(2, 2, 3, changed=3),
        _attempt(3, 2, 3, changed=1),
        _attempt(4, 2, 3, changed=1),
    ]
    best = closest_partial(attempted, first_number=11)
    assert best is not None
    assert best["number"] == 14  # the run's numbering: attempted[3] is candidate #14
    assert best["green"] == ["t::0", "t::1"] and best["still_failing"] == ["t::2"]
    assert best["total"] == 3
    assert "+x0 = 3" in best["diff"]
    assert closest_partial([_attempt(0, 0, 3)], 1) is None
    line = partial_line(best)
    assert line == (
        "the closest candidate, #14, turns 2 of 3 failing tests green: candidate 3; "
        "still failing: t::2"
    )


class Scripted:
    """A source that proposes a fixed list of candidates, in order."""

    name = "scripted"

    def __init__(self, candidates: list[Candidate]) -> None:
        self.candidates = candidates

    def propose(self, context: RepairContext) -> Iterable[Candidate]:
        return iter(self.candidates)


def _repair(root: Path, candidates: list[Candidate]) -> RepairOutcome:
    options = RepairOptions(
        test_command="pytest -q",
        sources=[Scripted(candidates)],
        budget=SearchBudget(workers=1),
    )
    return repair(root, options)


def test_no_full_fix_ends_not_fixed_and_reports_the_closest_candidate(tmp_path: Path) -> None:
    root = _project(tmp_path / "repo")
    outcome = _repair(
        root,
        [
            _edit(BREAK_ONE, what="breaks one"),
            _edit(FIX_ADD, BREAK_ONE, what="fixes add, breaks one"),
            _edit(FIX_ADD, what="return a + b in add"),
        ],
    )
    assert outcome.status == "not_fixed" and outcome.bundle is None
    partial = outcome.state.partial
    assert partial is not None
    assert partial["number"] == 3 and partial["green"] == [ADD]
    assert partial["still_failing"] == [MUL]
    assert [c.plausible for c in outcome.state.candidates] == [False, False, False]
    text = not_fixed_report(outcome)
    assert (
        "  partial: the closest candidate, #3, turns 1 of 2 failing tests green: "
        f"return a + b in add; still failing: {MUL}"
    ) in text
    assert "    +    return a + b" in text
    assert (root / "calc.py").read_text() == BUGGY  # kept in the report, never applied
    comment = failure_comment(outcome.reason, [], outcome.locations, outcome.state.partial)
    assert "Partial: the closest candidate, #3, turns 1 of 2 failing tests green" in comment
    assert "```diff\n" in comment and "+    return a + b" in comment


def test_the_search_goes_on_past_a_partial_to_a_full_fix(tmp_path: Path) -> None:
    root = _project(tmp_path / "repo")
    outcome = _repair(root, [_edit(FIX_ADD), _edit(FIX_ADD, FIX_MUL, what="both")])
    assert outcome.status == "fixed"
    assert outcome.state.partial is None
    assert outcome.state.chosen is not None and outcome.state.chosen["description"] == "both"


PARTIAL = {
    "number": 4,
    "description": "<!-- fixwurx:bundle sha256:" + "0" * 64 + " --> edit",
    "green": ["t::a"],
    "still_failing": ["t::b"],
    "total": 2,
    "diff": "--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-x = '```'\n+x = '````'\n",
}


def test_the_comment_shows_the_partial_without_markup_and_the_diff_cannot_close_its_block() -> None:
    comment = failure_comment("none passed", [], [], PARTIAL)
    assert "<!--" not in comment
    assert "Partial: the closest candidate, #4, turns 1 of 2 failing tests green" in comment
    assert "\n`````diff\n" in comment and "\n`````\n</details>" in comment
    assert "Partial" not in failure_comment("none passed", [], [], None)


def test_json_carries_the_partial(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from app.chain.state import RunState
    from app.local.fix import _report

    state = RunState(source="/repo", partial=PARTIAL)
    outcome = RepairOutcome("not_fixed", None, "none passed", state)
    assert _report(outcome, Path("/repo"), True, False, None) == 1
    printed = json.loads(capsys.readouterr().out)
    assert printed["status"] == "not_fixed" and printed["partial"]["number"] == 4


def test_the_apps_failure_comment_carries_the_partial() -> None:
    """The App flow hands the run's closest candidate to the failure comment."""
    from types import SimpleNamespace

    from app.chain.state import RunState
    from app.flows.fixing import _report_failure

    replies: list[str] = []
    job = SimpleNamespace(
        run=SimpleNamespace(issue_number=7, pr_number=None),
        finish_status=lambda text: None,
        reply_once=replies.append,
    )
    state = RunState(source="/repo", partial=PARTIAL)
    _report_failure(job, RepairOutcome("not_fixed", None, "none passed", state))  # type: ignore[arg-type]
    (comment,) = replies
    assert "Partial: the closest candidate, #4, turns 1 of 2 failing tests green" in comment
