"""Reproduce (the observer): run the suite, find the failing tests, set flaky ones aside.

An issue text can narrow the failure to named test ids, or supply a Python snippet that raises;
the snippet becomes a test file in the work copy and ships with the fix. When neither
reproduces and a model is configured, the model writes the test (a few tries); when none of its
tests fails for the issue's reason, the run ends "could not reproduce" and no fix is guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from app import defaults, workfiles
from app.chain.issue_text import REPRO_TEST_NAME, parse_issue
from app.chain.stages.context import StageContext
from app.chain.state import RunState
from app.environments import Environment
from app.errors import BadInput
from app.repair.candidates import RepairContext
from app.testing.collection import repro_location
from app.testing.group_signals import preference
from app.testing.groups import FailureGroup, choose_target, group_failures
from app.testing.repro_match import Attempt, could_not_reproduce, judge
from app.testing.results import SANDBOX_KILL_MARK, TestOutcome, TestRun, outcome_to_json
from app.testing.testrun import cut_short, limit_from_durations, never_started, run_tests

#: Failures the sandbox causes rather than the code: no network, no service to connect to, no
#: home directory.
#: At baseline such a test is a pre-existing failure, neither a target nor a regression,
#: unless the trigger names it.
ENVIRONMENTAL_FAILURE = re.compile(
    r"ConnectionRefusedError|ConnectionError|gaierror|Temporary failure in name resolution"
    r"|Name or service not known|Network is unreachable|\[Errno (101|111|113)\]"
    r"|could not connect to server|Connection refused|NewConnectionError|MaxRetryError"
    # The sandbox's uid has no passwd entry: `~` cannot expand once a test clears HOME (Python
    # 3.12+ says so; older ones let pwd's KeyError through).
    r"|Could not determine home directory|getpwuid\(\): uid not found"
)


@dataclass(frozen=True)
class ReproduceResult:
    """The baseline run and which of its failures are real reproductions."""

    baseline: TestRun
    reproducing: tuple[str, ...]
    flaky: tuple[str, ...] = ()
    added_files: dict[str, str] = field(default_factory=dict)
    problem: str = ""
    pre_existing: tuple[str, ...] = ()
    #: Baseline failures that are not the target, grouped, with their reasons.
    left_failing: tuple[FailureGroup, ...] = ()
    #: Model-written reproduction tests that were not kept, and why.
    attempts: tuple[Attempt, ...] = ()

    def apply(self, state: RunState) -> None:
        """Record the result in the run state; a problem ends the run as not fixed."""
        state.baseline = [outcome_to_json(o) for o in self.baseline.outcomes]
        state.baseline_duration = self.baseline.duration
        state.reproducing = list(self.reproducing)
        state.flaky = list(self.flaky)
        state.added_files = dict(self.added_files)
        state.pre_existing = list(self.pre_existing)
        state.left_failing = [g.to_json() for g in self.left_failing]
        state.reproduction_attempts = [a.to_json() for a in self.attempts]
        if self.problem:
            state.finish("not_fixed", self.problem)


def reproduce(state: RunState, ctx: StageContext) -> ReproduceResult:
    """Run the suite once, then rerun its failures to tell real ones from flaky ones."""
    issue = parse_issue(state.issue_text)
    added: dict[str, str] = {}
    repro_id = ""
    if issue.snippet:
        repro_file = repro_location(ctx.root)
        repro_id = f"{repro_file}::{REPRO_TEST_NAME}"
        added[repro_file] = issue.repro_test_source()
        # Ours to write: a link the repository committed there is replaced, never written through.
        workfiles.write_text(ctx.root, repro_file, added[repro_file], replace_link=True)
        ctx.progress("reproduce", f"wrote the issue's snippet as {repro_id}")
    ctx.progress("reproduce", f"running `{ctx.command.display()}`")
    baseline = run_tests(
        ctx.root, ctx.command, timeout=ctx.suite_timeout, per_test_timeout=ctx.per_test_timeout
    )
    # Recorded now, not only by `apply`: a baseline that ends the run as bad input (tests that
    # do not import) is still what `--json` reports as counts (app/local/report.py).
    state.baseline = [outcome_to_json(o) for o in baseline.outcomes]
    state.baseline_duration = baseline.duration
    state.baseline_peak_mb = baseline.peak_mb
    _reject_unusable(baseline, ctx)
    short = cut_short(baseline, ctx.suite_timeout)
    if baseline.timed_out:  # the tests that finished still count; the user learns the rest
        ctx.progress("reproduce", suite_limit_line(baseline, ctx.suite_timeout))
    elif short:
        ctx.progress("reproduce", f"the baseline is partial: {short}")
    if repro_id:
        baseline = _with_repro(baseline, repro_id, ctx)
    failing = _focus(baseline.failing, issue.test_ids, repro_id or None)
    failing, pre_existing = _set_aside_environmental(failing, bool(issue.test_ids))
    focused = bool(issue.test_ids or issue.snippet)
    failing, left = _target(
        baseline, failing, focused, ctx.command.environment, issue_text=state.issue_text
    )
    if pre_existing:
        ctx.progress(
            "reproduce",
            f"pre-existing (the sandbox has no network, service or home directory), not targets: "
            f"{', '.join(pre_existing[:5])}",
        )
    for group in (g for g in left if g.kind != "environment"):  # said just above
        ctx.progress("reproduce", f"left failing, not a target: {_group_line(group)}")
    ctx.progress("reproduce", _summary(baseline, failing))
    attempts: tuple[Attempt, ...] = ()
    if not failing and state.issue_text.strip() and not issue.test_ids and ctx.models is not None:
        written, attempts = _model_reproduction(state, ctx)
        if written is not None:
            path, source, outcomes = written
            added[path] = source
            baseline = replace(baseline, outcomes=baseline.outcomes + outcomes)
            failing = tuple(o for o in outcomes if not o.ok)
    if not failing:
        # Nothing reproduces: the run ends here, before any patch; a fix is never guessed.
        problem = (
            could_not_reproduce(attempts)
            if attempts
            else _nothing_failing(issue.test_ids, issue.snippet, left)
        )
        if short and not attempts and SUITE_LIMIT_SETTING not in problem:
            problem += f" among the tests that ran ({short})"
        if pre_existing:
            needs = "a network, a service or a home directory"
            problem += f" ({len(pre_existing)} pre-existing failures need {needs})"
        return ReproduceResult(
            baseline, (), (), added, problem, pre_existing, left, attempts=attempts
        )
    flaky = _flaky(ctx, [o for o in failing if not o.hung])  # a rerun of a hang proves nothing
    reproducing = tuple(o.test_id for o in failing if o.test_id not in flaky)
    if flaky:
        ctx.progress("reproduce", f"flaky, not used as evidence: {', '.join(flaky)}")
    problem = (
        "" if reproducing else "every failing test is flaky: there is no stable failure to fix"
    )
    return ReproduceResult(
        baseline, reproducing, flaky, added, problem, pre_existing, left, attempts=attempts
    )


def _target(
    baseline: TestRun,
    failing: tuple[TestOutcome, ...],
    focused: bool,
    environment: Environment | None = None,
    *,
    issue_text: str = "",
) -> tuple[tuple[TestOutcome, ...], tuple[FailureGroup, ...]]:
    """The failures a repair targets, and the other baseline failures grouped by cause.

    A named test or the issue's snippet is the target. Otherwise the failures are grouped by
    where and why they fail and one group of ordinary failures is the target: the one whose
    tests or frames the issue text names, else one that is not all environment-like errors,
    else the largest (app/testing/group_signals.py). A test that hangs, a module that does not
    import, a test that needs a network never is. A suite whose only failures are modules that
    do not import has an environment problem, not a bug.
    """
    groups = group_failures(baseline.failing, _environmental)
    if focused:
        chosen = {o.test_id for o in failing}
        return failing, _without(groups, chosen)
    prefer = preference(baseline.by_id(), issue_text)
    target, left = choose_target(group_failures(failing, _environmental), prefer)
    if target is None:
        _reject_uncollected(left, environment)
        return (), _without(groups, set())
    chosen = set(target.test_ids)
    return tuple(o for o in failing if o.test_id in chosen), _without(groups, chosen)


def _without(groups: tuple[FailureGroup, ...], chosen: set[str]) -> tuple[FailureGroup, ...]:
    kept = (replace(g, test_ids=tuple(t for t in g.test_ids if t not in chosen)) for g in groups)
    return tuple(g for g in kept if g.test_ids)


def _reject_uncollected(
    groups: tuple[FailureGroup, ...], environment: Environment | None = None
) -> None:
    """Tests that do not import are an environment error (exit 2), never a repair target; the
    setup learned from the repository's CI, when it was tried, is named (issue 25)."""
    uncollected = [g for g in groups if g.kind == "collection"]
    if not uncollected:
        return
    where = "; ".join(f"{g.test_ids[0]}: {g.cause}" for g in uncollected[:3])
    notes = environment.notes if environment is not None else ()
    tried = "".join(f" Tried: {n}." for n in notes if n.startswith("setup taken from"))
    raise BadInput(
        f"the tests do not import, so there is nothing to repair yet ({where}).{tried} "
        "Declare what they import in the project's dependencies, or add a setup step "
        "(--setup CMD, or `setup:` in .github/fixwurx.yml)"
    )


