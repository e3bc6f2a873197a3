"""Real bugs from open-source projects: `fixwurx fix` as a new user would run it, then a judge.

For each case of the development set (`../shared/bugs/`: a tarball of the repository at the
buggy commit, with the failing test, and a manifest):

1. unpack it into a temporary directory and run `fixwurx fix REPO --test <given_test_command>`
   with nothing prepared: FixWurx must build the environment from what the repository declares;
2. run it a second time on a fresh copy and stop it when testing starts: the seconds until the
   environment is ready on a second run (the target is under 5 s);
3. judge the patch on the manifest's `judge_tests` in a separately built environment
   (`judge_requirements` on `judge_python`), never the one FixWurx built.

Per case it prints: how the environment was built, whether the failing test was reproduced,
fixed (a plausible patch), correct (the judge tests pass), seconds, and the second run's
seconds to testing; then totals. Nothing here knows about a particular project.

    python benchmarks/run_real_bugs.py                       # every case
    python benchmarks/run_real_bugs.py --case thefuck-1 --timeout 600
    python benchmarks/run_real_bugs.py --bugs DIR --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from run_repair import median_rejected, rejected_seconds  # noqa: E402

from app.environments import Environment  # noqa: E402
from app.environments import cache as env_cache  # noqa: E402
from app.environments.build import Builder  # noqa: E402
from app.environments.detect import Declared  # noqa: E402
from app.environments.interpreters import candidates  # noqa: E402
from app.errors import PatchError  # noqa: E402
from app.patches import apply_diff  # noqa: E402
from app.testing.testcmd import TestCommand  # noqa: E402
from app.testing.testrun import run_tests  # noqa: E402

#: Where the development set is looked for, first match wins (or --bugs / FIXWURX_BUGS_DIR).
BUG_DIRS = (ROOT.parent / "shared" / "bugs", ROOT.parents[1] / "shared" / "bugs")
#: A progress line of `fixwurx fix`: "[  12.3s] reproduce running `...`".
_PROGRESS = re.compile(r"^\[\s*([0-9.]+)s\]\s+(\w+)\s")
#: Seconds the judge's test run may take.
JUDGE_TIMEOUT_S = 300.0


@dataclass
class CaseResult:
    """One case's verdicts, as printed and written to --json."""

    case: str
    environment: str = ""
    built: bool = False
    reproduced: bool = False
    fixed: bool = False
    correct: bool = False
    seconds: float = 0.0
    second_run_ready_s: float | None = None
    reason: str = ""
    rejected_s: list[float] = field(default_factory=list)


def main() -> int:
    args = _arguments()
    bugs = _bugs_dir(args.bugs)
    manifests = sorted(bugs.glob("*.json"))
    if args.case:
        manifests = [m for m in manifests if m.stem in set(args.case)]
    if not manifests:
        print(f"no cases in {bugs}", file=sys.stderr)
        return 2
    cache = Path(args.env_cache or tempfile.mkdtemp(prefix="fixwurx-realbugs-envs-"))
    judge_cache = cache / "judge"
    print(f"environment cache: {cache}  (cold: nothing built before this run)")
    results = []
    for manifest in manifests:
        case = json.loads(manifest.read_text(encoding="utf-8"))
        result = run_case(case, bugs, cache, judge_cache, args)
        _print_row(result)
        results.append(result)
    _print_totals(results)
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in results], indent=2), "utf-8")
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bugs", help="the folder of cases (default: ../shared/bugs)")
    parser.add_argument("--case", action="append", help="run only this case (repeatable)")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per fixwurx run")
    parser.add_argument("--env-cache", help="environment cache to use (default: a new one)")
    parser.add_argument("--no-second-run", action="store_true", help="skip the second run")
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument("--logs", help="write each case's `fixwurx fix` output to DIR/<id>.log")
    return parser.parse_args()


def _bugs_dir(option: str | None) -> Path:
    chosen = option or os.environ.get("FIXWURX_BUGS_DIR")
    if chosen:
        return Path(chosen)
    return next((d for d in BUG_DIRS if d.is_dir()), BUG_DIRS[0])


def run_case(
    case: dict[str, Any], bugs: Path, cache: Path, judge_cache: Path, args: argparse.Namespace
) -> CaseResult:
    """Fix, time a second run, judge."""
    result = CaseResult(case["id"])
    with tempfile.TemporaryDirectory(prefix=f"fixwurx-{case['id']}-") as tmp:
        work = Path(tmp)
        repo = _unpack(bugs / case["repository"], work / "run")
        state_file, bundle_file = work / "state.json", work / "bundle.json"
        started = time.monotonic()
        code, output = _fixwurx(repo, case, cache, work, args.timeout, state_file, bundle_file)
        result.seconds = round(time.monotonic() - started, 1)
        if args.logs:  # for diagnosis: the ranking, every candidate and its verdict
            Path(args.logs).mkdir(parents=True, exist_ok=True)
            (Path(args.logs) / f"{case['id']}.log").write_text(output, encoding="utf-8")
        state = _load(state_file)
        environment = state.get("environment") or {}
        result.environment = str(environment.get("how", "")) or "(none)"
        result.built = bool(environment)
        reproducing = state.get("reproducing", [])
        result.reproduced = all(_reproduced(t, reproducing) for t in case["failing_tests"])
        result.fixed = code == 0 and bundle_file.is_file()
        result.reason = str(state.get("reason") or (output.strip().splitlines() or [""])[-1])
        result.rejected_s = rejected_seconds(state.get("candidates", []))
        if not args.no_second_run and result.built:
            again = _unpack(bugs / case["repository"], work / "again")
            result.second_run_ready_s = _seconds_to_testing(again, case, cache, work)
        if result.fixed:
            diff = json.loads(bundle_file.read_text(encoding="utf-8"))["diff"]
            judged = _unpack(bugs / case["repository"], work / "judge")
            result.correct = judge(judged, diff, case, judge_cache)
    return result


