"""Fault localization on real bugs: is a line the developer's fix changed among the first N?

For each case of the development set (`../shared/bugs/`, as in run_real_bugs.py) the tarball is
unpacked into a temporary directory and `fixwurx localize REPO --test <given_test_command>
--json` runs on it exactly as a user would run it: the environment is built from what the
repository declares, the failing tests are reproduced, and the lines are ranked. Only here, after
the run, is the manifest's `patch` (the developer's fix) read, to judge the ranking.

What counts as a hit (the buggy side of the developer's diff):

- every line the fix deletes or replaces (a `-` line of a hunk);
- for a pure insertion (a run of `+` lines with no `-` line), the buggy lines on either side of
  the insertion point: the fix belongs between them, and a repair that edits either one is at
  the right place;
- a ranked line hits when it is one of those lines, or when it starts a statement that spans one
  (coverage and tracebacks name a statement by its first line, so the third line of a
  multi-line call is ranked as the call's first line).

Per case it prints the rank of the first hit (or "-"), how many lines were ranked, and the
seconds; then Top-1, Top-5 and Top-10 over all cases. Nothing here knows about a project.

    python benchmarks/localization.py                        # every case, a fresh env cache
    python benchmarks/localization.py --env-cache /tmp/envs  # reuse environments across runs
    python benchmarks/localization.py --case thefuck-1 --show 10
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from run_real_bugs import _bugs_dir, _cli_env, _unpack  # noqa: E402

#: How many ranked lines `fixwurx localize` is asked for (Top-10 needs 10; more helps diagnosis).
LIMIT = 50
#: The N of Top-N.
TOPS = (1, 5, 10)
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,(\d+))? @@")


@dataclass
class CaseResult:
    """One case: where the first hit was ranked, and what was ranked."""

    case: str
    rank: int | None = None
    ranked: int = 0
    seconds: float = 0.0
    status: str = ""
    hits: dict[str, list[int]] = field(default_factory=dict)
    top: list[str] = field(default_factory=list)


def changed_lines(patch: str) -> dict[str, set[int]]:
    """Buggy-side lines of a unified diff that the fix changed (see the module docstring)."""
    result: dict[str, set[int]] = {}
    path = ""
    old = 0
    block_deleted: list[int] = []
    block_inserted = False
    before: int | None = None
    left = 0  # lines of the current hunk not read yet (old and new sides together)

    def close_block() -> None:
        nonlocal block_deleted, block_inserted, before
        if block_deleted:
            result.setdefault(path, set()).update(block_deleted)
        elif block_inserted:  # a pure insertion: the lines either side of it
            result.setdefault(path, set()).update(
                line for line in (before, old) if line is not None and line > 0
            )
        block_deleted, block_inserted = [], False

    for text in patch.splitlines():
        if left <= 0 and text.startswith("--- "):
            close_block()
            continue
        if left <= 0 and text.startswith("+++ "):
            name = text[4:].split("\t", 1)[0]
            path = name[2:] if name.startswith("b/") else name
            continue
        match = _HUNK.match(text)
        if match:
            close_block()
            old = int(match.group(1))
            left = int(match.group(2) or 1) + int(match.group(3) or 1)
            before = old - 1 if old > 1 else None
            continue
        if not path or text.startswith("\\"):
            continue
        if text.startswith("-"):
            block_deleted.append(old)
            old += 1
            left -= 1
        elif text.startswith("+"):
            block_inserted = True
            left -= 1
        else:  # context: the block, if any, ends here; `old` is the line after an insertion
            close_block()
            before = old
            old += 1
            left -= 2
    close_block()
    return result


def statement_spans(source: str) -> dict[int, range]:
    """For each line that starts a simple statement (or a compound one's header), its lines."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    spans: dict[int, range] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            end = body[0].lineno - 1  # a compound statement: its header only
        else:
            end = node.end_lineno or node.lineno
        spans.setdefault(node.lineno, range(node.lineno, max(end, node.lineno) + 1))
    return spans


def first_hit(locations: list[dict[str, Any]], hits: dict[str, set[int]], repo: Path) -> int | None:
    """1-based rank of the first ranked line that is (or whose statement spans) a changed line."""
    spans: dict[str, dict[int, range]] = {}
    for rank, loc in enumerate(locations, start=1):
        path, line = str(loc["path"]), int(loc["line"])
        if path not in hits:
            continue
        if path not in spans:
            file = repo / path
            text = file.read_text("utf-8", "replace") if file.is_file() else ""
            spans[path] = statement_spans(text)
        covered = spans[path].get(line, range(line, line + 1))
        if hits[path] & set(covered):
            return rank
    return None


def run_case(case: dict[str, Any], bugs: Path, cache: Path, timeout: float) -> CaseResult:
    """Unpack, run `fixwurx localize --json`, judge its ranking against the developer's fix."""
    result = CaseResult(case["id"])
    hits = changed_lines(case["patch"])
    result.hits = {path: sorted(lines) for path, lines in hits.items()}
    with tempfile.TemporaryDirectory(prefix=f"fixwurx-loc-{case['id']}-") as tmp:
        work = Path(tmp)
        repo = _unpack(bugs / case["repository"], work / "run")
        argv = [sys.executable, "-m", "app", "localize", str(repo), "--json"]
        argv += ["--test", case["given_test_command"], "--limit", str(LIMIT)]
        started = time.monotonic()
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=_cli_env(cache, work),
                check=False,
            )
            output = _last_json(done.stdout)
        except subprocess.TimeoutExpired:
            output = {"status": f"timed out after {timeout:.0f}s", "locations": []}
        result.seconds = round(time.monotonic() - started, 1)
        locations = output.get("locations", [])
        result.status = str(output.get("status", "no output"))
        if result.status != "localized":
            result.status += f": {str(output.get('reason', ''))[:160]}"
        result.ranked = len(locations)
        result.top = [f"{loc['path']}:{loc['line']}  {loc['why']}" for loc in locations]
        result.rank = first_hit(locations, hits, repo)
    return result