def _group_line(group: FailureGroup) -> str:
    shown = ", ".join(group.test_ids[:3]) + (" ..." if len(group.test_ids) > 3 else "")
    return f"{shown} {group.reason}"


def _set_aside_environmental(
    failing: tuple[TestOutcome, ...], named: bool
) -> tuple[tuple[TestOutcome, ...], tuple[str, ...]]:
    """Split off failures caused by the sandbox (network, services); a named test stays."""
    if named:
        return failing, ()
    kept = tuple(o for o in failing if not _environmental(o))
    return kept, tuple(o.test_id for o in failing if _environmental(o))


def _environmental(outcome: TestOutcome) -> bool:
    return bool(ENVIRONMENTAL_FAILURE.search(f"{outcome.message}\n{outcome.traceback}"))


def _model_reproduction(
    state: RunState, ctx: StageContext
) -> tuple[tuple[str, str, tuple[TestOutcome, ...]] | None, tuple[Attempt, ...]]:
    """Ask the model for a test that shows the issue; keep the first that fails for the issue's
    reason (app/testing/repro_match.py), and say why each other try was not kept.

    A rejected test is removed from the work copy and shown to the model, with what it printed,
    before the next try; there are at most `defaults.REPRO_ATTEMPTS` tries, fewer when the model
    cannot be asked again (no budget left, the provider fails).
    """
    assert ctx.models is not None
    context = RepairContext(ctx.root, (), (), ctx.command.argv, state.issue_text)
    attempts: list[Attempt] = []
    for _ in range(defaults.REPRO_ATTEMPTS):
        answer = ctx.models.reproduction_test(context, tuple(attempts))
        if answer.edit is None:
            ctx.progress("reproduce", answer.why)
            attempts.append(Attempt("", answer.why))
            if not answer.retry:
                break
            continue
        edit = answer.edit
        try:
            workfiles.write_text(ctx.root, edit.path, edit.after, parents=True)
        except workfiles.UnsafeWorkPath as exc:
            ctx.progress("reproduce", f"the model's test was not written: {exc}")
            attempts.append(Attempt(edit.path, f"it could not be written: {exc}"))
            continue
        run = run_tests(
            ctx.root,
            ctx.command,
            timeout=ctx.suite_timeout,
            test_ids=(edit.path,),
            per_test_timeout=ctx.per_test_timeout,
        )
        verdict = judge(run.outcomes, state.issue_text, _environmental)
        if verdict.shows:
            ctx.progress("reproduce", f"the model's test {edit.path} fails as the issue describes")
            return (edit.path, edit.after, run.outcomes), tuple(attempts)
        workfiles.remove(ctx.root, edit.path)
        ctx.progress("reproduce", f"the model's test {edit.path} was not kept: {verdict.why}")
        attempts.append(Attempt(edit.path, verdict.why, verdict.observed))
    return None, tuple(attempts)


