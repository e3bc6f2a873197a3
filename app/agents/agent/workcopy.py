"""The copy an agent edits, and the candidate it becomes: its diff against the pristine tree.

The copy leaves out what the verifier's copies leave out (history, caches); the diff takes the
text files that changed or appeared. A file the agent deleted or made binary cannot be a
`FileEdit` and is reported instead of silently dropped. FixWurx's own process reads both trees
only through `app.workfiles` (a link is never followed).
"""

from __future__ import annotations

import fnmatch
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from app import workfiles
from app.repair.candidates import FileEdit
from app.repair.verifier import COPY_IGNORE_NAMES, COPY_IGNORE_SUFFIXES

#: Files the agent's commands may leave behind that are no part of a fix.
_NOISE = ("*.pyc", "*.pyo")
#: Directories never walked: what the verifier's copies leave out too.
_SKIPPED_DIRS = frozenset({".git", "__pycache__", ".pytest_cache", ".fixwurx"})


def _ignored(rel: PurePosixPath) -> bool:
    return rel.name in COPY_IGNORE_NAMES or rel.name.endswith(COPY_IGNORE_SUFFIXES)


@dataclass
class WorkCopy:
    """A disposable copy of `pristine`; `close` (or garbage collection) removes it."""

    pristine: Path
    _tmp: tempfile.TemporaryDirectory[str] = field(init=False, repr=False)
    root: Path = field(init=False)

    def __post_init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="fixwurx-agent-")
        self.root = Path(self._tmp.name) / "repo"
        # Through workfiles, like the verifier's copies: no link is followed, none out is kept.
        workfiles.copy_tree(self.pristine, self.root, ignore=_ignored)

    def close(self) -> None:
        """Remove the copy."""
        self._tmp.cleanup()

    def restore(self, path: str) -> None:
        """Put `path` back as it is in the pristine tree (remove it when it is new there)."""
        if workfiles.is_file(self.pristine, path):
            workfiles.write_bytes(
                self.root,
                path,
                workfiles.read_bytes(self.pristine, path),
                parents=True,
                replace_link=True,
            )
        else:
            workfiles.remove(self.root, path)

    def changes(self) -> tuple[tuple[FileEdit, ...], list[str]]:
        """The text edits of the copy against the pristine tree, and what could not be one."""
        edits: list[FileEdit] = []
        problems: list[str] = []
        after = _files(self.root)
        before = _files(self.pristine)
        for path in sorted(before - after):
            problems.append(f"{path} was deleted (a deletion is not kept in the patch)")
        for path in sorted(after):
            new = workfiles.read_bytes(self.root, path)
            old = workfiles.read_bytes(self.pristine, path) if path in before else b""
            if new == old:
                continue
            try:
                edits.append(FileEdit(path, old.decode("utf-8"), new.decode("utf-8")))
            except UnicodeDecodeError:
                problems.append(f"{path} is not UTF-8 text (left out of the patch)")
        return tuple(edits), problems


def _files(root: Path) -> set[str]:
    """Regular files under `root`, relative, without links and without what is never copied."""
    found: set[str] = set()
    for top, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = [d for d in dirs if d not in _SKIPPED_DIRS and not Path(top, d).is_symlink()]
        for name in files:
            full = Path(top, name)
            if full.is_symlink() or not full.is_file():
                continue
            rel = full.relative_to(root).as_posix()
            if not any(fnmatch.fnmatch(name, pattern) for pattern in _NOISE):
                found.add(rel)
    return found
