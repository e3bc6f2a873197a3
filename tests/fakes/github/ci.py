"""The fake GitHub's CI: GitHub Actions and the Checks API, simulated per repository.

FixWurx's second verifier is the repository's own CI, so its tests need a GitHub whose CI
really runs the code at the pushed commit and reports back the way GitHub does. This simulator
is that CI. It lives at `fake.ci` on every `FakeGitHub` and does nothing for a repository until
a test configures it.

Two ways to give a repository CI. `fake.ci.configure("octo/calc")` without `workflows` runs
what the repository committed: every `.github/workflows/*.yml` at the pushed (or dispatched)
commit, each job's `run:` steps in order with `env:`, `inputs`, `working-directory`, `if:`
(`success()`, `failure()`, `always()`) and `actions/upload-artifact` paths; other actions are
logged as skipped, and syntax or expressions it does not simulate fail the test
(workflow_file.py says what is supported). A dispatch naming an input the file does not declare
gets GitHub's 422 "Unexpected inputs provided". The older form below, a `Workflow` with one
shell command, is kept for the fake's own unit tests.

Test-side API (the other suites code against this):

    from tests.fakes.github.ci import Workflow
    fake.ci.configure("octo/calc", workflows=[
        Workflow(name="CI", file="ci.yml", command="python -m pytest -q --junitxml=junit.xml",
                 events=("push",), junit_path="junit.xml"),
        Workflow(name="FixWurx canary", file="fixwurx-canary.yml",
                 events=("workflow_dispatch",), command="python -m pytest -q $INPUT_TESTS",
                 junit_path="junit.xml"),
    ], env={"CI": "true"})
    fake.ci.set_mode("octo/calc", "run")          # or "action_required" or "silent"
    fake.ci.set_run_details("octo/calc", False)   # dispatch rejects return_run_details (422)
    fake.ci.wait_idle(timeout=60)                 # every started job has finished
    fake.ci.take_deliveries()                     # [(event, payload), ...], oldest first
    fake.ci.runs("octo/calc")                     # the WorkflowRun records, oldest first
    fake.ci.check_runs("octo/calc", sha)          # CheckRun records on a commit (App + Actions)
    fake.ci.trigger_push("octo/calc", "main")     # CI on a branch's tip without a new commit
    fake.ci.rerequest_from_ui(check_run_id, by="alice")  # a person clicks "Re-run"
    fake.ci.approve(run_id)                       # a maintainer approves a waiting run
    fake.merge_pull("octo/calc", 3, by="alice")   # real merge commit on the default branch
    tests.fakes.github.deliver.pump(fake, client, secret)  # sign and send every queued delivery

Elsewhere on the fake: `fake.mint_token(installation_id)` (an installation token without the
App's auth code), `fake.add_label(full_name, number, label)`, `fake.graphql_url`
(`{base}/api/graphql`) and `fake.graphql.calls` (the GraphQL operations run; see
graphql_api.py).

An end-to-end test loops until the conversation between the App and CI is over, e.g.
`while pump(fake, web, secret): work(redis_conn)` (pump waits for running jobs first and
returns [] once nothing is queued; a "silent" repository never queues anything).

Triggers: a push of a branch over git HTTP (FixWurx's pushes: the sender is the App's bot
user `fixwurx[bot]`), `fake.commit_files(..., pusher="alice")`, `fake.merge_pull` (pushes the
default branch) and `POST .../actions/workflows/{id}/dispatches` start every configured
workflow whose `events` hold `push` or `workflow_dispatch`; opening a pull request (REST or
`revertPullRequest`) and pushing to the head of an open one start its `pull_request`
workflows (event `pull_request`, run name = the pull's title; GitHub runs them on a test merge
commit, the fake on the head commit; `branches` then filters the base branch). Each started workflow run gets its
own check suite and, once running, one job with one check run (the job's name), owned by the
"GitHub Actions" app (id 15368). The job's command runs in a background thread in a fresh
export of the commit, with the workflow env, GitHub's usual `GITHUB_*` variables and, for a
dispatch, each input as `INPUT_<NAME>`; the test's Python is first on PATH, nothing else of the
test process's environment leaks in. `CI` is set only when the test's env says so. The exit
status gives the conclusion (success / failure; a timeout fails the job), the output becomes the
job log (the failing step is "Run tests", and the log carries GitHub's
`##[error]Process completed with exit code N.` line), and `junit_path`, when the command
wrote it, is zipped as the artifact `junit`.

A flaky test: the job env has `GITHUB_RUN_ATTEMPT`, so a command like
`test "$GITHUB_RUN_ATTEMPT" != 1` fails first and passes on a rerun. The App's own check runs'
annotations are in `fake.ci.state.check_runs[id].output["annotations"]` (and served by
`GET .../check-runs/{id}/annotations`).

A dispatch's run name (`display_title`) is `"<workflow name> <inputs['nonce']>"` when a
`nonce` input is given, else the workflow name, so a client whose server rejected
`return_run_details` can find its run; a push's is the commit's subject, as on GitHub.

On every push GitHub also makes the App's own check suite for the new head (status `queued`,
no runs until the App creates one; it stays queued if the App never does, as on GitHub) and
sends `check_suite.requested` with the App as `app`; `configure(..., app_suites=False)` turns
that off. A workflow's `branches` (fnmatch patterns, like `on.push.branches`) limits the
branches its push trigger answers; None means every branch.

Deliveries queued (validated against @octokit/webhooks-schemas): `check_suite.requested` (the
App's suite) on a push; `workflow_run.requested` when a run starts; `check_run.completed`,
`check_suite.completed` and `workflow_run.completed` when it ends. `pull_request.closed` (merged) from `merge_pull`. Check runs the App creates or updates
through the Checks API queue `check_run.created` / `check_run.completed` and, when its suite is
all done, `check_suite.completed`, all with the App itself as `app` (so FixWurx must ignore its
own). `pull_requests` lists the open pull requests whose head is the run's branch.

Modes: "run" (default) runs the command; "action_required" runs nothing and completes the
workflow run and its suite with conclusion `action_required` (GitHub's wait for approval);
"silent" leaves the run queued forever and delivers nothing; "conclude" (with
`set_mode(name, "conclude", conclusion="cancelled")`) runs nothing and completes every run and
its suite with that conclusion (`None`: completed with no conclusion), as a cancelled,
skipped, stale or timed-out run reaches the App. Reruns (`rerun`,
`rerun-failed-jobs`, re-requesting an Actions check run) run the command again as a new attempt.
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tests.fakes.github import events, runner, workflow_file
from tests.fakes.github.appchecks import AppChecks
from tests.fakes.github.cimodels import (
    Artifact,
    CheckRun,
    CheckSuite,
    Job,
    Owner,
    Workflow,
    WorkflowRun,
    timestamp,
)

if TYPE_CHECKING:
    from tests.fakes.github.server import FakeGitHub, FakeRepo

__all__ = ["CiSimulator", "Mode", "Workflow"]

Mode = Literal["run", "action_required", "silent", "conclude"]
MODES = ("run", "action_required", "silent", "conclude")


#: A run's conclusion the check suite shows differently (a workflow that could not start
#: fails its suite; the run itself says `startup_failure`).
SUITE_CONCLUSION: dict[str | None, str | None] = {"startup_failure": "failure"}
#: Conclusions @octokit/webhooks-schemas does not allow in `check_suite.completed` /
#: `workflow_run.completed` (the schemas lag GitHub): that one delivery is left out, the other
#: still tells the App, and REST answers every field.
NO_SUITE_EVENT = frozenset({"skipped"})
NO_RUN_EVENT = frozenset({None, "startup_failure"})


@dataclass
class RepoCi:
    """One repository's CI configuration."""

    workflows: list[Workflow]
    env: dict[str, str]
    #: The workflows are the repository's committed `.github/workflows/*.yml` files, read at
    #: each pushed or dispatched commit (`workflows` is then empty).
    from_files: bool = False
    #: Workflow id by file path (GitHub keeps one id per path).
    file_ids: dict[str, int] = field(default_factory=dict)
    mode: Mode = "run"
    #: What every run ends with in "conclude" mode (None: completed without a conclusion).
    conclusion: str | None = None
    run_details: bool = True
    #: GitHub makes an (empty, queued) check suite for the App on every push and sends it
    #: `check_suite.requested`; the App's own check runs then join that suite.
    app_suites: bool = True
    next_run_number: int = 1