def _last_json(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict):
            return data
    return {"status": "no JSON output", "reason": stdout[-200:]}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bugs", help="the folder of cases (default: ../shared/bugs)")
    parser.add_argument("--case", action="append", help="run only this case (repeatable)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per case")
    parser.add_argument("--env-cache", help="environment cache to use (default: a new one)")
    parser.add_argument("--show", type=int, default=0, help="print the first N ranked lines")
    parser.add_argument("--json", help="also write the results here")
    return parser.parse_args()


def _print_row(r: CaseResult, show: int) -> None:
    rank = str(r.rank) if r.rank is not None else "-"
    print(f"{r.case:<14} first hit {rank:>3}  ranked {r.ranked:>3}  {r.seconds:6.1f}s", flush=True)
    if r.status != "localized":
        print(f"               {r.status}")
    if show:
        fixed = ", ".join(f"{p}:{','.join(map(str, lines))}" for p, lines in r.hits.items())
        print(f"               fix changed {fixed}")
        for i, line in enumerate(r.top[:show], start=1):
            print(f"               {i:>3}. {line[:150]}")


def main() -> int:
    args = _arguments()
    bugs = _bugs_dir(args.bugs)
    manifests = sorted(bugs.glob("*.json"))
    if args.case:
        manifests = [m for m in manifests if m.stem in set(args.case)]
    if not manifests:
        print(f"no cases in {bugs}", file=sys.stderr)
        return 2
    cache = Path(args.env_cache or tempfile.mkdtemp(prefix="fixwurx-loc-envs-"))
    print(f"environment cache: {cache}")
    results = []
    for manifest in manifests:
        case = json.loads(manifest.read_text(encoding="utf-8"))
        result = run_case(case, bugs, cache, args.timeout)
        _print_row(result, args.show)
        results.append(result)
    n = len(results)
    print()
    for top in TOPS:
        count = sum(1 for r in results if r.rank is not None and r.rank <= top)
        print(f"Top-{top:<3} {count}/{n} ({100 * count / n:.0f}%)")
    total = sum(r.seconds for r in results)
    print(f"seconds  {total:.1f} in all, {total / n:.1f} per case")
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=2), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
