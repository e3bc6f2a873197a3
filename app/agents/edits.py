"""SEARCH/REPLACE edit blocks: parse them from a model's answer and apply them to files.

The format (the issue's, and the one the prompts ask for):

    path/to/file.py
    <<<<<<< SEARCH
    exact old lines
    =======
    new lines
    >>>>>>> REPLACE

Models wrap blocks in code fences and sometimes omit the path line when several blocks edit
the same file, so fences are skipped and a missing path means "the file of the previous block".
Applying is strict: the SEARCH lines must occur exactly once, on line boundaries, or the block
is refused with an error that says how many times it matched. An empty SEARCH creates a new file
(used for reproduction tests) and is refused for a file that exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from app import workfiles
from app.errors import PatchError
from app.repair.candidates import FileEdit

_SEARCH = re.compile(r"^\s*<{5,9} ?SEARCH\s*$")
_DIVIDER = re.compile(r"^\s*={5,9}\s*$")
_REPLACE = re.compile(r"^\s*>{5,9} ?REPLACE\s*$")
_FENCE = re.compile(r"^\s*```")
#: A plausible repository path: no spaces, at least one letter, optionally a file-ish name.
_PATH = re.compile(r"^[\w./@+-]+$")


class EditError(PatchError):
    """A SEARCH/REPLACE block is malformed or does not apply; the message says which and why."""


@dataclass(frozen=True)
class SearchReplace:
    """One block: replace `search` (whole lines) by `replace` in `path`."""

    path: str
    search: str
    replace: str


def parse_blocks(text: str) -> list[SearchReplace]:
    """Every block in `text`, in order. Raises `EditError` on an unterminated block."""
    lines = text.splitlines()
    blocks: list[SearchReplace] = []
    index = 0
    while index < len(lines):
        if not _SEARCH.match(lines[index]):
            index += 1
            continue
        path = _path_before(lines, index) or (blocks[-1].path if blocks else "")
        if not path:
            raise EditError(f"line {index + 1}: SEARCH block without a file path line before it")
        search, index = _collect(lines, index + 1, _DIVIDER, "=======")
        replace, index = _collect(lines, index + 1, _REPLACE, ">>>>>>> REPLACE")
        blocks.append(SearchReplace(path, search, replace))
        index += 1
    return blocks


def _path_before(lines: list[str], index: int) -> str:
    for back in range(index - 1, -1, -1):
        candidate = lines[back].strip()
        if not candidate or _FENCE.match(candidate):
            continue
        candidate = candidate.strip("`*#: ").removeprefix("File:").strip("`* ")
        return candidate if _looks_like_path(candidate) else ""
    return ""


def _looks_like_path(text: str) -> bool:
    # A bare word ("Here") is prose, not a file: demand a directory or an extension.
    return bool(_PATH.match(text)) and ("/" in text or "." in text) and not _REPLACE.match(text)


def _collect(lines: list[str], start: int, end: re.Pattern[str], marker: str) -> tuple[str, int]:
    for index in range(start, len(lines)):
        if end.match(lines[index]):
            body = lines[start:index]
            return "".join(line + "\n" for line in body), index
    raise EditError(f"line {start}: block is not terminated by {marker!r}")


def apply_blocks(root: Path, blocks: Iterable[SearchReplace]) -> tuple[FileEdit, ...]:
    """Apply blocks to the files under `root` (read only); one `FileEdit` per touched file."""
    before: dict[str, str] = {}
    after: dict[str, str] = {}
    for block in blocks:
        path = _safe_relative(block.path)
        if path not in after:
            before[path] = _read(root, path, creating=not block.search)
            after[path] = before[path]
        after[path] = apply_one(after[path], block)
    return tuple(FileEdit(p, before[p], after[p]) for p in after if after[p] != before[p])


def _safe_relative(path: str) -> str:
    clean = path.strip().removeprefix("./")
    if clean.startswith("/") or ".." in Path(clean).parts or not clean:
        raise EditError(f"{path!r}: edit paths must be relative to the repository root")
    return clean


def _read(root: Path, path: str, creating: bool) -> str:
    if workfiles.is_link(root, path):
        raise EditError(f"{path}: a symbolic link; FixWurx edits no file through a link")
    if workfiles.is_file(root, path):
        return workfiles.read_text(root, path)
    if creating:
        return ""
    raise EditError(f"{path}: no such file; SEARCH blocks must name an existing file")


def apply_one(text: str, block: SearchReplace) -> str:
    """`text` with the block applied; `EditError` unless SEARCH matches exactly once."""
    if not block.search:
        if text:
            raise EditError(f"{block.path}: empty SEARCH creates a file, but the file exists")
        return block.replace
    padded = text if text.endswith("\n") else text + "\n"
    hits = _line_aligned(padded, block.search)
    if len(hits) != 1:
        raise EditError(
            f"{block.path}: SEARCH text was found {len(hits)} times; it must match exactly once "
            f"(copy the lines verbatim, with enough context to be unique): {block.search[:80]!r}"
        )
    start = hits[0]
    result = padded[:start] + block.replace + padded[start + len(block.search) :]
    return result if text.endswith("\n") or not result.endswith("\n") else result[:-1]


def _line_aligned(text: str, needle: str) -> list[int]:
    hits: list[int] = []
    start = text.find(needle)
    while start != -1:
        if start == 0 or text[start - 1] == "\n":
            hits.append(start)
        start = text.find(needle, start + 1)
    return hits