@dataclass
class CiState:
    """Every CI record, by id."""

    suites: dict[int, CheckSuite] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    runs: dict[int, WorkflowRun] = field(default_factory=dict)
    jobs: dict[int, Job] = field(default_factory=dict)
    artifacts: dict[int, Artifact] = field(default_factory=dict)


class UnexpectedInputs(ValueError):
    """A dispatch named inputs the workflow file does not declare (GitHub answers 422)."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(f"Unexpected inputs provided: {names}")
        self.names = names


def _workflow_files(bare: Path, sha: str) -> list[tuple[str, str]]:
    """(path, text) of every `.github/workflows/*.yml|yaml` at `sha` of a bare repository."""
    listed = subprocess.run(
        ["git", "ls-tree", "--name-only", sha, ".github/workflows/"],
        cwd=bare,
        capture_output=True,
        text=True,
        env=runner.GIT_ENV,
    )
    paths = [p for p in listed.stdout.split() if p.endswith((".yml", ".yaml"))]
    found = []
    for path in sorted(paths):
        shown = subprocess.run(
            ["git", "show", f"{sha}:{path}"],
            cwd=bare,
            capture_output=True,
            text=True,
            env=runner.GIT_ENV,
        )
        if shown.returncode == 0:
            found.append((path, shown.stdout))
    return found


class CiSimulator:
    """See the module docstring."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake
        self.repos: dict[str, RepoCi] = {}
        self.state = CiState()
        self._deliveries: list[events.Delivery] = []
        self._threads: set[threading.Thread] = set()
        self._processes: set[subprocess.Popen[bytes]] = set()
        self._closed = False
        #: The App's own check runs (POST/PATCH check-runs); see appchecks.py.
        self.app_checks = AppChecks(self)
        self._idle = threading.Condition(fake._lock)

    # --- test-side API -----------------------------------------------------------------------

    def configure(
        self,
        full_name: str,
        workflows: list[Workflow] | None = None,
        env: dict[str, str] | None = None,
        *,
        mode: Mode = "run",
        run_details: bool = True,
        app_suites: bool = True,
    ) -> list[Workflow]:
        """Give `full_name` these workflows (ids assigned here; returned); without
        `workflows`, its CI is what its committed `.github/workflows/*.yml` files say, read
        at each commit (see workflow_file.py)."""
        if full_name not in self.fake.repos:
            raise KeyError(f"no repository {full_name!r}; add_repo it first")
        numbered = [replace(w, id=self.fake.next_id()) for w in workflows or []]
        files = [w.file for w in numbered]
        if len(set(files)) != len(files):
            raise ValueError(f"workflow files must be unique, got {files}")
        self.repos[full_name] = RepoCi(
            numbered,
            dict(env or {}),
            from_files=workflows is None,
            run_details=run_details,
            app_suites=app_suites,
        )
        self.set_mode(full_name, mode)
        return numbered if workflows is not None else self.workflows(full_name)

    def set_mode(self, full_name: str, mode: Mode, conclusion: str | None = None) -> None:
        """ "run", "action_required", "silent" or "conclude" (see the module docstring)."""
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} is not one of {MODES}")
        config = self._config(full_name)
        config.mode, config.conclusion = mode, conclusion

    def set_run_details(self, full_name: str, supported: bool) -> None:
        """False: dispatches with `return_run_details` get 422, as from an older server."""
        self._config(full_name).run_details = supported

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until no job is running; raise TimeoutError naming the runs still going."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._threads:
                left = deadline - time.monotonic()
                if left <= 0:
                    going = [r.id for r in self.state.runs.values() if r.running]
                    raise TimeoutError(f"CI still running after {timeout}s: runs {going}")
                self._idle.wait(left)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Start no more jobs, kill the running ones and wait for their threads (the fake's
        `stop()` calls this, so no job outlives its test)."""
        with self.fake._lock:
            self._closed = True
            for process in self._processes:
                if process.returncode is None:
                    runner.kill(process)
        try:
            self.wait_idle(timeout)
        except TimeoutError:
            self.fake.violations.append("CI jobs were still running after the fake stopped")

    def take_deliveries(self) -> list[events.Delivery]:
        """Every queued (event, payload), oldest first; the queue is emptied."""
        with self.fake._lock:
            taken, self._deliveries = self._deliveries, []
        return taken

    def runs(self, full_name: str) -> list[WorkflowRun]:
        """The workflow runs of a repository, oldest first."""
        with self.fake._lock:
            return [r for r in self.state.runs.values() if r.full_name == full_name]

    def check_runs(self, full_name: str, sha: str) -> list[CheckRun]:
        """The check runs on commit `sha`, oldest first."""
        with self.fake._lock:
            return [
                c
                for c in self.state.check_runs.values()
                if c.full_name == full_name and c.head_sha == sha
            ]

    def trigger_push(self, full_name: str, branch: str, pusher: str = "alice") -> list[WorkflowRun]:
        """Run the push workflows on `branch`'s current tip, as if it had just been pushed
        (the base branch's CI results for a commit made before `configure`)."""
        sha = self.fake.branch_sha(full_name, branch)
        if sha is None:
            raise KeyError(f"{full_name} has no branch {branch!r}")
        return self.on_push(full_name, branch, sha, None, pusher)

    def approve(self, run_id: int) -> None:
        """A maintainer approves a run that waited (`action_required`): it runs now, in the
        same attempt, whatever the repository's mode says."""
        with self.fake._lock:
            run = self.state.runs[run_id]
            if run.conclusion != "action_required":
                raise ValueError(f"run {run_id} is {run.status}/{run.conclusion}, not waiting")
            suite = self.state.suites[run.suite_id]
            run.status, run.conclusion, run.updated_at = "queued", None, timestamp()
            suite.status, suite.conclusion = "queued", None
            self._begin(run)

    def rerequest_from_ui(self, check_run_id: int, by: str = "alice") -> None:
        """A person re-runs a check from the pull request page."""
        with self.fake._lock:
            self.rerequest(self.state.check_runs[check_run_id], by)

    # --- triggers (the fake's REST and git handlers call these) ------------------------------

    def workflows(self, full_name: str, sha: str | None = None) -> list[Workflow]:
        """The repository's workflows (from its files at `sha`, default: the default branch)."""
        config = self.repos.get(full_name)
        if config is None:
            return []
        if not config.from_files:
            return list(config.workflows)
        repo = self.fake.repos[full_name]
        sha = sha or self.fake.branch_sha(full_name, repo.default_branch)
        return self._file_workflows(config, repo, sha) if sha else []

    def _file_workflows(self, config: RepoCi, repo: FakeRepo, sha: str) -> list[Workflow]:
        found = []
        for path, text in _workflow_files(repo.bare, sha):
            try:
                spec = workflow_file.parse(path, text)
            except workflow_file.Unsupported as exc:
                self.fake.violations.append(f"the fake CI cannot run {path} at {sha[:12]}: {exc}")
                continue
            if path not in config.file_ids:
                config.file_ids[path] = self.fake.next_id()
            found.append(Workflow.from_spec(spec, config.file_ids[path]))
        return found

    def on_push(
        self, full_name: str, branch: str, sha: str, before: str | None, pusher: str
    ) -> list[WorkflowRun]:
        """A branch moved to `sha`: GitHub requests the App's check suite, then starts the
        push workflows whose `branches` match."""
        config = self.repos.get(full_name)
        if config is None:
            return []
        title = self.fake.commit_subject(full_name, sha)
        with self.fake._lock:
            repo = self.fake.repos[full_name]
            if config.app_suites and config.mode != "silent":
                suite = self.app_checks.suite(repo, sha, branch, before)
                self.queue(events.check_suite(self.fake, repo, suite, "requested", pusher))
            started = [
                self._start(full_name, w, "push", branch, sha, before, pusher, {}, title)
                for w in self.workflows(full_name, sha)
                if "push" in w.events and w.runs_on_branch(branch)
            ]
            for pull in self.fake.open_pulls(full_name):
                if pull["head"] == branch:
                    started += self._pull_request_runs(full_name, pull, sha, pusher)
            return started

    def on_pull_opened(self, full_name: str, number: int, actor: str) -> list[WorkflowRun]:
        """A pull request was opened: start its `pull_request` workflows."""
        if full_name not in self.repos:
            return []
        pull = self.fake.repos[full_name].pulls[number]
        sha = self.fake.branch_sha(full_name, pull["head"])
        if sha is None:
            return []
        with self.fake._lock:
            return self._pull_request_runs(full_name, pull, sha, actor)

    def _pull_request_runs(
        self, full_name: str, pull: dict[str, Any], sha: str, actor: str
    ) -> list[WorkflowRun]:
        # GitHub runs these on the PR's test merge commit; the fake runs the head commit.
        # `branches` filters the base branch, as `on.pull_request.branches` does.
        self._config(full_name)
        return [
            self._start(
                full_name, w, "pull_request", pull["head"], sha, None, actor, {}, pull["title"]
            )
            for w in self.workflows(full_name, sha)
            if "pull_request" in w.events and w.pull_on_branch(pull["base"])
        ]

    def dispatch(
        self, full_name: str, workflow: Workflow, branch: str, inputs: dict[str, str], actor: str
    ) -> WorkflowRun:
        """`workflow_dispatch` of `workflow` on `branch` (its tip)."""
        sha = self.fake.branch_sha(full_name, branch)
        if sha is None:
            raise KeyError(branch)
        nonce = inputs.get("nonce")
        title = f"{workflow.name} {nonce}" if nonce else workflow.name
        if workflow.spec is not None:  # GitHub runs the file as it is on the dispatched ref
            at_ref = [w for w in self.workflows(full_name, sha) if w.file == workflow.file]
            if not at_ref:
                raise KeyError(branch)
            workflow = at_ref[0]
            unexpected = sorted(set(inputs) - set(workflow.spec.inputs))
            if unexpected:
                raise UnexpectedInputs(unexpected)
            inputs = {**workflow.spec.inputs, **inputs}
            title = self._run_name(workflow, inputs, branch, sha, actor)
        with self.fake._lock:
            return self._start(
                full_name, workflow, "workflow_dispatch", branch, sha, None, actor, inputs, title
            )

    def rerun(self, run: WorkflowRun) -> None:
        """A new attempt of `run` (the fake's one job is always the failed one)."""
        suite = self.state.suites[run.suite_id]
        run.run_attempt += 1
        run.status, run.conclusion = "queued", None
        run.updated_at = timestamp()
        suite.status, suite.conclusion = "queued", None
        self._begin(run)

    def rerequest(self, check: CheckRun, login: str) -> None:
        """Re-run an Actions check's workflow run, or tell the App its own check was re-requested."""
        if check.owner == "actions":
            run = next(r for r in self.state.runs.values() if r.suite_id == check.suite_id)
            self.rerun(run)
            return
        suite = self.state.suites[check.suite_id]
        repo = self.fake.repos[check.full_name]
        self.queue(events.check_run(self.fake, repo, check, suite, "rerequested", login))

    # --- workflow runs -----------------------------------------------------------------------

    def _start(
        self,
        full_name: str,
        workflow: Workflow,
        event: str,
        branch: str,
        sha: str,
        before: str | None,
        actor: str,
        inputs: dict[str, str],
        title: str,
    ) -> WorkflowRun:
        config = self._config(full_name)
        suite = self.new_suite(full_name, "actions", sha, branch, before)
        now = timestamp()
        run = WorkflowRun(
            id=self.fake.next_id(),
            full_name=full_name,
            workflow=workflow,
            run_number=config.next_run_number,
            event=event,
            head_branch=branch,
            head_sha=sha,
            display_title=title,
            actor=actor,
            suite_id=suite.id,
            created_at=now,
            updated_at=now,
            inputs=dict(inputs),
        )
        config.next_run_number += 1
        self.state.runs[run.id] = run
        if config.mode == "silent":
            return run
        repo = self.fake.repos[full_name]
        self.queue(events.workflow_run(self.fake, repo, run, "requested"))
        if config.mode == "action_required":
            self._finish(repo, run, suite, "action_required")
        elif config.mode == "conclude":
            self._finish(repo, run, suite, config.conclusion)
        else:
            self._begin(run)
        return run

    def _begin(self, run: WorkflowRun) -> None:
        if self._closed:
            return
        run.running = True
        thread = threading.Thread(target=self._execute, args=(run,), daemon=True)
        self._threads.add(thread)
        thread.start()

    def _run_name(
        self, workflow: Workflow, inputs: dict[str, str], branch: str, sha: str, actor: str
    ) -> str:
        if not workflow.spec.run_name:
            return str(workflow.name)
        github = {"sha": sha, "ref_name": branch, "ref": f"refs/heads/{branch}", "actor": actor}
        context = workflow_file.Context(inputs, dict(workflow.spec.env), github)
        return workflow_file.substitute(workflow.spec.run_name, context)

    def _execute(self, run: WorkflowRun) -> None:
        if run.workflow.spec is not None:
            self._execute_file(run)
            return
        try:
            job = self._start_job(run)
            repo = self.fake.repos[run.full_name]
            env = self._job_env(run)
            scratch = self.fake.root / "ci"
            result = runner.run_job(
                repo.bare, run.head_sha, run.workflow, env, scratch, self._started
            )
            with self.fake._lock:
                self._end_job(repo, run, job, result)
        except Exception as exc:  # a bug in the fake must fail the test, not hang it
            with self.fake._lock:
                self.fake.violations.append(f"CI simulator crashed on run {run.id}: {exc!r}")
        finally:
            with self._idle:
                run.running = False
                self._threads.discard(threading.current_thread())
                self._idle.notify_all()

    def _execute_file(self, run: WorkflowRun) -> None:
        """Each job of the workflow file in turn, each step of a job in order."""
        try:
            repo = self.fake.repos[run.full_name]
            env = self._job_env(run)
            github = {k.removeprefix("GITHUB_").lower(): v for k, v in env.items()}
            conclusion = "success"
            for spec in run.workflow.spec.jobs:
                context = workflow_file.Context(run.inputs, {}, github)
                context = replace(
                    context,
                    env={
                        k: workflow_file.substitute(v, context)
                        for k, v in run.workflow.spec.env.items()
                    },
                )
                if not workflow_file.condition(spec.if_, context):
                    continue
                job = self._start_job(run, spec.name)
                result = runner.run_file_job(
                    repo.bare,
                    run.head_sha,
                    spec,
                    context,
                    env,
                    self.fake.root / "ci",
                    self._started,
                )
                with self.fake._lock:
                    self._end_file_job(repo, run, job, result)
                if result.conclusion != "success":
                    conclusion = "failure"
            with self.fake._lock:
                suite = self.state.suites[run.suite_id]
                self._finish(repo, run, suite, conclusion)
        except Exception as exc:  # a bug in the fake, or a file it cannot run: fail the test
            with self.fake._lock:
                self.fake.violations.append(f"CI simulator failed on run {run.id}: {exc!r}")
        finally:
            with self._idle:
                run.running = False
                self._threads.discard(threading.current_thread())
                self._idle.notify_all()

    def _end_file_job(
        self, repo: FakeRepo, run: WorkflowRun, job: Job, result: runner.FileJobResult
    ) -> None:
        now = timestamp()
        job.status, job.conclusion, job.completed_at = "completed", result.conclusion, now
        job.steps, job.log = result.steps, result.log
        assert job.check_run_id is not None
        check = self.state.check_runs[job.check_run_id]
        check.status, check.conclusion, check.completed_at = "completed", result.conclusion, now
        notes = [] if result.conclusion == "success" else [_error_annotation(result.log)]
        check.output = {"annotations": notes, "annotations_count": len(notes)}
        for name, data in result.artifacts:
            artifact = Artifact(self.fake.next_id(), run.id, name, data, now)
            self.state.artifacts[artifact.id] = artifact
            run.artifact_ids.append(artifact.id)
        suite = self.state.suites[run.suite_id]
        self.queue(events.check_run(self.fake, repo, check, suite, "completed", run.actor))

    def _started(self, process: subprocess.Popen[bytes]) -> None:
        with self.fake._lock:
            self._processes = {p for p in self._processes if p.returncode is None}
            self._processes.add(process)
            if self._closed:
                runner.kill(process)

    def _start_job(self, run: WorkflowRun, name: str | None = None) -> Job:
        with self.fake._lock:
            now = timestamp()
            job = Job(
                id=self.fake.next_id(),
                run_id=run.id,
                run_attempt=run.run_attempt,
                name=name or run.workflow.job_name,
                head_sha=run.head_sha,
                created_at=now,
                status="in_progress",
                started_at=now,
            )
            check = CheckRun(
                id=self.fake.next_id(),
                suite_id=run.suite_id,
                full_name=run.full_name,
                owner="actions",
                name=job.name,
                head_sha=run.head_sha,
                started_at=now,
                status="in_progress",
                job_id=job.id,
            )
            job.check_run_id = check.id
            self.state.jobs[job.id] = job
            self.state.check_runs[check.id] = check
            self.state.suites[run.suite_id].run_ids.append(check.id)
            self.state.suites[run.suite_id].status = "in_progress"
            run.job_ids.append(job.id)
            run.status, run.run_started_at, run.updated_at = "in_progress", now, now
            return job

    def _job_env(self, run: WorkflowRun) -> dict[str, str]:
        config = self._config(run.full_name)
        github = {
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": run.full_name,
            "GITHUB_SHA": run.head_sha,
            "GITHUB_REF": f"refs/heads/{run.head_branch}",
            "GITHUB_REF_NAME": run.head_branch,
            "GITHUB_EVENT_NAME": run.event,
            "GITHUB_WORKFLOW": run.workflow.name,
            "GITHUB_RUN_ID": str(run.id),
            "GITHUB_RUN_NUMBER": str(run.run_number),
            "GITHUB_RUN_ATTEMPT": str(run.run_attempt),
            "GITHUB_ACTOR": run.actor,
        }
        if run.workflow.spec is not None:  # a `run:` step sees inputs only through `${{ }}`
            return {**github, **config.env}
        inputs = {f"INPUT_{k.upper().replace(' ', '_')}": v for k, v in run.inputs.items()}
        return {**github, **config.env, **inputs}

    def _end_job(
        self, repo: FakeRepo, run: WorkflowRun, job: Job, result: runner.JobResult
    ) -> None:
        now = timestamp()
        job.status, job.conclusion, job.completed_at = "completed", result.conclusion, now
        job.steps, job.log = result.steps, result.log
        assert job.check_run_id is not None
        check = self.state.check_runs[job.check_run_id]
        check.status, check.conclusion, check.completed_at = "completed", result.conclusion, now
        # GitHub annotates a failed job with the runner's error line, on `.github`.
        notes = [] if result.conclusion == "success" else [_error_annotation(result.log)]
        check.output = {"annotations": notes, "annotations_count": len(notes)}
        if result.junit is not None and result.junit_name is not None:
            data = runner.zip_file(result.junit_name, result.junit)
            artifact = Artifact(self.fake.next_id(), run.id, run.workflow.artifact_name, data, now)
            self.state.artifacts[artifact.id] = artifact
            run.artifact_ids.append(artifact.id)
        suite = self.state.suites[run.suite_id]
        self.queue(events.check_run(self.fake, repo, check, suite, "completed", run.actor))
        self._finish(repo, run, suite, result.conclusion)

    def _finish(
        self, repo: FakeRepo, run: WorkflowRun, suite: CheckSuite, conclusion: str | None
    ) -> None:
        now = timestamp()
        on_suite = SUITE_CONCLUSION.get(conclusion, conclusion)
        suite.status, suite.conclusion, suite.updated_at = "completed", on_suite, now
        run.status, run.conclusion, run.updated_at = "completed", conclusion, now
        if conclusion not in NO_SUITE_EVENT:
            self.queue(events.check_suite(self.fake, repo, suite, "completed", run.actor))
        if conclusion not in NO_RUN_EVENT:
            self.queue(events.workflow_run(self.fake, repo, run, "completed"))

    # --- helpers -----------------------------------------------------------------------------

    def new_suite(
        self,
        full_name: str,
        owner: Owner,
        sha: str,
        branch: str | None,
        before: str | None = None,
    ) -> CheckSuite:
        now = timestamp()
        suite = CheckSuite(self.fake.next_id(), full_name, owner, sha, branch, before, now, now)
        self.state.suites[suite.id] = suite
        return suite

    def queue(self, delivery: events.Delivery) -> None:
        with self.fake._lock:
            self._deliveries.append(delivery)

    def _config(self, full_name: str) -> RepoCi:
        config = self.repos.get(full_name)
        if config is None:
            raise KeyError(f"CI is not configured for {full_name!r}; call fake.ci.configure")
        return config


def _error_annotation(log: str) -> dict[str, Any]:
    errors = [line.split("##[error]", 1)[1] for line in log.splitlines() if "##[error]" in line]
    return {
        "path": ".github",
        "start_line": 1,
        "end_line": 1,
        "annotation_level": "failure",
        "message": errors[-1] if errors else "The job failed.",
    }
