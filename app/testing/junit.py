"""Parse pytest's JUnit XML (xunit1 family) into per-test outcomes with traceback frames.

xunit1 keeps the `file` attribute on each testcase, which lets us rebuild pytest node ids
(`tests/test_x.py::TestC::test_y[1]`) so failing tests can be rerun by id.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath

from app.testing.results import Frame, Outcome, TestOutcome

#: pytest long tracebacks end each frame with `path/to/file.py:LINE: ExcType` or `...:LINE: in f`.
_FRAME_LINE = re.compile(r"^(?P<path>[^\s:][^:\n]*?\.py):(?P<line>\d+):", re.MULTILINE)
#: Python's own traceback format, used by `--tb=native` and plain scripts.
_NATIVE_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+\.py)", line (?P<line>\d+)', re.MULTILINE)


def parse_junit(xml_text: str, repo_root: Path | None = None) -> list[TestOutcome]:
    """All testcases in the report; malformed XML gives an empty list rather than a crash."""
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError:
        return []
    return [_testcase(case, repo_root) for case in root.iter("testcase")]


def _testcase(case: ET.Element, repo_root: Path | None) -> TestOutcome:
    outcome: Outcome = "passed"
    message = text = ""
    for child in case:
        if child.tag in ("failure", "error", "skipped"):
            outcome = "failed" if child.tag == "failure" else child.tag  # type: ignore[assignment]
            message = child.get("message", "") or ""
            text = child.text or ""
            break
    return TestOutcome(
        test_id=node_id(case),
        outcome=outcome,
        duration=float(case.get("time") or 0.0),
        message=message,
        traceback=text,
        frames=frames_from_traceback(text, repo_root),
    )


def node_id(case: ET.Element) -> str:
    """Rebuild the pytest node id from xunit1 attributes."""
    name = case.get("name", "")
    classname = case.get("classname", "")
    file = case.get("file")
    if not file:
        return f"{classname}::{name}" if classname else name
    module = PurePosixPath(file).with_suffix("").as_posix().replace("/", ".")
    classes = classname[len(module) :].lstrip(".") if classname.startswith(module) else ""
    parts = [file, *[c for c in classes.split(".") if c], name]
    return "::".join(parts)


def frames_from_traceback(text: str, repo_root: Path | None = None) -> tuple[Frame, ...]:
    """Repository-relative frames, innermost last, from pytest or native tracebacks."""
    positioned: list[tuple[int, Frame]] = []
    for pattern in (_FRAME_LINE, _NATIVE_FRAME):
        for match in pattern.finditer(text):
            path = _relative(match.group("path"), repo_root)
            if path is not None:
                positioned.append((match.start(), Frame(path, int(match.group("line")))))
    ordered: list[Frame] = []
    for _, frame in sorted(positioned, key=lambda item: item[0]):
        if frame not in ordered:
            ordered.append(frame)
    return tuple(ordered)


def _relative(raw: str, repo_root: Path | None) -> str | None:
    path = Path(raw)
    if not path.is_absolute():
        return None if raw.startswith("..") else PurePosixPath(raw).as_posix()
    if repo_root is None:
        return None
    try:
        return path.resolve().relative_to(repo_root.resolve()).as_posix()
    except ValueError:
        return None  # a frame in the stdlib or site-packages
