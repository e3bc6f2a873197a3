"""Benchmark the offline repair engine on the bug cases in benchmarks/cases/ (or another set).

Each case holds `repo/` (a buggy project whose visible tests fail), `heldout/` (extra tests
the engine never sees) and `case.json` (family, kind, whether the bug hangs). For each case the
real pipeline (`app.chain.planner.repair`) runs on a copy of `repo/`; a fixed case's diff is
then applied to a fresh copy together with the held-out tests, which judge whether the patch is
correct rather than merely plausible.

`--set heldout` runs benchmarks/heldout/ instead: bugs written before the templates that fix
them, never tuned on, so its totals say how the engine does on bugs it has not seen.

Usage: python benchmarks/run_repair.py [--set cases|heldout] [--case NAME ...] [--jobs N]
       [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))

from app.chain.planner import RepairOptions, repair  # noqa: E402
from app.errors import FixwurxError  # noqa: E402
from app.local.bench_judge import JUDGE_TIMEOUT_S, judge_patch  # noqa: E402

CASES = ROOT / "cases"
#: Case sets by name (`--set`): the development cases, and the held-out bugs (never tuned on).
CASE_SETS = {"cases": CASES, "heldout": ROOT / "heldout"}
RESULTS = ROOT / "results"
#: Held-out suites are tiny; anything slower than this is a hang the patch did not fix.
HELDOUT_TIMEOUT_S = JUDGE_TIMEOUT_S
#: Whole-suite limit given to the pipeline per case (the cases' suites take about a second).
SUITE_TIMEOUT_S = 60.0
#: Per-test limit (pytest-timeout) for the cases, instead of `defaults.TEST_TIMEOUT_S`, which
#: suits real suites: the cases' tests take milliseconds, and a case whose bug hangs should
#: prove it in seconds rather than a minute.
PER_TEST_TIMEOUT_S = 5.0


@dataclass
class CaseResult:
    """One case's verdict and costs."""

    name: str
    family: str
    kind: str
    hangs: bool
    status: str
    fixed: bool
    correct: bool
    tried: int
    seconds: float
    first_plausible_s: float | None
    source: str
    reason: str
    stages: dict[str, float]
    diff: str
    #: Seconds each candidate rejected by a test run (canary or smoke) cost.
    rejected_s: list[float] = field(default_factory=list)


def main(argv: list[str] | None = None) -> int:
    """Run the cases, print a table and totals, write JSON; exit 0 when all cases ran."""
    args = _parser().parse_args(argv)
    print(f"limits per case: suite {args.suite_timeout:.0f}s, test {args.per_test_timeout:.0f}s")
    cases = CASE_SETS[args.set]
    names = args.case or sorted(p.name for p in cases.iterdir() if (p / "case.json").is_file())
    missing = [n for n in names if not (cases / n / "case.json").is_file()]
    if missing:
        print(f"unknown case(s): {', '.join(missing)}; see {cases}", file=sys.stderr)
        return 2
    print(f"case set: {args.set} ({cases.relative_to(ROOT.parent)}), {len(names)} cases")
    print(
        f"{'case':22} {'family':22} {'kind':8} {'fixed':6} {'correct':8} {'tried':>5} "
        f"{'first(s)':>8} {'total(s)':>8}"
    )
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(
            pool.map(
                lambda name: _run_and_print(
                    cases / name, args.suite_timeout, args.per_test_timeout
                ),
                names,
            )
        )
    _totals(results)
    _write_json(results, args.json)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--set",
        choices=sorted(CASE_SETS),
        default="cases",
        help="which case set to run (heldout: bugs the templates were not written beside)",
    )
    parser.add_argument("--case", action="append", help="run only this case (repeatable)")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="cases at once (the search is already parallel, so 1 suits a 2-core machine)",
    )
    parser.add_argument(
        "--suite-timeout",
        type=float,
        default=SUITE_TIMEOUT_S,
        help="whole-suite limit (s) per case",
    )
    parser.add_argument(
        "--per-test-timeout",
        type=float,
        default=PER_TEST_TIMEOUT_S,
        help="per-test limit (s) for the cases (RepairOptions.test_timeout)",
    )
    parser.add_argument("--json", type=Path, default=None, help="where to write the results")
    return parser


def _run_and_print(case_dir: Path, suite_timeout: float, test_timeout: float) -> CaseResult:
    name = case_dir.name
    result = run_case(case_dir, suite_timeout, test_timeout)
    first = f"{result.first_plausible_s:.1f}" if result.first_plausible_s is not None else "-"
    print(
        f"{name:22} {result.family:22} {result.kind:8} {_yn(result.fixed):6} "
        f"{_yn(result.correct):8} {result.tried:5d} {first:>8} {result.seconds:8.1f}",
        flush=True,
    )
    return result


def _yn(flag: bool) -> str:
    return "yes" if flag else "no"