def _with_repro(baseline: TestRun, repro_id: str, ctx: StageContext) -> TestRun:
    """The baseline with the reproduction test in it: run by id when the suite skipped it.

    A test the suite does not collect is still run by the canary (by id), so it can judge the
    fix; one that does not run even by id is an error, never "the snippet runs without error".
    """
    if repro_id in baseline.by_id() or not ctx.command.is_pytest:
        return baseline
    alone = run_tests(
        ctx.root,
        ctx.command,
        timeout=ctx.suite_timeout,
        test_ids=(repro_id,),
        per_test_timeout=ctx.per_test_timeout,
    )
    found = tuple(o for o in alone.outcomes if o.test_id == repro_id)
    if not found:
        tail = alone.output.strip().splitlines()[-1:] or ["no output"]
        raise BadInput(
            f"the issue's snippet, written as {repro_id.split('::')[0]}, was not collected by "
            f"`{ctx.command.display()}` ({tail[0][:300]}); name a failing test in the issue instead"
        )
    return replace(baseline, outcomes=baseline.outcomes + found)


def _reject_unusable(baseline: TestRun, ctx: StageContext) -> None:
    if baseline.stop_reason and not baseline.outcomes:
        # A limit, not the code: say which one and the setting that raises it (issue 25).
        raise BadInput(
            f"the test command `{ctx.command.display()}` was stopped: {baseline.stop_reason}"
        )
    finished = [o for o in baseline.outcomes if not _unfinished(o)]
    if baseline.timed_out and (not finished or not ctx.command.is_pytest):
        # A command that never ends says nothing about the code: an error, not a failing test.
        raise BadInput(
            f"the test command `{ctx.command.display()}` did not finish within "
            f"{ctx.suite_timeout:.0f}s: raise the limit with --timeout (or `timeout_seconds:` in "
            ".github/fixwurx.yml), or narrow the command with --test"
        )
    if ctx.command.is_pytest and not baseline.outcomes:
        if baseline.returncode == 5:
            raise BadInput(f"no tests found in {ctx.root.name}: pytest collected nothing")
        tail = baseline.output.strip().splitlines()[-1:] or ["no output"]
        raise BadInput(f"the test command produced no test results: {tail[0]}")


