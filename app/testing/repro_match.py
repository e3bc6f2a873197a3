"""Does a model-written reproduction test fail for the reason the issue describes?

A test that fails proves nothing by failing: one that cannot import the package, calls a name
it never defined, asks for a fixture that does not exist or breaks in its setup fails on a
correct program too, and a "fix" that turns it green repairs the test, not the bug. So a
reproduction is kept only when every failure it shows is an ordinary failure of the code under
test (an assertion, or an exception the code raised), and, when the issue names an exception
type (`KeyError`, or a traceback's last line), only when the failure shows that exception.

Pure: it reads outcomes and text and runs nothing. The outcome text comes from the
repository's tests and the issue text from whoever wrote it, so both are hostile: each is cut
to size first and no pattern here can backtrack across more than one token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.testing.groups import exception_type, failed_import, is_collection_error, is_test_path
from app.testing.results import TestOutcome

#: How the reason of a run that found no reproduction begins (the App's comment keys on it).
COULD_NOT_REPRODUCE = "could not reproduce the issue"
#: Characters of an issue read for exception names (a traceback sits near the top).
ISSUE_LIMIT = 20_000
#: Exception names taken from one issue at most.
MAX_NAMED = 8
#: Characters of a failure searched for the issue's exception: its message, and the end of its
#: traceback (where pytest prints the exception).
FAILURE_TEXT_LIMIT = 4_000
#: Characters of the observed failure kept for a report and for the model's next try.
OBSERVED_LIMIT = 600
#: How an exception class is spelled in prose (`KeyError`, `HTTPException`, `DeprecationWarning`).
EXCEPTION_SUFFIXES = ("Error", "Exception", "Exit", "Interrupt", "Warning")
#: Exceptions whose names do not end in one of the suffixes above.
UNSUFFIXED = frozenset(("StopIteration", "StopAsyncIteration", "GeneratorExit"))
#: A failure of the test itself, not of the code: the test does not import or does not parse.
#: Such a failure counts only when the issue itself names the exception.
TEST_BREAKAGE = frozenset(("ImportError", "ModuleNotFoundError", "SyntaxError", "IndentationError"))
#: Words and dotted names, bounded, so a 100,000-letter "word" costs one token.
_TOKEN = re.compile(r"[A-Za-z_][\w.]{0,200}")
#: After `Traceback (most recent call last):`, the first unindented line names the exception.
_TRACEBACK_HEAD = "Traceback (most recent call last)"
_TRACEBACK_LAST = re.compile(r"([A-Za-z_][\w.]{0,200})(?::\s|$)")


@dataclass(frozen=True)
class Judgement:
    """Whether a reproduction test shows the issue, why not when it does not, and what ran."""

    shows: bool
    why: str
    observed: str = ""


@dataclass(frozen=True)
class Attempt:
    """One reproduction test that was tried: its file and why it was not kept."""

    path: str
    why: str
    observed: str = ""

    def line(self) -> str:
        """`path: why`, for a report, a comment and the model's next try."""
        return f"{self.path}: {self.why}" if self.path else self.why

    def to_json(self) -> dict[str, str]:
        """The attempt for run state."""
        return {"path": self.path, "why": self.why, "observed": self.observed}

    @staticmethod
    def from_json(data: dict[str, str]) -> Attempt:
        """Inverse of `to_json`."""
        return Attempt(data.get("path", ""), data.get("why", ""), data.get("observed", ""))


def could_not_reproduce(attempts: Sequence[Attempt]) -> str:
    """The reason a run ends when no reproduction test was kept, naming every try."""
    tried = "; ".join(f"{n}. {a.line()}" for n, a in enumerate(attempts, 1))
    count = f"{len(attempts)} {'try' if len(attempts) == 1 else 'tries'}"
    return (
        f"{COULD_NOT_REPRODUCE}: in {count}, the model wrote no test that fails for the reason "
        f"the issue describes, so no fix was guessed (tried: {tried})"
    )


def named_exceptions(issue_text: str) -> tuple[str, ...]:
    """Exception class names the issue names, in order of first mention (unqualified).

    `KeyError` in prose counts, and so does the last line of a pasted traceback even when its
    class has no telling suffix (`mypkg.errors.Boom: text`). A bare word "Error" does not.
    """
    text = issue_text[:ISSUE_LIMIT]
    found: list[str] = []
    for match in _TOKEN.finditer(text):
        name = match.group(0).rstrip(".").rsplit(".", 1)[-1]
        if _looks_like_exception(name) and name not in found:
            found.append(name)
    for name in _traceback_exceptions(text):
        if name not in found:
            found.append(name)
    return tuple(found[:MAX_NAMED])


