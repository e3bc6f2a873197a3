"""Parse pytest's JUnit XML (xunit1 family) into per-test outcomes with traceback frames.

xunit1 keeps the `file` attribute on each testcase, which lets us rebuild pytest node ids
(`tests/test_x.py::TestC::test_y[1]`) so failing tests can be rerun by id.

A report is written by the repository's own tests (or uploaded by its CI), so it is hostile
text parsed in FixWurx's own process, outside every sandbox limit. Three rules keep that cheap:
the XML parser refuses any DOCTYPE (no entities, so no expansion bomb and no external fetch);
every field is cut to size before a pattern sees it; and every pattern runs on one line at a
time, so none can backtrack across lines (a failure text of 120,000 newlines once cost 89 s).
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from app.testing.results import Frame, TestOutcome, TestStatus

log = logging.getLogger(__name__)

#: Characters of a report parsed at most; a larger one is refused whole (pytest writes a few
#: hundred bytes per passing test, so this is far above an honest suite's report).
MAX_REPORT_CHARS = 32 * 1024 * 1024
#: Element nesting allowed (pytest writes four levels: testsuites, testsuite, testcase, failure).
MAX_DEPTH = 32
#: Test cases read from one report at most.
MAX_TESTCASES = 100_000
#: Characters of one test case's failure text kept: its head (the test) and its tail (the
#: innermost frames and the error), with a visible mark where the middle was cut.
MAX_CASE_TEXT = 64 * 1024
CASE_TEXT_HEAD = 16 * 1024
#: Characters kept of a failure message and of a name, class name, file or time attribute.
MAX_MESSAGE = 4 * 1024
MAX_ATTRIBUTE = 4 * 1024
#: Frames kept per traceback (the innermost ones) and characters of a line a pattern reads.
MAX_FRAMES = 200
#: A test case's duration above this is not believed (one week).
MAX_DURATION_S = 7 * 24 * 3600.0
MAX_LINE = 1024
CUT_MARK = "\n[... {} characters cut by FixWurx ...]\n"

#: pytest long tracebacks end each frame with `path/to/file.py:LINE: ExcType` or `...:LINE: in f`.
_FRAME_LINE = re.compile(r"(?P<path>[^\s:][^:]*?\.py):(?P<line>\d{1,9}):")
#: Python's own traceback format, used by `--tb=native` and plain scripts.
_NATIVE_FRAME = re.compile(r'[ \t]*File "(?P<path>[^"]+\.py)", line (?P<line>\d{1,9})')


def parse_junit(xml_text: str, repo_root: Path | None = None) -> list[TestOutcome]:
    """All testcases in the report (at most MAX_TESTCASES); malformed, over-size, too deep or
    DTD-bearing XML gives an empty list rather than a crash.

    Each test case becomes its outcome as it closes and is then emptied, and nesting deeper
    than MAX_DEPTH stops the parse. The text goes to the parser in one piece: expat before 2.6
    re-reads a token that spans several feeds from its start (CVE-2023-52425), which makes a
    long attribute fed in chunks quadratic.
    """
    if len(xml_text) > MAX_REPORT_CHARS:
        log.warning(
            "ignoring a JUnit report of %d characters (limit %d)", len(xml_text), MAX_REPORT_CHARS
        )
        return []
    cases = _Cases(repo_root)
    parser = DefusedXMLParser(target=cases, forbid_dtd=True)
    try:
        parser.feed(xml_text)
        parser.close()
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        log.warning("ignoring an unreadable JUnit report: %s", str(exc)[:200])
        return []
    return cases.outcomes


class _Cases:
    """The parser's target: builds the tree, but turns each test case into its outcome when it
    closes (then empties it), refuses deep nesting and stops counting at MAX_TESTCASES."""

    def __init__(self, repo_root: Path | None) -> None:
        self.repo_root = repo_root
        self.builder = ET.TreeBuilder()
        self.depth = 0
        self.outcomes: list[TestOutcome] = []

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ValueError(f"elements nested deeper than {MAX_DEPTH}")
        return self.builder.start(tag, attrs)

    def end(self, tag: str) -> ET.Element:
        self.depth -= 1
        element = self.builder.end(tag)
        if tag == "testcase" and len(self.outcomes) < MAX_TESTCASES:
            self.outcomes.append(_testcase(element, self.repo_root))
            if len(self.outcomes) == MAX_TESTCASES:
                log.warning(
                    "a JUnit report has over %d test cases; the rest are ignored", MAX_TESTCASES
                )
        if tag == "testcase":
            element.clear()
        return element

    def data(self, text: str) -> None:
        self.builder.data(text)

    def close(self) -> ET.Element:
        return self.builder.close()


def cut(text: str, limit: int = MAX_CASE_TEXT, head: int = CASE_TEXT_HEAD) -> str:
    """`text` at most about `limit` characters: its first `head` and its tail, the cut marked."""
    if len(text) <= limit:
        return text
    tail = limit - head
    return text[:head] + CUT_MARK.format(len(text) - limit) + text[-tail:]


def _attribute(element: ET.Element, name: str) -> str:
    return (element.get(name) or "")[:MAX_ATTRIBUTE]


def _testcase(case: ET.Element, repo_root: Path | None) -> TestOutcome:
    outcome: TestStatus = "passed"
    message = text = ""
    for child in case:
        if child.tag in ("failure", "error", "skipped"):
            outcome = "failed" if child.tag == "failure" else child.tag  # type: ignore[assignment]
            message = (child.get("message") or "")[:MAX_MESSAGE]
            text = cut(child.text or "")
            break
    return TestOutcome(
        test_id=node_id(case),
        outcome=outcome,
        duration=_duration(_attribute(case, "time")),
        message=message,
        traceback=text,
        frames=frames_from_traceback(text, repo_root),
    )


def _duration(raw: str) -> float:
    """The `time` attribute in seconds; 0.0 for anything that is not a short number of seconds
    below MAX_DURATION_S (durations set per-test limits, so a planted one must not be huge)."""
    try:
        value = float(raw) if 0 < len(raw) <= 32 else 0.0
    except ValueError:
        return 0.0
    return value if 0.0 <= value <= MAX_DURATION_S else 0.0


def node_id(case: ET.Element) -> str:
    """Rebuild the pytest node id from xunit1 attributes."""
    name = _attribute(case, "name")
    classname = _attribute(case, "classname")
    file = _attribute(case, "file")
    if not file:
        return f"{classname}::{name}" if classname else name
    module = PurePosixPath(file).with_suffix("").as_posix().replace("/", ".")
    classes = classname[len(module) :].lstrip(".") if classname.startswith(module) else ""
    parts = [file, *[c for c in classes.split(".") if c], name]
    return "::".join(parts)


def frames_from_traceback(text: str, repo_root: Path | None = None) -> tuple[Frame, ...]:
    """Repository-relative frames, innermost last, from pytest or native tracebacks.

    The text is cut first, then read one line at a time (each line cut to MAX_LINE), so the
    cost is linear in the text whatever it holds.
    """
    seen: dict[tuple[str, str], None] = {}
    for line in cut(text).split("\n"):
        match = _FRAME_LINE.match(line, 0, MAX_LINE) or _NATIVE_FRAME.match(line, 0, MAX_LINE)
        if match:
            seen.setdefault((match.group("path"), match.group("line")), None)
    real_root = _real(repo_root)
    resolved: dict[str, str | None] = {}
    ordered: dict[Frame, None] = {}
    for raw, line_no in seen:
        if raw not in resolved:
            resolved[raw] = _relative(raw, real_root)
        path = resolved[raw]
        if path is not None:
            ordered[Frame(path, int(line_no))] = None
    return tuple(ordered)[-MAX_FRAMES:]


def _real(repo_root: Path | None) -> Path | None:
    try:
        return None if repo_root is None else repo_root.resolve()
    except (OSError, RuntimeError):
        return None


def _relative(raw: str, real_root: Path | None) -> str | None:
    try:
        path = Path(raw)
        if not path.is_absolute():
            return None if raw.startswith("..") else PurePosixPath(raw).as_posix()
        if real_root is None:
            return None
        return path.resolve().relative_to(real_root).as_posix()
    except (ValueError, OSError, RuntimeError):
        return None  # a frame in the stdlib or site-packages, or not a path at all