#: How a user raises the limit of one whole suite run, locally and in the App.
SUITE_LIMIT_SETTING = "--timeout (or `timeout_seconds:` in .github/fixwurx.yml)"


def suite_limit_line(baseline: TestRun, limit: float) -> str:
    """What a baseline killed at the suite limit still tells: the tests that finished, the
    ones still running, how many never started, and the setting that raises the limit."""
    finished = [o for o in baseline.outcomes if not _unfinished(o)]
    running = [o.test_id for o in baseline.outcomes if _unfinished(o)]
    passed = sum(1 for o in finished if o.outcome == "passed")
    failed = sum(1 for o in finished if not o.ok)
    line = (
        f"the suite hit its time limit of {limit:.0f}s: {len(finished)} tests finished "
        f"({passed} passed, {failed} failed)"
    )
    if running:
        line += f"; unfinished: {', '.join(running[:3])}" + (" ..." if len(running) > 3 else "")
    if waiting := never_started(baseline):
        line += f"; {waiting} never started"
    return f"{line}. Raise the limit with {SUITE_LIMIT_SETTING}"


def _unfinished(outcome: TestOutcome) -> bool:
    return outcome.message.startswith(SANDBOX_KILL_MARK)


def _focus(
    failing: tuple[TestOutcome, ...], named: tuple[str, ...], repro_id: str | None
) -> tuple[TestOutcome, ...]:
    if repro_id:
        return tuple(o for o in failing if o.test_id == repro_id)
    if named:
        return tuple(o for o in failing if any(o.test_id.startswith(n) for n in named))
    return failing


def _summary(baseline: TestRun, failing: tuple[TestOutcome, ...]) -> str:
    total, failed = len(baseline.outcomes), len(baseline.failing)
    line = f"{total} tests ran in {baseline.duration:.1f}s; {failed} failing"
    return line if failed == len(failing) else f"{line}, {len(failing)} of them the target"


def _nothing_failing(
    named: tuple[str, ...], snippet: str, left: tuple[FailureGroup, ...] = ()
) -> str:
    if any(g.kind == "unfinished" for g in left) and not named and not snippet:
        return (
            "no test that finished fails, and the suite hit its time limit before the others "
            f"finished: raise the limit with {SUITE_LIMIT_SETTING}, or run fewer tests with --test"
        )
    hangs = [t for g in left if g.kind == "hang" for t in g.test_ids]
    if hangs and not named and not snippet:
        return (
            f"the only failing tests hang ({', '.join(hangs[:3])}): a hang is repaired only when "
            "the issue names it (--issue with the test id)"
        )
    if snippet:
        return "the issue's snippet runs without error: nothing to repair"
    if named:
        return f"the tests named in the issue pass: {', '.join(named)}"
    return "no failing test to repair"


def _flaky(ctx: StageContext, failing: list[TestOutcome]) -> tuple[str, ...]:
    """Tests that pass on any rerun are flaky. Reruns get a few times the failure's own time."""
    test_ids = [o.test_id for o in failing]
    per_test = limit_from_durations((o.duration for o in failing), 2.0, ctx.per_test_timeout)
    flaky: set[str] = set()
    for _ in range(defaults.FLAKY_RERUNS):
        remaining = [t for t in test_ids if t not in flaky]
        if not remaining:
            break
        rerun = run_tests(
            ctx.root,
            ctx.command,
            timeout=ctx.suite_timeout,
            test_ids=remaining,
            per_test_timeout=per_test,
        )
        flaky.update(o.test_id for o in rerun.outcomes if o.outcome == "passed")
    return tuple(t for t in test_ids if t in flaky)