def _unpack(tarball: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(target, filter="data")
    entries = [p for p in target.iterdir()]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else target


def _cli_env(cache: Path, work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["ENVIRONMENT_CACHE_DIR"] = str(cache)
    env["XDG_DATA_HOME"] = str(work / "data")  # run history stays out of the user's
    return env


def _fixwurx(
    repo: Path,
    case: dict[str, Any],
    cache: Path,
    work: Path,
    timeout: float,
    state_file: Path,
    bundle_file: Path,
) -> tuple[int, str]:
    argv = [sys.executable, "-m", "app", "fix", str(repo), "--test", case["given_test_command"]]
    argv += ["--state-out", str(state_file), "--bundle-out", str(bundle_file)]
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=_cli_env(cache, work),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return 124, f"fixwurx fix did not finish within {timeout:.0f}s"
    return done.returncode, done.stdout + done.stderr


def _seconds_to_testing(repo: Path, case: dict[str, Any], cache: Path, work: Path) -> float | None:
    """Run `fixwurx fix` again and stop it when the reproduce stage starts its tests."""
    argv = [sys.executable, "-m", "app", "fix", str(repo), "--test", case["given_test_command"]]
    started = time.monotonic()
    process = subprocess.Popen(
        argv,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_cli_env(cache, work),
    )
    ready = None
    assert process.stderr is not None
    for line in process.stderr:
        match = _PROGRESS.match(line)
        if match and match.group(2) == "reproduce":
            ready = round(time.monotonic() - started, 2)
            break
    process.send_signal(signal.SIGINT)  # KeyboardInterrupt: the work copy is cleaned up
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return ready


def _reproduced(test: str, reproducing: list[str]) -> bool:
    return any(r == test or r.startswith(test + "[") for r in reproducing)


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def judge(repo: Path, diff: str, case: dict[str, Any], judge_cache: Path) -> bool:
    """Apply `diff` and run the judge tests in the manifest's own environment."""
    try:  # app.patches refuses link changes, as the App would
        apply_diff(diff, repo)
    except PatchError:
        return False
    environment = judge_environment(repo, case, judge_cache)
    command = TestCommand((environment.python, "-m", "pytest", "-q"), True, environment)
    run = run_tests(repo, command, timeout=JUDGE_TIMEOUT_S, test_ids=tuple(case["judge_tests"]))
    outcomes = {o.test_id: o.outcome for o in run.outcomes}
    return all(outcomes.get(t) == "passed" for t in case["judge_tests"])


def judge_environment(repo: Path, case: dict[str, Any], judge_cache: Path) -> Environment:
    """`judge_requirements` on `judge_python`, built once per distinct pair."""
    pool = candidates(case["judge_python"], None)
    if not pool:
        raise SystemExit(f"judge: Python {case['judge_python']} is not installed")
    interpreter = pool[0]
    requirements = tuple(case["judge_requirements"])
    key = env_cache.key_for("judge", interpreter.executable, *requirements)
    judge_cache.mkdir(parents=True, exist_ok=True)
    with env_cache.locked(judge_cache, key):
        if env_cache.ready(judge_cache, key) is None:
            env_cache.discard(judge_cache, key)
            declared = Declared(("judge_requirements",), requirements)
            folder = env_cache.env_dir(judge_cache, key)
            Builder(folder, interpreter, env_cache.uv_cache(judge_cache, ""), 900.0).build(
                repo, declared
            )
            env_cache.mark_ready(judge_cache, key, {"python_version": interpreter.version_text})
    return Environment(
        venv=env_cache.env_dir(judge_cache, key) / "venv",
        python_version=interpreter.version_text,
        interpreter_prefix=Path(interpreter.prefix),
        sources=("judge_requirements",),
    )


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _print_row(r: CaseResult) -> None:
    second = f"{r.second_run_ready_s:.1f}s" if r.second_run_ready_s is not None else "-"
    print(
        f"{r.case:<12} env {_yes(r.built):<3} reproduced {_yes(r.reproduced):<3} "
        f"fixed {_yes(r.fixed):<3} correct {_yes(r.correct):<3} {r.seconds:7.1f}s  "
        f"second run ready {second}",
        flush=True,
    )
    print(f"             environment: {r.environment}")
    if not r.fixed and r.reason:
        print(f"             why not fixed: {r.reason[:200]}")


def _print_totals(results: list[CaseResult]) -> None:
    n = len(results)

    def share(count: int) -> str:
        return f"{count}/{n} ({100 * count / n:.0f}%)"

    seconds = [r.seconds for r in results]
    ready = [r.second_run_ready_s for r in results if r.second_run_ready_s is not None]
    print()
    print(f"environment built     {share(sum(r.built for r in results))}")
    print(f"failing test reproduced {share(sum(r.reproduced for r in results))}")
    print(f"fixed (plausible)     {share(sum(r.fixed for r in results))}")
    print(f"correct               {share(sum(r.correct for r in results))}")
    print(f"median seconds        {statistics.median(seconds):.1f}")
    print(f"median seconds per rejected candidate {median_rejected(r.rejected_s for r in results)}")
    if ready:
        print(
            f"second run: environment ready (testing starts) in median "
            f"{statistics.median(ready):.2f}s, max {max(ready):.2f}s"
        )


if __name__ == "__main__":
    sys.exit(main())
