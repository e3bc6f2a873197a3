"""The CI decision: wait, success, revise, cap, approval; old red on the base is not blamed."""

from __future__ import annotations

from app.flows.ci.feedback import SuiteResult, decide, feedback, is_blamed


def suite(name: str, conclusion: str | None, kind: str = "smoke", **kw: object) -> SuiteResult:
    status = "completed" if conclusion else "in_progress"
    return SuiteResult(kind, name, status, conclusion, **kw)  # type: ignore[arg-type]


def run(head: list[SuiteResult], base: list[SuiteResult] = (), revision: int = 0, canary=True):  # type: ignore[no-untyped-def,assignment]
    return decide(head, list(base), canary_expected=canary, revision=revision, max_revisions=1)


def test_nothing_reported_or_still_running_is_pending() -> None:
    assert run([]).action == "pending"
    assert run([suite("CI", "success")]).action == "pending"  # the canary has not started
    waiting = run([suite("canary", "success", "canary"), suite("CI", None)])
    assert waiting.action == "pending" and "CI" in waiting.reason


def test_all_green_is_success() -> None:
    decided = run([suite("canary", "success", "canary"), suite("CI", "success")])
    assert decided.action == "success" and not decided.blamed
    assert run([suite("CI", "success")], canary=False).action == "success"


def test_a_new_failure_gets_one_revision_then_the_cap() -> None:
    head = [suite("canary", "success", "canary"), suite("CI", "failure")]
    first = run(head)
    assert first.action == "revise" and [s.name for s in first.blamed] == ["CI"]
    assert "revision round 1 of 1" in first.reason
    assert run(head, revision=1).action == "cap"


def test_red_already_on_the_base_commit_is_not_blamed() -> None:
    head = [suite("canary", "success", "canary"), suite("Lint", "failure")]
    decided = run(head, base=[suite("Lint", "failure")])
    assert decided.action == "success" and [s.name for s in decided.old_red] == ["Lint"]
    assert "already red on the base" in decided.reason


def test_a_new_failing_test_in_a_suite_red_on_base_is_blamed() -> None:
    base = [suite("CI", "failure", failing_tests=("t.py::old",))]
    assert not is_blamed(suite("CI", "failure", failing_tests=("t.py::old",)), base)
    assert is_blamed(suite("CI", "failure", failing_tests=("t.py::old", "t.py::new")), base)


def test_workflows_waiting_for_approval_are_neutral_not_pending() -> None:
    awaiting = SuiteResult("smoke", "CI", "completed", "action_required", "http://run")
    decided = run([suite("canary", "success", "canary"), awaiting])
    assert decided.action == "action_required" and decided.awaiting == (awaiting,)
    queued = SuiteResult("smoke", "CI", "queued", "action_required")  # not "completed" yet
    assert run([suite("canary", "success", "canary"), queued]).action == "action_required"


def test_feedback_names_the_failing_tests_and_the_log() -> None:
    red = suite(
        "CI",
        "failure",
        job="test",
        step="Run pytest",
        failing_tests=("tests/test_env.py::test_ci_only",),
        excerpt="E   AssertionError: CI is set",
    )
    text = feedback("sha256:abc", [red])
    assert "sha256:abc" in text and "`CI / test / Run pytest`" in text
    assert "tests/test_env.py::test_ci_only" in text and "AssertionError: CI is set" in text
    from app.chain.issue_text import parse_issue

    assert parse_issue(text).test_ids == ("tests/test_env.py::test_ci_only",)


NO_VERDICT = ("cancelled", "skipped", "stale", "neutral")


def test_only_success_is_green_every_other_finished_conclusion_is_no_verdict() -> None:
    """A cancelled (or skipped, stale, neutral, conclusion-less) suite is not a pass."""
    green = suite("canary", "success", "canary")
    for conclusion in NO_VERDICT:
        silent = suite("CI", conclusion)
        decided = run([green, silent])
        assert decided.action == "no_verdict", conclusion
        assert decided.silent == (silent,) and f"CI ({conclusion})" in decided.reason
    missing = SuiteResult("smoke", "CI", "completed", None)
    decided = run([green, missing])
    assert decided.action == "no_verdict" and "CI (no conclusion)" in decided.reason
    cancelled_canary = run([suite("canary", "cancelled", "canary"), suite("CI", "success")])
    assert cancelled_canary.action == "no_verdict"


def test_red_outranks_no_verdict_and_every_red_conclusion_is_red() -> None:
    for conclusion in ("failure", "timed_out", "startup_failure"):
        decided = run([suite("canary", "cancelled", "canary"), suite("CI", conclusion)])
        assert decided.action == "revise", conclusion


def test_only_red_on_the_base_with_nothing_green_is_no_verdict() -> None:
    decided = run([suite("Lint", "failure")], base=[suite("Lint", "failure")], canary=False)
    assert decided.action == "no_verdict" and not decided.blamed