def run_case(
    case: str | Path,
    suite_timeout: float = SUITE_TIMEOUT_S,
    test_timeout: float = PER_TEST_TIMEOUT_S,
) -> CaseResult:
    """Repair one case with the real pipeline, then judge the patch on the held-out tests.

    `case` is a case directory, or the name of one in benchmarks/cases/.
    """
    case_dir = case if isinstance(case, Path) else CASES / case
    name = case_dir.name
    meta = json.loads((case_dir / "case.json").read_text())
    started = time.monotonic()
    first: list[float] = []

    def progress(stage: str, message: str) -> None:
        # The patch stage's own line for a verified candidate: "#N <description>: plausible".
        if stage == "verify" and message.endswith(": plausible") and not first:
            first.append(time.monotonic() - started)

    try:
        outcome = repair(
            case_dir / "repo",
            RepairOptions(timeout=suite_timeout, test_timeout=test_timeout, progress=progress),
        )
    except FixwurxError as exc:  # one unusable case must not end the benchmark
        return _errored(name, meta, exc, time.monotonic() - started)
    seconds = time.monotonic() - started
    bundle = outcome.bundle
    diff = bundle.diff if bundle is not None else ""
    fixed = outcome.status == "fixed" and bool(diff)
    chosen = outcome.state.chosen or {}
    return CaseResult(
        name=name,
        family=meta["family"],
        kind=meta["kind"],
        hangs=bool(meta.get("hangs")),
        status=outcome.status,
        fixed=fixed,
        correct=fixed and heldout_passes(case_dir, diff),
        tried=len(outcome.state.candidates),
        seconds=round(seconds, 2),
        first_plausible_s=round(first[0], 2) if first else None,
        source=str(chosen.get("source", "")),
        reason=outcome.reason,
        stages=dict(outcome.state.timings),
        diff=diff,
        rejected_s=rejected_seconds(asdict(c) for c in outcome.state.candidates),
    )


#: How the verifier's reasons end when a test run rejected the candidate (app/repair/verifier.py).
REJECTED_BY_A_TEST_RUN = ("(canary check)", "(smoke check)")


def rejected_seconds(candidates: Iterable[Mapping[str, object]]) -> list[float]:
    """What each candidate that a test run rejected cost (compile errors cost no test run)."""
    return [
        float(c.get("seconds") or 0.0)  # type: ignore[arg-type]
        for c in candidates
        if not c.get("plausible") and str(c.get("reason", "")).endswith(REJECTED_BY_A_TEST_RUN)
    ]


def median_rejected(per_case: Iterable[list[float]]) -> str:
    """The median over every rejected candidate of every case, and how many there were."""
    every = [s for seconds in per_case for s in seconds]
    return f"{statistics.median(every):.2f}s over {len(every)}" if every else "- (none)"


def _errored(name: str, meta: dict[str, object], exc: Exception, seconds: float) -> CaseResult:
    return CaseResult(
        name=name,
        family=str(meta["family"]),
        kind=str(meta["kind"]),
        hangs=bool(meta.get("hangs")),
        status="error",
        fixed=False,
        correct=False,
        tried=0,
        seconds=round(seconds, 2),
        first_plausible_s=None,
        source="",
        reason=f"{type(exc).__name__}: {exc}",
        stages={},
        diff="",
    )


def heldout_passes(case_dir: Path, diff: str) -> bool:
    """Apply `diff` to a fresh copy, add the held-out tests, and run every test (the judge
    `fixwurx bench` uses too: app/local/bench_judge.py)."""
    return judge_patch(
        case_dir / "repo", diff, held_out=case_dir / "heldout", timeout=HELDOUT_TIMEOUT_S
    )


def _totals(results: list[CaseResult]) -> None:
    total = len(results)
    fixed = sum(r.fixed for r in results)
    correct = sum(r.correct for r in results)
    overfit = [r.name for r in results if r.fixed and not r.correct]
    single = [r.first_plausible_s for r in results if r.kind == "single" and r.first_plausible_s]
    median_single = statistics.median(single) if single else float("nan")
    every = [r.first_plausible_s for r in results if r.first_plausible_s is not None]
    median_all = statistics.median(every) if every else float("nan")
    print("-" * 92)
    print(
        f"cases {total}  fixed {fixed} ({_pct(fixed, total)})  correct on held-out {correct} "
        f"({_pct(correct, total)})  plausible but wrong: {', '.join(overfit) or 'none'}"
    )
    print(
        f"median seconds to first verified patch: single-file {median_single:.1f}, "
        f"all {median_all:.1f}; candidates tried {sum(r.tried for r in results)}; "
        f"wall {sum(r.seconds for r in results):.0f}s"
    )
    rejected = median_rejected(r.rejected_s for r in results)
    print(f"median seconds per rejected candidate: {rejected}")


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def _write_json(results: list[CaseResult], path: Path | None) -> None:
    target = path or RESULTS / f"run-{time.strftime('%Y%m%d-%H%M%S')}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = {"cases": [asdict(r) for r in results]}
    target.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"results written to {target}")


if __name__ == "__main__":
    sys.exit(main())
