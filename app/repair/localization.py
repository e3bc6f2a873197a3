"""Fault localization: which source lines most likely hold the bug.

Four signals are combined:

- spectrum: per-test coverage contexts give, for each line, how many failing and passing tests
  executed it; Ochiai turns that into a score (see `spectrum.py`);
- traceback frames of the failing tests: where an exception surfaced (or a hang was stuck).
  The innermost frame in the source, where the failure left the project's code, weighs most:
  a line that raised is the likeliest culprit among the lines every failing test ran;
- the functions the failing tests call by name (`called.py`): among lines of equal score, the
  behaviour the test checks beats the helpers under it;
- the identifiers and files an issue's text names, when there is one (`called.py`).

Only source files count (`scope.py`). Ties are broken by nearness to a traceback frame and by
what a line holds: a comparison or arithmetic is likelier to be wrong than a plain assignment.
When coverage cannot run (a non-pytest command, a timeout), the frames and the statements
around them are all we have.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from app import pysource, workfiles
from app.repair.called import (
    Definition,
    called_by_tests,
    definitions,
    issue_identifiers,
    resolve,
)
from app.repair.coverage_run import run_with_coverage
from app.repair.scope import in_scope
from app.repair.spectrum import LineKey, Spectrum, build_spectrum
from app.testing.results import Frame, Location, TestOutcome
from app.testing.testcmd import TestCommand
from app.testing.testrun import limit_from_durations

#: Added to a line's score when it is a traceback frame of a failing test (outer frames decay)...
FRAME_BONUS = 0.15
#: ...but the innermost frame in the source, where the failure surfaced, gets this much.
INNERMOST_BONUS = 0.5
#: Added to a covered line of a function a failing test calls by name.
CALLED_BONUS = 0.1
#: Added to a covered line of a function the issue names, or of a file it names.
ISSUE_BONUS = 0.1
#: Score of the innermost frame when frames are the only signal; outer frames decay by...
FALLBACK_FRAME_SCORE = 1.0
FALLBACK_DECAY = 0.8
#: ...and the other statements of a frame's function get this share of the frame's score.
FALLBACK_NEIGHBOUR_SHARE = 0.5
#: Score of a statement in a function the failing test calls, when nothing better is known.
CALLED_SCORE = 0.3
#: A name followed by an opening parenthesis: a call on a test's traceback line.
_CALLED = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
#: Per-test limit (s) of the coverage run when a failing test hangs.
HUNG_MIN_S = 4.0
#: No caller needs more than this many ranked lines.
MAX_LOCATIONS = 200

#: What a line holds, as a tie-breaker: likelier bug sites weigh more.
_CONTENT_WEIGHTS: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(r"[<>]=?|[!=]=|\bnot in\b|\bis\b|\bin\b"), 3.0),
    (re.compile(r"[-+*/%]|\band\b|\bor\b|\bnot\b"), 2.0),
    (re.compile(r"\w\s*\["), 2.0),
    (re.compile(r"\breturn\b|\bwhile\b|\bif\b"), 1.5),
    (re.compile(r"\w\s*\("), 1.0),
)
_DECLARATION = re.compile(r"^\s*(def|class|import|from|@)\b")


@dataclass(frozen=True)
class _Ranked:
    key: LineKey
    score: float
    distance: int
    content: float
    why: str


def localize(
    root: Path,
    command: TestCommand,
    failing: Sequence[TestOutcome],
    passing_ids: Iterable[str],
    *,
    timeout: float,
    ignore: Sequence[str] = (),
    issue_text: str = "",
) -> list[Location]:
    """Rank suspicious source lines of the work copy at `root`, most suspicious first."""
    frames = _frames_by_test(failing, root, ignore)
    scores: dict[LineKey, float] = {}
    reasons: dict[LineKey, str] = {}
    if command.is_pytest:
        targets = [o.test_id for o in failing]
        covered = run_with_coverage(root, command, timeout, _hang_limit(failing), targets)
        passing = set(passing_ids) or set(covered.run.passing_ids)
        # A test cut short by the coverage run's per-test limit is not evidence of a fault
        # unless it is a target; its stack dump is, though: it shows the loop. A failure that
        # is neither a target nor a baseline pass (set aside as pre-existing: no network, no
        # home directory) says nothing about this bug, and would pull the ranking to the code
        # it happens to run.
        target_ids = {o.test_id for o in failing}
        extra = [
            o
            for o in covered.run.failing
            if (o.test_id in target_ids if failing else o.test_id not in passing)
        ]
        failing_ids = {o.test_id for o in failing} | {o.test_id for o in extra}
        for outcome in extra:
            found = _in_scope_frames(outcome.frames, root, ignore)
            frames[outcome.test_id] = tuple(dict.fromkeys(frames.get(outcome.test_id, ()) + found))
        spectrum = build_spectrum(covered.lines_by_test, failing_ids, passing - failing_ids)
        for key in spectrum.lines():
            if in_scope(key[0], root, ignore):
                scores[key] = spectrum.ochiai(key)
                reasons[key] = _spectrum_reason(spectrum, key)
    if not scores:
        scores, reasons = _fallback(frames, root)
    index = definitions(root, ignore)
    called = called_by_tests(root, [o.test_id for o in failing], index)
    if not scores:
        scores, reasons = _called_from_tests(failing, root, ignore, called)
    _add_frame_bonus(scores, reasons, frames)
    _add_called_bonus(scores, reasons, called)
    if issue_text:
        _add_issue_bonus(scores, reasons, issue_text, index)
    return _rank(scores, reasons, frames, root)


def _add_called_bonus(
    scores: dict[LineKey, float],
    reasons: dict[LineKey, str],
    called: dict[str, list[Definition]],
) -> None:
    """Ranked lines of a function a failing test calls by name gain CALLED_BONUS, once."""
    done: set[LineKey] = set()
    for test, chosen in called.items():
        for definition in chosen:
            for line in definition.lines:
                key = (definition.path, line)
                if key in done or scores.get(key, 0.0) <= 0.0:
                    continue
                done.add(key)
                scores[key] += CALLED_BONUS
                reasons[key] += f"; in {definition.name}(), which {_short(test)} calls"


def _add_issue_bonus(
    scores: dict[LineKey, float],
    reasons: dict[LineKey, str],
    issue_text: str,
    index: dict[str, list[Definition]],
) -> None:
    """Ranked lines of a function, or of a file, that the issue names gain ISSUE_BONUS, once."""
    names, paths = issue_identifiers(issue_text)
    named: dict[LineKey, str] = {}
    for name in sorted(names):
        for definition in resolve(name, index, set()):
            for line in definition.lines:
                named.setdefault((definition.path, line), f"{name}()")
    for key in scores:
        if key not in named and any(key[0] == p or key[0].endswith("/" + p) for p in paths):
            named[key] = key[0]
    for key, what in named.items():
        if scores.get(key, 0.0) > 0.0:
            scores[key] += ISSUE_BONUS
            reasons[key] += f"; the issue names {what}"


def _spectrum_reason(spectrum: Spectrum, key: LineKey) -> str:
    """In plain words, with the technical name last: who ran the line, and its Ochiai score."""
    failed, passed = spectrum.failed.get(key, 0), spectrum.passed.get(key, 0)
    return (
        f"run by {failed} of {spectrum.total_failed} failing tests and {passed} passing "
        f"(suspiciousness {spectrum.ochiai(key):.2f}, Ochiai)"
    )


def _hang_limit(failing: Sequence[TestOutcome]) -> float | None:
    """A short per-test limit when a failing test hung: waiting longer shows nothing new."""
    if not any(o.hung for o in failing):
        return None
    return limit_from_durations((o.duration for o in failing if not o.hung), HUNG_MIN_S)


def _frames_by_test(
    failing: Sequence[TestOutcome], root: Path, ignore: Sequence[str]
) -> dict[str, tuple[Frame, ...]]:
    return {o.test_id: _in_scope_frames(o.frames, root, ignore) for o in failing}


def _in_scope_frames(
    frames: Iterable[Frame], root: Path, ignore: Sequence[str]
) -> tuple[Frame, ...]:
    return tuple(f for f in frames if in_scope(f.path, root, ignore))


def _short(test_id: str) -> str:
    return test_id.rsplit("::", 1)[-1]


def _add_frame_bonus(
    scores: dict[LineKey, float], reasons: dict[LineKey, str], frames: dict[str, tuple[Frame, ...]]
) -> None:
    """Frames of failing tests gain a bonus: INNERMOST_BONUS where the failure surfaced, then
    FRAME_BONUS decaying outwards (a caller passed the failure on; it rarely made it)."""
    bonus: dict[LineKey, tuple[float, str]] = {}
    for test_id, chain in frames.items():
        for depth, frame in enumerate(reversed(chain)):
            key = (frame.path, frame.line)
            gain = INNERMOST_BONUS if depth == 0 else FRAME_BONUS * FALLBACK_DECAY**depth
            if gain > bonus.get(key, (0.0, ""))[0]:
                bonus[key] = (gain, test_id)
    for key, (gain, test_id) in bonus.items():
        scores[key] = scores.get(key, 0.0) + gain
        base = reasons.get(key, "not covered")
        reasons[key] = f"{base}; in traceback of {_short(test_id)}"


def _fallback(
    frames: dict[str, tuple[Frame, ...]], root: Path
) -> tuple[dict[LineKey, float], dict[LineKey, str]]:
    """No spectrum: blame the frames, then the other statements of their functions."""
    scores: dict[LineKey, float] = {}
    reasons: dict[LineKey, str] = {}
    for chain in frames.values():
        for depth, frame in enumerate(reversed(chain)):
            weight = FALLBACK_FRAME_SCORE * FALLBACK_DECAY**depth
            for line in _function_statements(root, frame.path, frame.line):
                key = (frame.path, line)
                share = weight if line == frame.line else weight * FALLBACK_NEIGHBOUR_SHARE
                if share > scores.get(key, 0.0):
                    scores[key] = share
                    reasons[key] = "traceback frame" if line == frame.line else "same function"
    return scores, reasons


def _called_from_tests(
    failing: Sequence[TestOutcome],
    root: Path,
    ignore: Sequence[str],
    called: dict[str, list[Definition]],
) -> tuple[dict[LineKey, float], dict[LineKey, str]]:
    """No frame in the source (an assertion in a test, no coverage): blame what the test calls.

    The names called on the failing tests' own traceback lines are looked up among the source
    files' function definitions, and the statements of those functions are suspects; so are
    the statements of the functions the tests' bodies call by name (`called`).
    """
    names = _names_called_on(
        [f for o in failing for f in o.frames if not in_scope(f.path, root, ignore)], root
    )
    scores: dict[LineKey, float] = {}
    reasons: dict[LineKey, str] = {}
    for chosen in called.values():
        for definition in chosen:
            for line in definition.lines:
                scores[(definition.path, line)] = CALLED_SCORE
                reasons[(definition.path, line)] = (
                    f"in {definition.name}(), called by the failing test"
                )
    if not names:
        return scores, reasons
    for rel in sorted(workfiles.walk_files(root, ".py")):  # no link followed out of the copy
        path = rel.as_posix()
        tree = _parse(root, path) if in_scope(path, root, ignore) else None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in names:
                for line in _function_statements(root, path, node.body[0].lineno):
                    scores[(path, line)] = CALLED_SCORE
                    reasons[(path, line)] = f"in {node.name}(), called by the failing test"
    return scores, reasons


def _names_called_on(frames: Sequence[Frame], root: Path) -> set[str]:
    names: set[str] = set()
    for frame in frames:
        try:
            lines = workfiles.read_text(root, frame.path).splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        if 0 < frame.line <= len(lines):
            names.update(_CALLED.findall(lines[frame.line - 1]))
    return names


def _function_statements(root: Path, path: str, line: int) -> list[int]:
    """Start lines of the simple statements in the function around `line` (or just `line`)."""
    tree = _parse(root, path)
    if tree is None:
        return [line]
    best: ast.AST | None = None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            end = node.end_lineno or node.lineno
            if node.lineno <= line <= end and (best is None or node.lineno > best.lineno):  # type: ignore[attr-defined]
                best = node
    if best is None:
        return [line]
    lines = {n.lineno for n in ast.walk(best) if isinstance(n, ast.stmt) and n is not best}
    return sorted(lines | {line})


@lru_cache(maxsize=256)
def _parse_cached(root: Path, path: str, mtime: float) -> ast.Module | None:
    return pysource.parse_file(root, path)  # bounded: a huge or hostile file gives None


def _parse(root: Path, path: str) -> ast.Module | None:
    try:
        return _parse_cached(root, path, workfiles.stat_inside(root, path).st_mtime)
    except OSError:
        return None


def _rank(
    scores: dict[LineKey, float],
    reasons: dict[LineKey, str],
    frames: dict[str, tuple[Frame, ...]],
    root: Path,
) -> list[Location]:
    frame_lines: dict[str, list[int]] = {}
    for chain in frames.values():
        for frame in chain:
            frame_lines.setdefault(frame.path, []).append(frame.line)
    ranked = []
    files: dict[str, list[str]] = {}
    for key, score in scores.items():
        text = _line_text(root, key, files)
        if _DECLARATION.match(text):
            continue
        near = [abs(key[1] - line) for line in frame_lines.get(key[0], ())]
        distance = min(near) if near else 10**6
        ranked.append(_Ranked(key, score, distance, _content_weight(text), reasons[key]))
    ranked.sort(key=lambda r: (-round(r.score, 6), r.distance, -r.content, r.key))
    return [Location(r.key[0], r.key[1], round(r.score, 6), r.why) for r in ranked[:MAX_LOCATIONS]]


def _line_text(root: Path, key: LineKey, files: dict[str, list[str]]) -> str:
    if key[0] not in files:
        try:
            files[key[0]] = workfiles.read_text(root, key[0], errors="replace").splitlines()
        except OSError:
            files[key[0]] = []
    lines = files[key[0]]
    return lines[key[1] - 1] if 0 < key[1] <= len(lines) else ""


def _content_weight(text: str) -> float:
    code = text.split("#", 1)[0]
    return sum(weight for pattern, weight in _CONTENT_WEIGHTS if pattern.search(code))