def judge(
    outcomes: Sequence[TestOutcome],
    issue_text: str,
    environmental: Callable[[TestOutcome], bool] = lambda _: False,
) -> Judgement:
    """Does this run of a reproduction test show the issue? Every failure must, and one must exist.

    Named exceptions are matched as whole words in the failure's text, so `pytest.raises(X)`
    failing with "DID NOT RAISE <class 'X'>" shows X, and so does an exception X the code raised.
    A failure `environmental` says the sandbox caused (no network, no service) shows nothing
    about the code: it would fail the same after any fix.
    """
    if not outcomes:
        return Judgement(False, "it was not collected: no test in it ran")
    failing = [o for o in outcomes if not o.ok]
    if not failing:
        return Judgement(False, "it passes on the unfixed code, so it does not show the bug")
    named = named_exceptions(issue_text)
    for outcome in failing:
        wrong = (
            "needs a network, a service or a home directory (the sandbox has none)"
            if environmental(outcome)
            else _wrong_reason(outcome, named)
        )
        if wrong:
            # The file is named beside the reason already: the test's own name is enough.
            name = outcome.test_id.split("::", 1)[1] if "::" in outcome.test_id else "it"
            return Judgement(False, f"{name} {wrong}", observed(outcome))
    return Judgement(True, "it fails as the issue describes", observed(failing[0]))


def observed(outcome: TestOutcome) -> str:
    """The end of what a failure printed, short enough for a comment and a prompt."""
    text = f"{outcome.message}\n{outcome.traceback[-OBSERVED_LIMIT:]}".strip()
    return text[-OBSERVED_LIMIT:]


def _wrong_reason(outcome: TestOutcome, named: tuple[str, ...]) -> str:
    """Why this failure is not the issue's (the test's own breakage, or another exception)."""
    raised = exception_type(outcome)
    if is_collection_error(outcome):
        if raised in named:  # the issue is that the package does not import
            return ""
        cause = failed_import(outcome) or raised
        return f"does not import or collect ({cause}), so it fails for its own reason"
    if outcome.outcome == "error":
        return f"errors in its setup, before the test ran ({_error_line(outcome)})"
    if raised in TEST_BREAKAGE and raised not in named:
        return f"fails with {raised}, a broken test rather than the bug"
    if raised == "NameError" and _inside_test(outcome) and raised not in named:
        return f"fails with NameError in the test itself ({_error_line(outcome)})"
    if named and not any(_mentions(outcome, name) for name in named):
        shown = " or ".join(named[:3])
        return f"fails with {raised}, but the issue describes {shown}"
    return ""


def _inside_test(outcome: TestOutcome) -> bool:
    """Was the exception raised in a test file (the innermost frame), not in the code?"""
    if not outcome.frames:
        return True
    return is_test_path(outcome.frames[-1].path)


def _mentions(outcome: TestOutcome, name: str) -> bool:
    text = f"{outcome.message[:FAILURE_TEXT_LIMIT]}\n{outcome.traceback[-FAILURE_TEXT_LIMIT:]}"
    return any(m.group(0).rsplit(".", 1)[-1] == name for m in _TOKEN.finditer(text))


def _looks_like_exception(name: str) -> bool:
    if name in UNSUFFIXED:
        return True
    return (
        name[:1].isupper()
        and name.endswith(EXCEPTION_SUFFIXES)
        and not any(name == suffix for suffix in EXCEPTION_SUFFIXES)
    )


def _traceback_exceptions(text: str) -> list[str]:
    """The exception on the last line of each pasted traceback."""
    found: list[str] = []
    lines = text.splitlines()
    in_traceback = False
    for line in lines:
        if _TRACEBACK_HEAD in line:
            in_traceback = True
            continue
        if in_traceback and line[:1].strip() and not line.startswith("Traceback"):
            in_traceback = False
            match = _TRACEBACK_LAST.match(line.strip()[:300])
            if match:
                found.append(match.group(1).rstrip(".").rsplit(".", 1)[-1])
    return found


def _error_line(outcome: TestOutcome) -> str:
    """pytest's last `E   ...` line (the error itself), else the message's first line."""
    text = f"{outcome.message[:FAILURE_TEXT_LIMIT]}\n{outcome.traceback[-FAILURE_TEXT_LIMIT:]}"
    marked = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    line = marked[-1] if marked else outcome.message.strip().split("\n", 1)[0]
    return line[:200]
