"""The rule that keeps a model-written reproduction test: it must fail for the issue's reason.

The outcomes below are what pytest's JUnit report really says (message, traceback tail, frames)
for each case, taken from runs of such tests through app.testing.testrun.
"""

from __future__ import annotations

from app.testing.repro_match import (
    COULD_NOT_REPRODUCE,
    Attempt,
    could_not_reproduce,
    judge,
    named_exceptions,
)
from app.testing.results import Frame, TestOutcome

T = "tests/test_fixwurx_repro.py"

ZERO = TestOutcome(
    f"{T}::test_zero",
    "failed",
    message="ZeroDivisionError: division by zero",
    traceback=(
        "    def ratio(a, b):\n>       return a / b\nE       ZeroDivisionError: division by zero"
        "\n\ncalc.py:2: ZeroDivisionError"
    ),
    frames=(Frame(T, 3), Frame("calc.py", 2)),
)
ASSERTION = TestOutcome(
    f"{T}::test_value",
    "failed",
    message="assert 0.5 == 3\n +  where 0.5 = ratio(1, 2)",
    traceback=f">       assert ratio(1, 2) == 3\nE       assert 0.5 == 3\n\n{T}:7: AssertionError",
    frames=(Frame(T, 7),),
)
COLLECTION = TestOutcome(
    "tests.test_fixwurx_repro",
    "error",
    message="collection failure",
    traceback=f"{T}:1: in <module>\n    from calcx import ratio\n"
    "E   ModuleNotFoundError: No module named 'calcx'",
    frames=(Frame(T, 1),),
)
INNER_IMPORT = TestOutcome(
    f"{T}::test_x",
    "failed",
    message="ModuleNotFoundError: No module named 'calcx'",
    traceback=f">       from calcx import ratio\nE       ModuleNotFoundError: No module named 'calcx'"
    f"\n\n{T}:2: ModuleNotFoundError",
    frames=(Frame(T, 2),),
)
OWN_NAME = TestOutcome(
    f"{T}::test_x",
    "failed",
    message="NameError: name 'ratoi' is not defined",
    traceback=f">       assert ratoi(1, 0) == 0\nE       NameError: name 'ratoi' is not defined"
    f"\n\n{T}:2: NameError",
    frames=(Frame(T, 2),),
)
CODE_NAME = TestOutcome(
    f"{T}::test_x",
    "failed",
    message="NameError: name 'totl' is not defined",
    traceback="E       NameError: name 'totl' is not defined\n\ncalc.py:9: NameError",
    frames=(Frame(T, 2), Frame("calc.py", 9)),
)
FIXTURE = TestOutcome(
    f"{T}::test_x",
    "error",
    message=f'failed on setup with "file /tmp/rp/{T}, line 1\n  def test_x(nosuch):\n'
    "E       fixture 'nosuch' not found",
    traceback="E       fixture 'nosuch' not found\n>       available fixtures: capfd",
)
PASSED = TestOutcome(f"{T}::test_ok", "passed")
DID_NOT_RAISE = TestOutcome(
    f"{T}::test_raises",
    "failed",
    message="Failed: DID NOT RAISE <class 'ValueError'>",
    traceback=f"E       Failed: DID NOT RAISE <class 'ValueError'>\n\n{T}:5: Failed",
    frames=(Frame(T, 5),),
)

ISSUE_ZERO = "ratio(1, 0) crashes with ZeroDivisionError instead of returning 0."
ISSUE_WORDS = "ratio(1, 2) gives the wrong answer."


def test_named_exceptions_in_prose_and_a_pasted_traceback() -> None:
    text = (
        "Calling get() raises KeyError, and sometimes a StopIteration.\n"
        "Traceback (most recent call last):\n"
        '  File "x.py", line 3, in <module>\n'
        "    boom()\n"
        "mypkg.errors.Boom: it broke\n"
        "An Error happened; see the Exception above. errors.Error too."
    )
    assert named_exceptions(text) == ("KeyError", "StopIteration", "Boom")
    assert named_exceptions(ISSUE_WORDS) == ()
    assert named_exceptions("x" * 300_000 + "KeyError") == ()  # beyond the part read: cheap


def test_a_failure_with_the_issues_exception_is_kept() -> None:
    verdict = judge((ZERO, PASSED), ISSUE_ZERO)
    assert verdict.shows, verdict.why
    assert "ZeroDivisionError" in verdict.observed


def test_an_issue_in_words_only_takes_any_ordinary_failure() -> None:
    assert judge((ASSERTION,), ISSUE_WORDS).shows
    assert judge((CODE_NAME,), ISSUE_WORDS).shows  # a NameError in the code is a bug


def test_a_failure_with_another_exception_than_the_issue_names_is_rejected() -> None:
    verdict = judge((ASSERTION,), ISSUE_ZERO)
    assert not verdict.shows
    assert "AssertionError" in verdict.why and "ZeroDivisionError" in verdict.why
    # Every failing test must show it: one good test does not carry a wrong one.
    assert not judge((ZERO, ASSERTION), ISSUE_ZERO).shows


def test_did_not_raise_shows_the_exception_the_issue_expects() -> None:
    assert judge((DID_NOT_RAISE,), "parse('') should raise ValueError").shows
    assert not judge((DID_NOT_RAISE,), ISSUE_ZERO).shows


def test_a_test_that_does_not_import_is_rejected() -> None:
    for outcome in (COLLECTION, INNER_IMPORT):
        verdict = judge((outcome,), ISSUE_WORDS)
        assert not verdict.shows
        assert "ModuleNotFoundError" in verdict.why, verdict.why
        assert "calcx" in verdict.observed


def test_an_import_error_counts_when_the_issue_is_about_it() -> None:
    issue = "Importing the package fails with ModuleNotFoundError since 2.0"
    assert judge((COLLECTION,), issue).shows
    assert judge((INNER_IMPORT,), issue).shows


def test_a_name_error_in_the_test_itself_and_a_missing_fixture_are_rejected() -> None:
    verdict = judge((OWN_NAME,), ISSUE_WORDS)
    assert not verdict.shows and "NameError in the test itself" in verdict.why
    verdict = judge((FIXTURE,), ISSUE_WORDS)
    assert not verdict.shows and "setup" in verdict.why and "nosuch" in verdict.why


def test_a_failure_the_sandbox_causes_is_rejected() -> None:
    refused = TestOutcome(
        f"{T}::test_fetch",
        "failed",
        message="ConnectionRefusedError: [Errno 111] Connection refused",
        frames=(Frame("client.py", 3),),
    )
    assert judge((refused,), ISSUE_WORDS).shows  # alone, an ordinary failure of the code
    verdict = judge((refused,), ISSUE_WORDS, lambda o: "Errno 111" in o.message)
    assert not verdict.shows and "test_fetch needs a network" in verdict.why


def test_a_passing_or_empty_run_is_rejected() -> None:
    assert "passes" in judge((PASSED,), ISSUE_ZERO).why
    assert "not collected" in judge((), ISSUE_ZERO).why


def test_could_not_reproduce_names_every_try() -> None:
    attempts = (
        Attempt(T, "it passes on the unfixed code, so it does not show the bug"),
        Attempt("", "the model's answer was not a usable test: no test_ function"),
    )
    reason = could_not_reproduce(attempts)
    assert reason.startswith(COULD_NOT_REPRODUCE)
    assert f"1. {T}: it passes" in reason and "2. the model's answer" in reason
    assert "in 2 tries" in reason
    assert Attempt.from_json(attempts[0].to_json()) == attempts[0]
