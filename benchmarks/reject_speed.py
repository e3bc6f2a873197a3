"""What one rejected candidate costs in a real project whose failing test sits among 500+.

The held-out real bugs spent ~3 s rejecting each candidate (0.23 s on the development set):
their failing tests live in big test modules. This benchmark reproduces that shape on a
popular project of your choice, with a bug it injects itself:

1. copy the project (e.g. more-itertools, fetched under /work/repos/) to a temporary directory
   and apply a recipe: one exact-text replacement at one line of one file (a flipped
   comparison, say), then commit it so the copy looks like any checkout;
2. run `fixwurx fix COPY --test <command> --state-out ...` (templates only: no model provider
   is configured for the run) with the recipe's failing test module as the test command;
3. print, from the run's state: candidates tried, the median and p90 seconds per candidate a
   test run rejected, and where those seconds went, per phase (app/repair/verifier.py
   `PHASES`: compile, apply, sandbox start, pytest start-up and collection, the failing tests,
   the rest of the module or suite).

    python benchmarks/reject_speed.py --repo /work/repos/more-itertools           # default recipe
    python benchmarks/reject_speed.py --repo DIR --recipe divide --suite-timeout 300
    python benchmarks/reject_speed.py --repo DIR --file pkg/mod.py --line 12 \\
        --old "i <= r" --new "i < r" --test "python -m pytest tests/test_mod.py"

Recipes live in benchmarks/reject_speed.json; nothing else here knows about a project.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RECIPES = Path(__file__).with_name("reject_speed.json")
#: The reason suffixes of a candidate a test run rejected (the rest never ran a test).
REJECTED_BY_A_TEST_RUN = ("(canary check)", "(smoke check)")
#: The verifier's phases, in the order a check goes through them.
PHASES = ("compile", "apply", "sandbox_start", "collection", "failing_tests", "rest_of_suite")
#: Variables that would give the run a model provider: templates only here.
MODEL_VARIABLES = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "FIXWURX_LLM_PROVIDER")


@dataclass(frozen=True)
class Recipe:
    """One injected bug: replace `old` by `new` on line `line` of `file`; `test` fails then."""

    name: str
    file: str
    line: int
    old: str
    new: str
    test: str


def main() -> int:
    args = _arguments()
    recipe = _recipe(args)
    repo = Path(args.repo).resolve()
    if not repo.is_dir():
        print(f"reject_speed: {repo} is not a directory (fetch a project under /work/repos/)")
        return 2
    with tempfile.TemporaryDirectory(prefix="fixwurx-reject-") as tmp:
        work = Path(tmp) / repo.name
        problem = inject(repo, work, recipe)
        if problem:
            print(f"reject_speed: {problem}")
            return 2
        state_path = Path(tmp) / "state.json"
        started = time.monotonic()
        code, tail = _fix(work, recipe, args, state_path)
        seconds = time.monotonic() - started
        if not state_path.is_file():
            print(f"reject_speed: fixwurx fix wrote no state (exit {code}):\n{tail}")
            return 1
        state = json.loads(state_path.read_text(encoding="utf-8"))
        if args.keep_state:
            shutil.copy(state_path, args.keep_state)
    print(report(recipe, state, code, seconds))
    if args.json:
        Path(args.json).write_text(json.dumps(figures(state), indent=2), encoding="utf-8")
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", required=True, help="the project to inject a bug into")
    parser.add_argument("--recipe", default="", help="a recipe name from reject_speed.json")
    parser.add_argument("--file", help="file to edit (repository-relative)")
    parser.add_argument("--line", type=int, help="1-based line of the edit")
    parser.add_argument("--old", help="exact text on that line")
    parser.add_argument("--new", help="what replaces it")
    parser.add_argument("--test", help="test command whose tests then fail")
    parser.add_argument("--suite-timeout", type=float, help="fixwurx fix --timeout (per suite run)")
    parser.add_argument("--max-candidates", type=int, default=None)
    parser.add_argument("--json", help="write the figures here too")
    parser.add_argument("--keep-state", help="copy the run's state JSON here")
    parser.add_argument(
        "--environment",
        action="store_true",
        help="let fixwurx build the project's environment (default: its own interpreter)",
    )
    return parser.parse_args()


def _recipe(args: argparse.Namespace) -> Recipe:
    if args.file:
        return Recipe("command-line", args.file, args.line, args.old, args.new, args.test)
    recipes = json.loads(RECIPES.read_text(encoding="utf-8"))
    name = args.recipe or recipes[0]["name"]
    for item in recipes:
        if item["name"] == name:
            return Recipe(**item)
    raise SystemExit(f"reject_speed: no recipe {name!r} in {RECIPES}")


def inject(repo: Path, work: Path, recipe: Recipe) -> str:
    """Copy `repo` to `work` (no history), apply `recipe`, commit; a problem, or ""."""
    shutil.copytree(repo, work, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    target = work / recipe.file
    if not target.is_file():
        return f"{recipe.file} is not a file of {repo}"
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    if not 0 < recipe.line <= len(lines) or recipe.old not in lines[recipe.line - 1]:
        return f"{recipe.file}:{recipe.line} does not contain {recipe.old!r}"
    lines[recipe.line - 1] = lines[recipe.line - 1].replace(recipe.old, recipe.new, 1)
    target.write_text("".join(lines), encoding="utf-8")
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", "-C", str(work)]
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "injected bug"]):
        subprocess.run([*git, *step], check=True, capture_output=True)
    return ""


def _fix(work: Path, recipe: Recipe, args: argparse.Namespace, state: Path) -> tuple[int, str]:
    argv = [
        str(Path(sys.executable).with_name("fixwurx")),
        "fix",
        str(work),
        "--test",
        recipe.test,
        "--state-out",
        str(state),
        "--json",
    ]
    if args.suite_timeout:
        argv += ["--timeout", str(args.suite_timeout)]
    if args.max_candidates:
        argv += ["--max-candidates", str(args.max_candidates)]
    if not args.environment:
        argv.append("--no-environment")
    env = {k: v for k, v in os.environ.items() if k not in MODEL_VARIABLES}
    run = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    return run.returncode, (run.stdout + run.stderr)[-3000:]


def rejected(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The candidates a test run rejected (a compile error costs no test run)."""
    return [
        c
        for c in state.get("candidates", [])
        if not c.get("plausible") and str(c.get("reason", "")).endswith(REJECTED_BY_A_TEST_RUN)
    ]


