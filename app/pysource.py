"""Parse a repository's Python files in FixWurx's own process, within a size and count budget.

FixWurx reads repository code statically in several places (imports for the warm server and
the coverage scope, functions for localization and the templates, `setup.py`). That code is
hostile text: `ast.parse` of a few megabytes takes seconds and memory outside every sandbox
limit, and deeply nested expressions raise RecursionError or MemoryError, which the callers'
`except SyntaxError` did not catch. So every parse goes through here: a file over
MAX_SOURCE_BYTES is skipped (read with a bound, never whole), a scan stops after MAX_SCAN_FILES
files or MAX_SCAN_BYTES bytes, and any parse failure is "no tree".
"""

from __future__ import annotations

import ast
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from app import workfiles

log = logging.getLogger(__name__)

#: Largest source file parsed (hand-written modules are far smaller; generated ones are not
#: where a bug is fixed).
MAX_SOURCE_BYTES = 1024 * 1024
#: Files and bytes one scan of a repository (its imports, its test files) parses at most.
MAX_SCAN_FILES = 2000
MAX_SCAN_BYTES = 32 * 1024 * 1024

#: Everything a hostile source can make `ast.parse` raise.
PARSE_ERRORS = (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError)


def parse_text(text: str, name: str = "<repository file>") -> ast.Module | None:
    """The tree of `text`; None when it is over MAX_SOURCE_BYTES or does not parse."""
    if len(text) > MAX_SOURCE_BYTES:
        log.info("not parsing %s: %d characters (limit %d)", name, len(text), MAX_SOURCE_BYTES)
        return None
    try:
        return ast.parse(text)
    except PARSE_ERRORS:
        return None


def read_source(root: Path, path: str | os.PathLike[str]) -> str | None:
    """The text of a source file in the work copy, read with the size bound; None when it is
    absent, a link out, unreadable or too large."""
    try:
        return workfiles.read_text(root, path, errors="replace", limit=MAX_SOURCE_BYTES)
    except (OSError, ValueError):  # FileTooLarge, links out and unsafe paths are OSErrors
        return None


def parse_file(root: Path, path: str | os.PathLike[str]) -> ast.Module | None:
    """The tree of a source file in the work copy; None when it cannot be read or parsed."""
    text = read_source(root, path)
    return None if text is None else parse_text(text, str(path))


@dataclass
class ScanBudget:
    """What one scan may still parse; `parse_file` returns None once it is spent."""

    files: int = MAX_SCAN_FILES
    bytes: int = MAX_SCAN_BYTES

    def parse_file(self, root: Path, path: str | os.PathLike[str]) -> ast.Module | None:
        """`parse_file` counted against this budget."""
        if self.files <= 0 or self.bytes <= 0:
            return None
        text = read_source(root, path)
        self.files -= 1
        if text is None:
            return None
        self.bytes -= len(text)
        return parse_text(text, str(path))

    @property
    def spent(self) -> bool:
        """Whether no more files will be parsed."""
        return self.files <= 0 or self.bytes <= 0
