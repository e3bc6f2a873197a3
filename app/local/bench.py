"""`fixwurx bench [TASKS]`: run `fixwurx fix`'s chain on every task of a task file and measure it.

An operator with model keys wants to know, on their own repositories, how often the chain
resolves a bug, what it costs and how long it takes, before trusting it with their issues. Each
task (app/local/bench_tasks.py) is repaired exactly as `fixwurx fix` repairs a checkout (the
same `app.chain.planner.repair`, the same run history, the same model budget), then, when the
task names judge tests, the verified patch is judged on a fresh copy (app/local/bench_judge.py):
"resolved" means fixed and, when there are judge tests, correct.

With no task file the bundled cases run (benchmarks/cases/tasks.jsonl in the source checkout),
so `fixwurx bench --templates-only` there reproduces `benchmarks/run_repair.py`'s verdicts.
The cost is what the run's model calls cost (the budget ledger's rows for the run, else the
candidates' own accounting when no database records them).
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import click
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

import app
from app import defaults
from app.chain.lineage import RunRecorder
from app.chain.planner import RepairOptions, RepairOutcome, repair
from app.config import Settings
from app.environments import Environment
from app.errors import BadInput, FixwurxError
from app.gitcmd import run_git
from app.local.bench_judge import judge_patch
from app.local.bench_tasks import Task, read_tasks
from app.local.fix import environment_request
from app.local.history import close_cli_run, ensure_schema, fail_cli_run, open_cli_run
from app.repair.search import SearchBudget
from app.testing import testcmd

#: The bundled cases' task file, in a source checkout (the cases are not in the wheel).
BUNDLED_TASKS = Path(app.__file__).resolve().parent.parent / "benchmarks" / "cases" / "tasks.jsonl"
#: Cloning a repository from the network may take a while; a local clone takes a second.
CLONE_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class BenchRequest:
    """What the user asked `fixwurx bench` for."""

    tasks_file: Path | None = None
    templates_only: bool = False
    jobs: int = 1
    json_out: Path | None = None
    timeout: float = defaults.SUITE_TIMEOUT_S
    test_timeout: float = defaults.TEST_TIMEOUT_S
    max_candidates: int = defaults.MAX_CANDIDATES
    agent: bool = False
    no_environment: bool = False
    verbose: bool = False


@dataclass
class TaskResult:
    """One task's verdict, cost and time."""

    id: str
    repo: str
    status: str
    fixed: bool
    judged: bool
    #: None when there were no judge tests (or nothing to judge).
    correct: bool | None
    resolved: bool
    cost_usd: float
    tokens: int
    seconds: float
    reason: str
    run_id: int | None = None
    source: str = ""
    diff: str = ""

    @property
    def verdict(self) -> str:
        """In words: resolved, fixed but not correct, not fixed, or the error."""
        if self.status == "error":
            return "error"
        if not self.fixed:
            return "not fixed"
        if not self.judged:
            return "fixed (not judged)"
        return "resolved" if self.correct else "fixed, not correct"


@dataclass
class Totals:
    """The bench's figures over every task."""

    tasks: int
    resolved: int
    fixed: int
    not_correct: list[str] = field(default_factory=list)
    errors: int = 0
    cost_usd: float = 0.0
    median_seconds: float = 0.0
    total_seconds: float = 0.0
    cost_per_resolved_usd: float | None = None


def default_tasks_file() -> Path:
    """The bundled cases' task file, or BadInput naming where it looked."""
    if not BUNDLED_TASKS.is_file():
        raise BadInput(
            f"no bundled cases here (looked for {BUNDLED_TASKS}; they ship with the source "
            "checkout, not the installed package); pass a task file"
        )
    return BUNDLED_TASKS


def run_bench(request: BenchRequest) -> int:
    """Check the task file, run every task, print the table and totals; 0 once it ran."""
    tasks_file = request.tasks_file or default_tasks_file()
    tasks = read_tasks(tasks_file)  # BadInput (exit 2) before anything runs
    settings = _settings(request.templates_only)
    # Once, before the threads: each run's history row needs the schema (when the database
    # cannot be opened, open_cli_run warns and the runs go unrecorded).
    with contextlib.suppress(SQLAlchemyError, OSError):
        ensure_schema(settings.database_url)
    click.echo(f"tasks: {tasks_file} ({len(tasks)}); models: {_models(settings)}")
    click.echo(f"{'task':28} {'resolved':8} {'verdict':20} {'cost($)':>9} {'seconds':>8}")
    lock = threading.Lock()

    def one(task: Task) -> TaskResult:
        result = run_task(task, request, settings)
        with lock:
            click.echo(_row(result))
        return result

    with ThreadPoolExecutor(max_workers=max(1, request.jobs)) as pool:
        results = list(pool.map(one, tasks))
    totals = summarize(results)
    for line in totals_lines(totals):
        click.echo(line)
    if request.json_out is not None:
        write_json(request.json_out, tasks_file, results, totals)
        click.echo(f"results written to {request.json_out}")
    return 0