def figures(state: dict[str, Any]) -> dict[str, Any]:
    """The numbers `report` prints, as data."""
    every = state.get("candidates", [])
    spent = [float(c.get("seconds") or 0.0) for c in rejected(state)]
    phases = {p: [float(c.get("phases", {}).get(p, 0.0)) for c in rejected(state)] for p in PHASES}
    return {
        "status": state.get("status"),
        "tried": len(every),
        "plausible": sum(1 for c in every if c.get("plausible")),
        "rejected_by_a_test_run": len(spent),
        "median_rejected_s": round(statistics.median(spent), 3) if spent else None,
        "p90_rejected_s": round(_p90(spent), 3) if spent else None,
        "phase_median_s": {
            p: round(statistics.median(v), 3) if v else 0.0 for p, v in phases.items()
        },
        "phase_total_s": {p: round(sum(v), 2) for p, v in phases.items()},
        "rejected_by": _reasons(rejected(state)),
        "stage_timings": state.get("timings", {}),
    }


def _locations(state: dict[str, Any]) -> str:
    top = state.get("locations", [])[:3]
    return ", ".join(
        f"{loc.get('path')}:{loc.get('line')} ({loc.get('score', 0):.2f})" for loc in top
    )


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def _reasons(candidates: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for candidate in candidates:
        kind = "canary" if candidate["reason"].endswith("(canary check)") else "smoke"
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def report(recipe: Recipe, state: dict[str, Any], code: int, seconds: float) -> str:
    """The benchmark's printout."""
    numbers = figures(state)
    lines = [
        f"recipe {recipe.name}: {recipe.file}:{recipe.line} {recipe.old!r} -> {recipe.new!r}",
        f"test command: {recipe.test}",
        f"fixwurx fix exit {code}, status {numbers['status']}, {seconds:.1f} s wall",
        f"reason: {state.get('reason', '')}",
        f"top locations: {_locations(state)}",
        f"stages: {json.dumps(numbers['stage_timings'], sort_keys=True)}",
        f"candidates tried: {numbers['tried']} ({numbers['plausible']} plausible, "
        f"{numbers['rejected_by_a_test_run']} rejected by a test run: {numbers['rejected_by']})",
        f"seconds per rejected candidate: median {numbers['median_rejected_s']}, "
        f"p90 {numbers['p90_rejected_s']}",
        "where a rejection's seconds go (median / total over rejected candidates):",
    ]
    for phase in PHASES:
        lines.append(
            f"  {phase:<14} {numbers['phase_median_s'][phase]:>7.3f} s "
            f"{numbers['phase_total_s'][phase]:>9.2f} s"
        )
    chosen = state.get("chosen") or {}
    if chosen:
        lines.append(f"chosen: {chosen.get('description')}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
