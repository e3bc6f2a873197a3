"""Compressed code context: only the relevant windows of the relevant files, within a budget.

A model sees neither the whole repository nor whole files. It sees a listing of file names,
then skeletons (signatures with line ranges) of the files it picked, then the bodies of the
functions it picked, and finally, for the patch, the merged windows around the lines it picked
and the lines the spectrum-based localizer suspected, ranked and cut to a token budget.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from app import pysource, workfiles
from app.agents.llm.constants import CHARS_PER_TOKEN
from app.workfiles import NOT_REPOSITORY_CODE

#: Directories never listed: dependencies, caches and VCS data are not the bug.
SKIP_DIRS = NOT_REPOSITORY_CODE | {"build", "dist"}
#: Files listed at most; a model picking among more names picks worse.
MAX_LISTED_FILES = 400
#: Lines of context kept around a suspicious line that is not inside a function.
WINDOW_RADIUS = 8
#: A function longer than this is shown as a window around the line, not whole.
MAX_FUNCTION_LINES = 120


@dataclass(frozen=True)
class Window:
    """Lines `start`..`end` (1-based, inclusive) of `path`, and why they matter."""

    path: str
    start: int
    end: int
    score: float = 0.0
    why: str = ""


@dataclass(frozen=True)
class Symbol:
    """A function or class in a file, by qualified name and line range."""

    path: str
    name: str
    start: int
    end: int
    signature: str


def list_files(root: Path, ignore: Sequence[str] = ()) -> list[str]:
    """Repository-relative Python files, sorted, without dependencies or ignored paths."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            rel = Path(dirpath, name).relative_to(root).as_posix()
            listed = name.endswith(".py") and not any(rel.startswith(p) for p in ignore)
            if listed and workfiles.is_file(root, rel):  # a link out of the copy: not shown
                found.append(rel)
    return found[:MAX_LISTED_FILES]


def read_lines(root: Path, path: str) -> list[str]:
    """The file's lines without newlines; empty for a missing or unreadable file."""
    try:
        return workfiles.read_text(root, path).splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def symbols(root: Path, path: str) -> list[Symbol]:
    """Every function and class in `path`, outermost first."""
    source = "\n".join(read_lines(root, path))
    tree = pysource.parse_text(source, path)
    if tree is None:
        return []
    found: list[Symbol] = []
    _walk(tree, path, "", source.splitlines(), found)
    return found


def _walk(node: ast.AST, path: str, prefix: str, lines: list[str], out: list[Symbol]) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{child.name}"
            start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
            end = child.end_lineno or child.lineno
            out.append(Symbol(path, name, start, end, lines[child.lineno - 1].strip()))
            _walk(child, path, name + ".", lines, out)


def skeleton(root: Path, path: str) -> str:
    """One line per symbol: `name (lines a-b): signature`."""
    rows = [f"  {s.name} (lines {s.start}-{s.end}): {s.signature}" for s in symbols(root, path)]
    return f"{path}\n" + ("\n".join(rows) if rows else "  (module-level code only)")


def enclosing(root: Path, path: str, line: int) -> Window:
    """The innermost function around `line`, or a window of `WINDOW_RADIUS` lines."""
    inner = [s for s in symbols(root, path) if s.start <= line <= s.end]
    best = min(inner, key=lambda s: s.end - s.start, default=None)
    if best is not None and best.end - best.start < MAX_FUNCTION_LINES:
        return Window(path, best.start, best.end, why=best.name)
    return Window(path, max(1, line - WINDOW_RADIUS), line + WINDOW_RADIUS)


def merge(windows: Iterable[Window]) -> list[Window]:
    """Overlapping or touching windows of one file joined; order by best score, then path."""
    by_path: dict[str, list[Window]] = {}
    for window in windows:
        by_path.setdefault(window.path, []).append(window)
    merged: list[Window] = []
    for path, group in by_path.items():
        group.sort(key=lambda w: w.start)
        current = group[0]
        for window in group[1:]:
            if window.start <= current.end + 1:
                current = Window(
                    path,
                    current.start,
                    max(current.end, window.end),
                    max(current.score, window.score),
                    current.why or window.why,
                )
            else:
                merged.append(current)
                current = window
        merged.append(current)
    return sorted(merged, key=lambda w: (-w.score, w.path, w.start))


def render(
    root: Path, windows: Sequence[Window], token_budget: int, numbered: bool = False
) -> tuple[str, list[Window]]:
    """The windows as text, best first, until the budget is spent; also the windows kept."""
    budget = int(token_budget * CHARS_PER_TOKEN)
    parts: list[str] = []
    kept: list[Window] = []
    for window in windows:
        lines = read_lines(root, window.path)
        end = min(window.end, len(lines))
        if window.start > end:
            continue
        body = lines[window.start - 1 : end]
        if numbered:
            body = [f"{n:>5}| {text}" for n, text in enumerate(body, window.start)]
        room = budget - sum(map(len, parts))
        while body and sum(len(b) + 1 for b in body) + 80 > room and not kept:
            body.pop()  # the best window is always shown, cut to the budget if need be
            end -= 1
        part = f"--- {window.path} (lines {window.start}-{end})\n" + "\n".join(body)
        if not body or len(part) > room:
            continue  # a smaller, lower-ranked window may still fit
        parts.append(part)
        kept.append(Window(window.path, window.start, end, window.score, window.why))
    return "\n\n".join(parts), kept
