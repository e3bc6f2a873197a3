"""Candidate edits and the one interface every candidate source implements.

Fix templates and language models both produce `Candidate`s through `CandidateSource.propose`;
the verifier does not care where a candidate came from.
"""

from __future__ import annotations

import ast
import difflib
import functools
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from app import workfiles
from app.testing.results import Location, TestOutcome
from app.testing.testcmd import TestCommand


@dataclass(frozen=True)
class FileEdit:
    """The whole text of one file before and after the edit (repository-relative path)."""

    path: str
    before: str
    after: str

    def diff(self) -> str:
        """Unified diff of this file in `git apply` form (a/ and b/ prefixes).

        An empty `before` means the edit creates the file (a reproduction test, say).
        """
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True),
            self.after.splitlines(keepends=True),
            fromfile=f"a/{self.path}" if self.before else "/dev/null",
            tofile=f"b/{self.path}",
        )
        return "".join(_ensure_newline(line) for line in lines)


def _ensure_newline(line: str) -> str:
    return line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"


@dataclass(frozen=True)
class Candidate:
    """A proposed patch: one or more file edits, where it came from, and how promising it is."""

    edits: tuple[FileEdit, ...]
    source: str
    description: str
    score: float = 0.0
    parent: str | None = None
    location: Location | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    metadata: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    def diff(self) -> str:
        """The unified diff over all edited files."""
        return "".join(edit.diff() for edit in sorted(self.edits, key=lambda e: e.path))

    @property
    def key(self) -> str:
        """Identity on normalized code: candidates with the same key are duplicates."""
        digest = hashlib.sha256()
        for edit in sorted(self.edits, key=lambda e: e.path):
            digest.update(edit.path.encode())
            digest.update(b"\0")
            digest.update(_normalize(edit.after).encode())
        return digest.hexdigest()[:16]

    @property
    def changed_lines(self) -> int:
        """Lines added plus removed: the size of the edit."""
        return sum(
            1
            for line in self.diff().splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        )

    def apply_to(self, root: Path) -> None:
        """Write the edited files into a work copy rooted at `root`, through no link."""
        for edit in self.edits:
            workfiles.write_text(root, edit.path, edit.after, parents=True)


def _normalize(code: str) -> str:
    return "\n".join(line.strip() for line in code.splitlines() if line.strip())


#: What `equivalence` says of a candidate whose code is the original's (same syntax tree).
UNCHANGED = "unchanged"


def equivalence(candidate: Candidate) -> str:
    """Identity on syntax trees: candidates that differ only in layout, comments or redundant
    parentheses compile to the same tree and pass or fail together, so one of them is enough.
    `UNCHANGED` when every edited Python file has the original's tree: such a candidate
    cannot change a test's outcome.

    Only the top-level statements an edit touches are parsed (the pristine file's are parsed
    once and remembered): a whole 5,000-line module per candidate would cost more than some
    rejections. A file that is not Python, new, or does not parse is compared as text.
    """
    parts: list[str] = []
    for edit in sorted(candidate.edits, key=lambda e: e.path):
        tree = _edited_statements(edit) if edit.path.endswith(".py") and edit.before else None
        if tree is None:
            parts.append(f"{edit.path}\0text\0{_normalize(edit.after)}")
        elif tree:
            parts.append(f"{edit.path}\0{tree}")
    if not parts:
        return UNCHANGED
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def _edited_statements(edit: FileEdit) -> str | None:
    """The dumped trees of the top-level statements `edit` changes, with their place; "" when
    their trees are the original's; None when the edit cannot be compared this way."""
    spans = _statement_spans(edit.before)
    if spans is None:
        return None
    old, new = edit.before.splitlines(), edit.after.splitlines()
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    first, last = head + 1, len(old) - tail  # the changed lines of `before`, 1-based
    touched = [i for i, (start, end, _) in enumerate(spans) if start <= last and end >= first]
    if not touched:
        lines = [(n, old[n - 1]) for n in range(first, last + 1)]
        changed_code = any(line.strip() and not line.strip().startswith("#") for _, line in lines)
        added = new[head : len(new) - tail]
        if changed_code or any(x.strip() and not x.strip().startswith("#") for x in added):
            return None  # code between statements: compare as text
        return ""  # comments or blank lines only
    start = min(first, spans[touched[0]][0])
    end = max(last, spans[touched[-1]][1])
    shift = len(new) - len(old)
    try:
        snippet = ast.parse("\n".join(new[start - 1 : end + shift]))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    dumped = [ast.dump(stmt) for stmt in snippet.body]
    if dumped == [spans[i][2] for i in touched]:
        return ""
    return f"{start}:{end}:" + "\n".join(dumped)


@functools.lru_cache(maxsize=8)
def _statement_spans(text: str) -> tuple[tuple[int, int, str], ...] | None:
    """(first line, last line, dumped tree) of each top-level statement of `text`, decorators
    included; None when it does not parse. Remembered: every candidate of a file shares it."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    spans = []
    for stmt in tree.body:
        decorators = getattr(stmt, "decorator_list", [])
        start = min([stmt.lineno, *(d.lineno for d in decorators)])
        spans.append((start, stmt.end_lineno or stmt.lineno, ast.dump(stmt)))
    return tuple(spans)


@dataclass(frozen=True)
class RepairContext:
    """What a candidate source may look at. `root` is a pristine copy it must not modify."""

    root: Path
    failing: tuple[TestOutcome, ...]
    locations: tuple[Location, ...]
    test_command: tuple[str, ...]
    issue_text: str = ""
    feedback: str = ""
    ignore_paths: tuple[str, ...] = ()
    #: The candidates `feedback` reports on, best first: what a feedback round should refine.
    rejected: tuple[Candidate, ...] = ()
    #: A maintainer's command allowed edits under `.github/` and to `.gitmodules` (model
    #: sources only: the templates never edit them).
    allow_github_paths: bool = False
    #: The run's test command, bound to the repository's environment once the chain built it:
    #: what a source that runs commands (the agent) runs them like.
    command: TestCommand | None = None


class CandidateSource(Protocol):
    """Anything that proposes candidates: a fix template engine, a language model."""

    name: str

    def propose(self, context: RepairContext) -> Iterable[Candidate]:
        """Candidates in the order the source would try them, best first."""
        ...
