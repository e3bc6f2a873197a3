"""Candidate edits and the one interface every candidate source implements.

Fix templates and language models both produce `Candidate`s through `CandidateSource.propose`;
the verifier does not care where a candidate came from.
"""

from __future__ import annotations

import difflib
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
