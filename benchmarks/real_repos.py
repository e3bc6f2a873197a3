"""A survey of unmodified popular repositories: does FixWurx build their environment and run their
suite? (issue 25)

For each repository folder under REPOS (fetched by the developer, never committed), it runs
`fixwurx fix REPO --json` with no issue: FixWurx builds the environment from what the repository
declares and runs the baseline; with nothing failing the run ends "nothing to repair", which is
what a survey wants. The numbers come from the JSON object's `environment` and `baseline`
(app/local/report.py `run_summary`), never from the text for people.

The baseline's seconds and peak memory (the sandbox's cgroup count) are what the defaults
(suite time, memory) must fit: the table's footer compares the healthy suites with them.

It prints one markdown table: repo, build system, Python chosen, environment built, collected,
passed, failed/errors, skipped, working (at least WORKING_SHARE of the collected tests pass or
skip), seconds, peak MiB, and the cause for a repository that does not work.

    python benchmarks/real_repos.py                          # every folder of /work/repos/survey
    python benchmarks/real_repos.py --repo attrs --repo click --limit 900
    python benchmarks/real_repos.py --json out.json

Every environment is built afresh in a cache of the survey's own (`--cache`, emptied first
unless `--keep-cache`), so the seconds include the build. One repository runs at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import defaults  # noqa: E402

#: Where the repositories are looked for by default.
REPOS_DIR = Path("/work/repos/survey")
#: A repository works when at least this share of its collected tests pass or skip (issue 25).
WORKING_SHARE = 0.9
#: Wall-clock seconds one `fixwurx fix` may take before the survey stops it.
REPO_LIMIT_S = 1200.0
#: What the run's reason says when a limit cut the baseline short (app/chain/stages/reproduce.py).
PARTIAL = "among the tests that ran ("
#: build-backend prefixes and the build system they mean.
BACKENDS = (
    ("hatchling", "hatch"),
    ("flit_core", "flit"),
    ("flit", "flit"),
    ("poetry", "poetry"),
    ("pdm", "pdm"),
    ("setuptools", "setuptools"),
    ("maturin", "maturin"),
    ("mesonpy", "meson"),
    ("scikit_build", "scikit-build"),
)


@dataclass
class Row:
    """One repository's line of the table."""

    repo: str
    build_system: str
    python: str = ""
    environment: str = ""
    collected: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    working: bool = False
    seconds: float = 0.0
    suite_seconds: float = 0.0
    peak_mb: int = 0
    cause: str = ""
    status: str = ""
    reason: str = ""


def build_system(repo: Path) -> str:
    """What builds the project, from pyproject's build-backend (read, never run)."""
    backend = ""
    try:
        data = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
        backend = str(data.get("build-system", {}).get("build-backend", ""))
    except (OSError, tomllib.TOMLDecodeError, AttributeError):
        pass
    for prefix, name in BACKENDS:
        if backend.startswith(prefix):
            return name + (" (setup.py)" if (repo / "setup.py").is_file() else "")
    if (repo / "setup.py").is_file():
        return "setuptools (setup.py)"
    if (repo / "pyproject.toml").is_file():
        return "setuptools (pyproject, no backend named)"
    return "none"


def run_fixwurx(
    repo: Path, limit: float, env: dict[str, str], suite_timeout: float, log: Path | None = None
) -> tuple[dict[str, Any] | None, float, str]:
    """`fixwurx fix REPO --json`: (the JSON object or None, seconds, stderr tail); its whole
    progress (stderr) goes to `log` when given, to find a cause."""
    argv = [
        sys.executable,
        "-c",
        "import sys; from app.cli import cli; sys.argv[0] = 'fixwurx'; cli()",
        "fix",
        str(repo),
        "--json",
        "--max-candidates",
        "1",  # a survey wants the baseline; a failing suite is not searched for long
        "--timeout",
        str(suite_timeout),
    ]
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        if log is not None:
            log.write_text(err, encoding="utf-8")
        return None, time.monotonic() - started, f"stopped by the survey after {limit:.0f}s"
    seconds = time.monotonic() - started
    if log is not None:
        log.write_text(err, encoding="utf-8")
    lines = [line for line in out.splitlines() if line.startswith("{")]
    try:
        report = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        report = None
    return report, seconds, "\n".join(err.strip().splitlines()[-8:])