def run_task(task: Task, request: BenchRequest, settings: Settings) -> TaskResult:
    """Repair one task as `fixwurx fix` would, then judge the patch; never raises FixwurxError
    (one unusable task must not end the bench)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fixwurx-bench-") as scratch:
        recorder: RunRecorder | None = None
        try:
            checkout = _checkout(task, Path(scratch))
            recorder = open_cli_run(settings, task.repo)
            outcome = repair(checkout, _options(task, request, settings, checkout, recorder))
            if recorder is not None:
                close_cli_run(recorder, outcome.state)
            return _judged(task, checkout, outcome, recorder, settings, started)
        except (FixwurxError, OSError, subprocess.SubprocessError) as exc:
            # A clone that times out or a scratch folder that fails is this task's error too.
            fail_cli_run(recorder, f"{type(exc).__name__}: {exc}"[:500])
            return _errored(task, exc, time.monotonic() - started)


def _options(
    task: Task,
    request: BenchRequest,
    settings: Settings,
    checkout: Path,
    recorder: RunRecorder | None,
) -> RepairOptions:
    build = task.environment and not request.no_environment
    return RepairOptions(
        test_command=task.test_command,
        issue_text=task.issue,
        timeout=task.timeout or request.timeout,
        test_timeout=task.test_timeout or request.test_timeout,
        progress=_progress(task.id, request.verbose),
        recorder=recorder,
        settings=settings,
        budget=SearchBudget(max_candidates=request.max_candidates),
        environment=environment_request(checkout, (), None, build=build),
        agent=request.agent,
    )


def _judged(
    task: Task,
    checkout: Path,
    outcome: RepairOutcome,
    recorder: RunRecorder | None,
    settings: Settings,
    started: float,
) -> TaskResult:
    diff = outcome.bundle.diff if outcome.bundle is not None else ""
    fixed = outcome.status == "fixed" and bool(diff)
    correct: bool | None = None
    if fixed and task.judged:
        correct = judge_patch(
            checkout,
            diff,
            held_out=task.judge_files,
            into=task.judge_into,
            test_ids=task.judge_ids,
            command=_judge_command(task, checkout, outcome),
        )
    cost, tokens = run_cost(settings, recorder, outcome)
    chosen = outcome.state.chosen or {}
    return TaskResult(
        id=task.id,
        repo=task.repo,
        status=outcome.status,
        fixed=fixed,
        judged=task.judged,
        correct=correct,
        resolved=fixed and (correct is True or not task.judged),
        cost_usd=round(cost, 6),
        tokens=tokens,
        seconds=round(time.monotonic() - started, 2),
        reason=outcome.reason,
        run_id=recorder.run_id if recorder is not None else None,
        source=str(chosen.get("source", "")),
        diff=diff,
    )


def _judge_command(task: Task, checkout: Path, outcome: RepairOutcome) -> testcmd.TestCommand:
    """The task's test command on the environment the repair built (when it built one)."""
    command = testcmd.resolve(checkout, task.test_command)
    if outcome.state.environment:
        command = command.in_environment(Environment.from_json(outcome.state.environment))
    return command


def run_cost(
    settings: Settings, recorder: RunRecorder | None, outcome: RepairOutcome
) -> tuple[float, int]:
    """USD and tokens of every model call the run made (localization, patches, explanation,
    reproduction test): the budget ledger's rows for the run; without a recorded run, what
    the candidates themselves were charged."""
    if recorder is not None:
        from app.db import session_scope
        from app.models import LlmCall

        usd = func.coalesce(func.sum(LlmCall.cost_usd), 0.0)
        tokens = func.coalesce(func.sum(LlmCall.input_tokens + LlmCall.output_tokens), 0)
        try:
            with session_scope(settings.database_url) as session:
                row = session.execute(
                    select(usd, tokens).where(LlmCall.run_id == recorder.run_id)
                ).one()
            return float(row[0]), int(row[1])
        except SQLAlchemyError:
            pass
    return outcome.state.cost_usd, outcome.state.tokens


