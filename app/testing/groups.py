"""Baseline failures grouped by where and why they fail, and the one group a repair targets.

A real suite fails for several reasons at once: the bug the issue is about, a test that hangs,
a module that does not import, a test that needs a network. Asking one candidate to turn all
of them green rejects a correct fix (a single unrelated hang sank one in issue 25). So the
failures are clustered, one group is the target, and the others are reported as left failing,
with their reasons. Every pattern here runs on one line at a time, cut to `LINE_LIMIT` first:
the text comes from the repository's tests and is hostile.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal

from app.testing.results import SANDBOX_KILL_MARK, TestOutcome

GroupKind = Literal["failure", "hang", "collection", "environment", "unfinished"]

#: What a test says about itself is read one line at a time, each cut to this many characters.
LINE_LIMIT = 400
#: How many lines of a traceback are read, from its end (where the exception is).
TAIL_LINES = 60
#: pytest's JUnit message for a module that failed to import or collect.
COLLECTION_MARK = "collection failure"
#: Where the exception names itself, tried on each line from the end: pytest's closing
#: `path.py:12: ValueError`, its `E   pkg.BadThing: text`, a native traceback's last line.
_EXCEPTION_LINES = (
    re.compile(r"^[^\s:]{1,300}\.py:\d{1,9}: ([A-Za-z_][\w.]{0,120})$"),
    re.compile(r"^E\s{1,8}([A-Za-z_][\w.]{0,120})(?::|$)"),
    re.compile(r"^([A-Za-z_][\w.]{0,120}(?:Error|Exception|Exit))\b"),
)
#: The import that failed, in a collection error.
_IMPORT_LINE = re.compile(r"^E?\s{0,8}((?:ModuleNotFoundError|ImportError): .{1,300})$")

#: Plain words for each kind, for reports and pull requests.
KIND_WORDS: dict[GroupKind, str] = {
    "failure": "fails",
    "hang": "hangs (stopped by the per-test time limit)",
    "collection": "does not import, so its tests never ran",
    "environment": "needs a network, a service or a home directory (the sandbox has none)",
    "unfinished": (
        "did not finish: the whole suite hit its time limit first (raise it with --timeout, "
        "or `timeout_seconds:` in .github/fixwurx.yml)"
    ),
}


@dataclass(frozen=True)
class FailureGroup:
    """Failing tests that fail the same way: the same kind, exception and place."""

    kind: GroupKind
    cause: str
    test_ids: tuple[str, ...]

    @property
    def reason(self) -> str:
        """One line in plain words: what these tests do and why."""
        return f"{KIND_WORDS[self.kind]}: {self.cause}" if self.cause else KIND_WORDS[self.kind]

    def to_json(self) -> dict[str, Any]:
        """The group for run state, reports and pull requests."""
        return {"kind": self.kind, "cause": self.cause, "tests": list(self.test_ids)}

    @staticmethod
    def from_json(data: dict[str, Any]) -> FailureGroup:
        """Inverse of `to_json`."""
        return FailureGroup(data["kind"], data.get("cause", ""), tuple(data.get("tests", ())))


def group_failures(
    failing: Sequence[TestOutcome], environmental: Callable[[TestOutcome], bool]
) -> tuple[FailureGroup, ...]:
    """Cluster `failing` by kind, exception type and root location, in first-seen order."""
    members: dict[tuple[GroupKind, str], list[str]] = {}
    for outcome in failing:
        members.setdefault(_key(outcome, environmental), []).append(outcome.test_id)
    return tuple(FailureGroup(kind, cause, tuple(ids)) for (kind, cause), ids in members.items())


def choose_target(
    groups: Sequence[FailureGroup],
    prefer: Callable[[FailureGroup], tuple[int, ...]] | None = None,
) -> tuple[FailureGroup | None, tuple[FailureGroup, ...]]:
    """The group of ordinary failures `prefer` ranks highest, then the largest (the first seen
    on a tie), and the rest. `prefer` carries the signals that tie a group to the bug (the
    issue's identifiers, assertions over environment errors: app/testing/group_signals.py).

    A module that does not import and a failure the sandbox causes are never chosen: each says
    nothing about the code a candidate edits. Nor is a hang while any ordinary failure exists,
    nor ever a hang stuck in the test's own code (`while True` in a test). A hang stuck in the
    code under test, when nothing else fails, is the bug (an infinite loop): it is the target.
    The caller handles named tests.
    """
    ordinary = [g for g in groups if g.kind == "failure"] or [
        g for g in groups if g.kind == "hang" and not is_test_path(g.cause.split(":")[0])
    ]
    if not ordinary:
        return None, tuple(groups)
    rank = prefer or (lambda _group: ())
    target = max(ordinary, key=lambda g: (*rank(g), len(g.test_ids)))  # first of equals
    return target, tuple(g for g in groups if g is not target)


def is_collection_error(outcome: TestOutcome) -> bool:
    """pytest could not import or collect this module."""
    return outcome.outcome == "error" and outcome.message.startswith(COLLECTION_MARK)


def failed_import(outcome: TestOutcome) -> str:
    """The import error line of a collection failure (`ModuleNotFoundError: ...`), or ""."""
    for line in reversed(_lines(outcome.traceback)):
        match = _IMPORT_LINE.match(line)
        if match:
            return match.group(1)
    return ""


def _key(
    outcome: TestOutcome, environmental: Callable[[TestOutcome], bool]
) -> tuple[GroupKind, str]:
    if outcome.message.startswith(SANDBOX_KILL_MARK):  # the suite's deadline, not the test's
        return "unfinished", ""
    if outcome.hung:
        return "hang", root_location(outcome)
    if is_collection_error(outcome):
        return "collection", failed_import(outcome) or _test_file(outcome.test_id)
    if environmental(outcome):
        return "environment", exception_type(outcome)
    return "failure", f"{exception_type(outcome)} at {root_location(outcome)}"


def exception_type(outcome: TestOutcome) -> str:
    """The exception a test failed with, read from the end of its traceback, then its message."""
    lines = [*_lines(outcome.traceback), outcome.message[:LINE_LIMIT].split("\n", 1)[0]]
    for pattern in _EXCEPTION_LINES:
        for line in reversed(lines):
            match = pattern.match(line.strip())
            if match and match.group(1) != "assert":
                return match.group(1).rsplit(".", 1)[-1]
    message = outcome.message[:LINE_LIMIT]
    if message.startswith("assert") or "AssertionError" in message:
        return "AssertionError"
    return "error" if outcome.outcome == "error" else "failure"


def root_location(outcome: TestOutcome) -> str:
    """Where the failure comes from: the innermost frame outside the tests, else the test file.

    Three tests that assert on one wrong function fail in three lines of one test module; a
    function that raises fails at one line of the code under test. Either way one group.
    """
    for frame in reversed(outcome.frames):
        if not is_test_path(frame.path):
            return f"{frame.path}:{frame.line}"
    return _test_file(outcome.test_id)


def is_test_path(path: str) -> bool:
    """A file of the test suite (pytest's default patterns, test folders, conftest)."""
    pure = PurePosixPath(path)
    name = pure.name
    in_tests = any(part in ("tests", "test", "testing") for part in pure.parts[:-1])
    named = name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
    return named or in_tests


def _test_file(test_id: str) -> str:
    return test_id.split("::", 1)[0]


def _lines(text: str) -> list[str]:
    tail = text[-TAIL_LINES * LINE_LIMIT :]
    return [line[:LINE_LIMIT] for line in tail.splitlines()[-TAIL_LINES:]]