def survey_one(
    repo: Path, limit: float, env: dict[str, str], suite_timeout: float, logs: Path | None = None
) -> Row:
    """One repository's row."""
    row = Row(repo.name, build_system(repo))
    log = logs / f"{repo.name}.log" if logs is not None else None
    report, row.seconds, tail = run_fixwurx(repo, limit, env, suite_timeout, log)
    if report is None:
        row.environment, row.cause = "unknown", tail or "no JSON object"
        return row
    row.status, row.reason = str(report.get("status", "")), str(report.get("reason", ""))
    environment = report.get("environment") or {}
    baseline = report.get("baseline") or {}
    row.python = str(environment.get("python_version", ""))
    notes = "; ".join(environment.get("notes") or [])
    row.environment = ("yes" + (f" ({notes})" if notes else "")) if environment else "no"
    row.collected = int(baseline.get("collected", 0))
    row.passed = int(baseline.get("passed", 0))
    row.failed = int(baseline.get("failed", 0))
    row.errors = int(baseline.get("error", 0))
    row.skipped = int(baseline.get("skipped", 0))
    ok = row.passed + row.skipped
    row.working = row.collected > 0 and ok >= WORKING_SHARE * row.collected
    if PARTIAL in row.reason:  # reproduce.py: a suite cut short by a limit is not measured whole
        row.working = False
    if not environment:
        row.environment = "no"
        row.cause = row.reason
    elif not row.working:
        row.cause = row.reason
    row.suite_seconds = float(baseline.get("seconds", 0.0))
    row.peak_mb = int(baseline.get("peak_mb", 0))
    return row


def table(rows: list[Row]) -> str:
    """The markdown table the issue asks for."""
    head = (
        "| repo | build system | Python | environment built | collected | passed | "
        "failed/errors | skipped | working | seconds | suite s | peak MiB | cause |"
    )
    lines = [head, "|" + "---|" * 13]
    for r in rows:
        cause = r.cause.replace("\n", " ").replace("|", "/")[:300]
        lines.append(
            f"| {r.repo} | {r.build_system} | {r.python or '-'} | {r.environment} | "
            f"{r.collected} | {r.passed} | {r.failed}/{r.errors} | {r.skipped} | "
            f"{'yes' if r.working else 'no'} | {r.seconds:.0f} | {r.suite_seconds:.1f} | "
            f"{r.peak_mb or '-'} | {cause} |"
        )
    working = sum(r.working for r in rows)
    lines.append("")
    lines.append(f"working: {working} of {len(rows)}")
    healthy = [r for r in rows if r.working]
    if healthy:
        lines.append(
            f"healthy suites: slowest {max(r.suite_seconds for r in healthy):.1f}s "
            f"(suite limit {defaults.SUITE_TIMEOUT_S:.0f}s), highest peak "
            f"{max(r.peak_mb for r in healthy)} MiB (memory limit {defaults.SANDBOX_MEMORY_MB} MiB)"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("repos", nargs="?", type=Path, default=REPOS_DIR)
    parser.add_argument("--repo", action="append", default=[], help="only this folder name")
    parser.add_argument("--limit", type=float, default=REPO_LIMIT_S, help="seconds per repo")
    parser.add_argument("--suite-timeout", type=float, default=defaults.SUITE_TIMEOUT_S)
    parser.add_argument("--cache", type=Path, help="environment cache (default: a fresh one)")
    parser.add_argument("--keep-cache", action="store_true", help="reuse what --cache holds")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--logs", type=Path, help="keep each run's progress here, REPO.log")
    args = parser.parse_args()
    if not args.repos.is_dir():
        print(f"real_repos: {args.repos} is not a folder of repositories", file=sys.stderr)
        return 2
    folders = sorted(p for p in args.repos.iterdir() if p.is_dir() and not p.is_symlink())
    if args.repo:
        folders = [p for p in folders if p.name in args.repo]
    work = Path(tempfile.mkdtemp(prefix="real-repos-"))
    cache = args.cache or work / "environments"
    if args.cache and not args.keep_cache:
        shutil.rmtree(cache, ignore_errors=True)
    env = {
        **os.environ,
        "ENVIRONMENT_CACHE_DIR": str(cache),
        "XDG_DATA_HOME": str(work / "data"),  # the survey's runs stay out of the user's history
    }
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for folder in folders:
            print(f"[survey] {folder.name} ...", file=sys.stderr, flush=True)
            row = survey_one(folder, args.limit, env, args.suite_timeout, args.logs)
            print(f"[survey] {folder.name}: {json.dumps(asdict(row))}", file=sys.stderr, flush=True)
            rows.append(row)
    finally:
        if not args.cache:
            shutil.rmtree(work, ignore_errors=True)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
