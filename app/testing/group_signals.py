"""Which group of baseline failures is the bug's: signals beyond a group's size.

The largest group of ordinary failures is a weak guess. In a real case four tests failed: three
the same way (the sandbox's uid has no home directory, raised inside the standard library) and
the bug's own test alone, which was "left failing". Two general signals correct that:

1. the issue's own words: a group whose tests or traceback frames name a function, file or test
   the issue text mentions (`mentions`);
2. the kind of failure: an assertion is the project's behaviour under test, while the same
   error raised from an installed package, or about a missing file, locale, binary or user, is
   most likely a pre-existing environment failure (`environment_like`).

Every pattern runs on bounded text: issue texts and tracebacks are hostile.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from itertools import pairwise
from pathlib import PurePosixPath

from app.testing.groups import FailureGroup, exception_type
from app.testing.results import TestOutcome

#: How much of an issue text is read for identifiers.
ISSUE_LIMIT = 20_000
#: Each traceback or message line is cut to this many characters before matching.
LINE_LIMIT = 400
#: How many lines of a traceback are read, from its end.
TAIL_LINES = 80
#: Identifiers shorter than this say nothing specific.
MIN_IDENTIFIER = 4

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,80}")
#: Code in an issue: `backticked`, a call `name(`, a dotted `a.b`, a file `dir/name.py`.
_BACKTICKED = re.compile(r"`([^`\n]{1,200})`")
_CALLED = re.compile(r"([A-Za-z_][A-Za-z0-9_]{0,80})\(")
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,80}(?:\.[A-Za-z_][A-Za-z0-9_]{0,80}){1,8}")
#: pytest's frame line in a long traceback: `pkg/mod.py:12: in function_name`.
_FRAME_FUNCTION = re.compile(r"^\S{1,300}\.py:\d{1,9}: in ([A-Za-z_]\w{0,80})$")
#: pytest's closing line: where the exception was raised, `path.py:12: ValueError`.
_RAISED_AT = re.compile(r"^(\S{1,300}\.py):\d{1,9}: [A-Za-z_][\w.]{0,120}$")
#: An installed package's file (a third-party package, not the project).
_INSTALLED = re.compile(r"(?:^|/)(?:site|dist)-packages/")
#: A message about something the machine lacks: a file, a locale, a binary, a user or home.
_MISSING = re.compile(
    r"No such file or directory|unsupported locale|locale\.Error|command not found"
    r"|executable not found|not found in PATH|getpwuid|uid not found|Permission denied"
    r"|Read-only file system|No space left on device|cannot open display|no display name",
    re.IGNORECASE,
)


def preference(
    outcomes: Mapping[str, TestOutcome], issue_text: str
) -> Callable[[FailureGroup], tuple[int, ...]]:
    """The ranking `choose_target` applies before size: groups the issue names first, then
    groups not every test of which fails environment-like."""
    identifiers = issue_identifiers(issue_text)

    def rank(group: FailureGroup) -> tuple[int, ...]:
        members = [outcomes[t] for t in group.test_ids if t in outcomes]
        machine = bool(members) and all(environment_like(o) for o in members)
        return (mentions(members, identifiers), 0 if machine else 1)

    return rank


def issue_identifiers(text: str) -> frozenset[str]:
    """The names an issue text mentions as code, lowercased: snake_case or camelCase words,
    backticked words, called names, dotted names' parts and file names' stems. Plain English
    words are not identifiers, so "the function returns" chooses nothing."""
    text = text[:ISSUE_LIMIT]
    found: set[str] = set()
    for word in _WORD.findall(text):
        if "_" in word.strip("_") or _camel(word):
            found.add(word)
    for span in _BACKTICKED.findall(text):
        found.update(_WORD.findall(span))
    found.update(_CALLED.findall(text))
    for dotted in _DOTTED.findall(text):
        found.update(part for part in dotted.split(".") if part not in ("py", "txt", "cfg"))
    stripped = (_strip_test(w).lower() for w in found)  # names compare without `test_`
    return frozenset(w for w in stripped if len(w) >= MIN_IDENTIFIER)


def mentions(outcomes: Iterable[TestOutcome], identifiers: frozenset[str]) -> int:
    """How many of `identifiers` the outcomes' test ids or traceback frames name."""
    if not identifiers:
        return 0
    names: set[str] = set()
    for outcome in outcomes:
        names.update(_names(outcome))
    return sum(1 for ident in identifiers if any(ident in name for name in names))


def environment_like(outcome: TestOutcome) -> bool:
    """Not an assertion, and raised from an installed package or about something missing (a
    file, locale, binary, user): the machine's doing more likely than the code's."""
    if exception_type(outcome) == "AssertionError":
        return False
    tail = _tail(outcome.traceback)
    raised = next((m.group(1) for line in reversed(tail) if (m := _RAISED_AT.match(line))), "")
    if _INSTALLED.search(raised):
        return True
    lines = [*tail[-12:], outcome.message[:LINE_LIMIT]]
    return any(_MISSING.search(line) for line in lines)


def _names(outcome: TestOutcome) -> set[str]:
    """A test's names, lowercased: its file's stem, class, function (without `test_` and the
    parameters), and each frame's file stem and function."""
    path, _, rest = outcome.test_id[:LINE_LIMIT].partition("::")
    names = {_stem(path)}
    for part in rest.split("::"):
        names.add(_strip_test(part.split("[", 1)[0]))
    for frame in outcome.frames:
        names.add(_stem(frame.path))
    for line in _tail(outcome.traceback):
        match = _FRAME_FUNCTION.match(line)
        if match:
            names.add(_strip_test(match.group(1)))
    return {n.lower() for n in names if n}


def _stem(path: str) -> str:
    return _strip_test(PurePosixPath(path[:LINE_LIMIT]).stem)


def _strip_test(name: str) -> str:
    name = name.removeprefix("test_").removeprefix("Test").removesuffix("_test")
    return name


def _camel(word: str) -> bool:
    return any(a.islower() and b.isupper() for a, b in pairwise(word))


def _tail(text: str) -> list[str]:
    tail = text[-TAIL_LINES * LINE_LIMIT :]
    return [line[:LINE_LIMIT].strip() for line in tail.splitlines()[-TAIL_LINES:]]