def _checkout(task: Task, scratch: Path) -> Path:
    """The folder to repair: the task's own, or a clone (a URL, or a folder at a commit)."""
    if not task.is_url and task.commit is None:
        return Path(task.repo)
    target = scratch / "checkout"
    cloned = run_git(
        None,
        "clone",
        "--quiet",
        "--no-recurse-submodules",
        "--",
        task.repo,
        str(target),
        timeout=CLONE_TIMEOUT_S,
    )
    if cloned.returncode != 0:
        raise BadInput(f"cannot clone {task.repo}: {_last_line(cloned.stderr)}")
    if task.commit is not None:
        moved = run_git(target, "checkout", "--quiet", "--detach", task.commit, "--")
        if moved.returncode != 0:
            raise BadInput(f"cannot check out {task.commit}: {_last_line(moved.stderr)}")
    return target


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "git failed"


def _errored(task: Task, exc: Exception, seconds: float) -> TaskResult:
    return TaskResult(
        id=task.id,
        repo=task.repo,
        status="error",
        fixed=False,
        judged=task.judged,
        correct=None,
        resolved=False,
        cost_usd=0.0,
        tokens=0,
        seconds=round(seconds, 2),
        reason=f"{type(exc).__name__}: {exc}",
    )


def summarize(results: list[TaskResult]) -> Totals:
    """Resolved count, total cost, median seconds and cost per resolved task."""
    resolved = sum(r.resolved for r in results)
    cost = round(sum(r.cost_usd for r in results), 6)
    seconds = [r.seconds for r in results]
    return Totals(
        tasks=len(results),
        resolved=resolved,
        fixed=sum(r.fixed for r in results),
        not_correct=[r.id for r in results if r.fixed and r.correct is False],
        errors=sum(r.status == "error" for r in results),
        cost_usd=cost,
        median_seconds=round(statistics.median(seconds), 2) if seconds else 0.0,
        total_seconds=round(sum(seconds), 2),
        cost_per_resolved_usd=round(cost / resolved, 6) if resolved else None,
    )


def totals_lines(totals: Totals) -> list[str]:
    """The totals for people."""
    per = (
        f"${totals.cost_per_resolved_usd:.4f}"
        if totals.cost_per_resolved_usd is not None
        else "- (none resolved)"
    )
    return [
        "-" * 78,
        f"resolved {totals.resolved}/{totals.tasks}  fixed {totals.fixed}  "
        f"fixed, not correct: {', '.join(totals.not_correct) or 'none'}  errors {totals.errors}",
        f"cost ${totals.cost_usd:.4f}  cost per resolved task {per}  "
        f"median seconds {totals.median_seconds:.1f}  total seconds {totals.total_seconds:.0f}",
    ]


def write_json(target: Path, tasks_file: Path, results: list[TaskResult], totals: Totals) -> None:
    """The results as one JSON object (the diffs included, for a closer look)."""
    payload = {
        "tasks_file": str(tasks_file),
        "tasks": [{**asdict(r), "verdict": r.verdict} for r in results],
        "totals": asdict(totals),
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def _row(result: TaskResult) -> str:
    """The task's line; an error's reason follows on a line of its own."""
    resolved = "yes" if result.resolved else "no"
    row = (
        f"{result.id:28} {resolved:8} {result.verdict:20} {result.cost_usd:9.4f} "
        f"{result.seconds:8.1f}"
    )
    if result.status == "error":
        row += f"\n    {result.reason[:300]}"
    return row


def _settings(templates_only: bool) -> Settings:
    settings = Settings.from_env()
    if templates_only:  # no provider: no model source, explanation or reproduction test
        settings = settings.replace(openai_api_key="", anthropic_api_key="", local_llm_base_url="")
    return settings


def _models(settings: Settings) -> str:
    from app.agents.llm_services import provider_configured

    if not provider_configured(settings):
        return "templates only (no model provider configured)"
    names = [
        name
        for name, configured in (
            ("openai", settings.openai_api_key),
            ("anthropic", settings.anthropic_api_key),
            ("local", settings.local_llm_base_url),
        )
        if configured
    ]
    return "templates, then " + ", ".join(names)


def _progress(task_id: str, verbose: bool) -> Callable[[str, str], None]:
    started = time.monotonic()

    def show(stage: str, message: str) -> None:
        if verbose:
            elapsed = time.monotonic() - started
            print(f"[{task_id} {elapsed:6.1f}s] {stage:<9} {message}", file=sys.stderr, flush=True)

    return show
