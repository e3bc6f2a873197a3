"""GitHub Actions as FixWurx's second verifier: canary dispatch, runs, jobs, logs, JUnit.

The canary is a workflow the maintainer commits once (`fixwurx workflow canary` prints it). FixWurx
dispatches it on the fix branch with `return_run_details: true`, so GitHub answers with the run
id; a server that rejects the field (an older GitHub Enterprise Server) gets the dispatch again
without it, and the run is found by the nonce the workflow puts in its run name.

Everything read back here (logs, artifacts) was produced by the repository's code, so it is
bounded (size, lines, files) and parsed defensively; a malformed artifact yields no outcomes,
never an exception that would lose the rest of the CI result.
"""

from __future__ import annotations

import io
import logging
import re
import secrets
import zipfile
from dataclasses import dataclass, field
from typing import Any

from app.errors import GitHubError
from app.github.client import GitHubClient, RepoClient
from app.observability import cut_words, scrub_text
from app.testing.junit import parse_junit
from app.testing.junit_ids import node_ids
from app.testing.results import TestOutcome

log = logging.getLogger(__name__)

#: The canary's JUnit artifact (the workflow `fixwurx workflow canary` prints uploads it).
JUNIT_ARTIFACT = "fixwurx-junit"
#: Words in the name of a normal CI's artifact that mark it as test results worth reading.
JUNIT_NAMES = ("junit", "test-results")
#: Artifacts of one run read at most (each is a download).
MAX_JUNIT_ARTIFACTS = 3
#: Statuses a server answers a dispatch with when it does not know `return_run_details`.
REJECTED_FIELD = frozenset({400, 422})
#: Lines of a failing step's log kept as the excerpt: enough for a traceback, short for a comment.
EXCERPT_LINES = 40
#: Characters of the excerpt at most (it goes into a comment and into the repair's feedback).
EXCERPT_CHARS = 4000
#: Largest JUnit file read out of the artifact, and how many files at most.
MAX_JUNIT_BYTES = 5 * 1024 * 1024
MAX_JUNIT_FILES = 20
#: The timestamp GitHub puts in front of every log line.
_STAMP = re.compile(r"^\ufeff?\d{4}-\d\d-\d\dT[\d:.]+Z ?")


@dataclass(frozen=True)
class Dispatched:
    """A canary dispatch: the run id when known now, and the nonce that finds it later."""

    nonce: str
    run_id: int | None = None


@dataclass(frozen=True)
class WorkflowRun:
    """The fields of a workflow run FixWurx acts on."""

    id: int
    name: str
    path: str
    head_sha: str
    status: str
    conclusion: str | None
    html_url: str
    check_suite_id: int | None
    display_title: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkflowRun:
        """From GitHub's workflow-run object (REST or a webhook's `workflow_run`)."""
        return cls(
            id=int(data["id"]),
            name=str(data.get("name") or ""),
            path=str(data.get("path") or ""),
            head_sha=str(data.get("head_sha") or ""),
            status=str(data.get("status") or ""),
            conclusion=data.get("conclusion"),
            html_url=str(data.get("html_url") or ""),
            check_suite_id=data.get("check_suite_id"),
            display_title=str(data.get("display_title") or ""),
        )

    def is_canary(self, workflow_file: str) -> bool:
        """Whether this run is of the canary workflow file."""
        return self.path.split("@")[0].rsplit("/", 1)[-1] == workflow_file


@dataclass
class FailureDetail:
    """Why a red run is red: its failing job and step, the log excerpt, the JUnit failures."""

    job: str = ""
    step: str = ""
    excerpt: str = ""
    failing_tests: list[str] = field(default_factory=list)
    outcomes: list[TestOutcome] = field(default_factory=list)


def new_nonce() -> str:
    """A nonce for the canary's run name: unguessable, letters and digits only."""
    return secrets.token_hex(8)


def workflow_exists(repo: RepoClient, workflow_file: str) -> bool:
    """Whether the repository has the canary workflow (GitHub answers 404 when it does not)."""
    try:
        repo.api("GET", f"/actions/workflows/{workflow_file}")
    except GitHubError as exc:
        if exc.status == 404:
            return False
        raise
    return True


def dispatch(
    repo: RepoClient, workflow_file: str, ref: str, inputs: dict[str, str], nonce: str
) -> Dispatched:
    """Dispatch the canary on `ref`; the run id comes back unless the server rejects the field."""
    path = f"/actions/workflows/{workflow_file}/dispatches"
    body: dict[str, Any] = {"ref": ref, "inputs": {**inputs, "nonce": nonce}}
    try:
        answer = repo.api("POST", path, {**body, "return_run_details": True})
    except GitHubError as exc:
        if exc.status not in REJECTED_FIELD:
            raise
        log.info("dispatch of %s refused run details (%s); retrying without", workflow_file, exc)
        repo.api("POST", path, body)
        return Dispatched(nonce, find_by_nonce(repo, workflow_file, ref, nonce))
    run_id = answer.get("workflow_run_id") if isinstance(answer, dict) else None
    return Dispatched(nonce, int(run_id) if run_id else None)


def find_by_nonce(repo: RepoClient, workflow_file: str, ref: str, nonce: str) -> int | None:
    """The dispatched run whose name carries `nonce`; None when GitHub has not listed it yet.

    Not finding it now is fine: the run's `workflow_run.completed` delivery carries the same
    name, and the flow matches it then.
    """
    params = {"branch": ref, "event": "workflow_dispatch", "per_page": 30}
    data = repo.api("GET", f"/actions/workflows/{workflow_file}/runs", params=params)
    for run in (data or {}).get("workflow_runs", []):
        title = f"{run.get('display_title') or ''} {run.get('name') or ''}"
        if nonce in title:
            return int(run["id"])
    return None


def runs_for_commit(repo: RepoClient, head_sha: str) -> list[WorkflowRun]:
    """Every workflow run on `head_sha` (the smoke CI and the canary)."""
    data = repo.api("GET", "/actions/runs", params={"head_sha": head_sha, "per_page": 100})
    return [WorkflowRun.from_json(r) for r in (data or {}).get("workflow_runs", [])]


def failure_detail(client: GitHubClient, repo: RepoClient, run: WorkflowRun) -> FailureDetail:
    """The failing job's failing step and log excerpt, and the JUnit failures when uploaded."""
    detail = FailureDetail()
    jobs = repo.api("GET", f"/actions/runs/{run.id}/jobs", params={"per_page": 100}) or {}
    for job in jobs.get("jobs", []):
        if job.get("conclusion") not in ("failure", "timed_out"):
            continue
        detail.job = str(job.get("name") or "")
        detail.step = failing_step(job)
        raw = client.download(f"/repos/{repo.full_name}/actions/jobs/{job['id']}/logs")
        detail.excerpt = log_excerpt(raw.decode("utf-8", "replace"))
        break
    detail.outcomes = junit_outcomes(client, repo, run.id)
    # xunit2 (pytest's default) names `tests.test_x::test_y`: mapped to runnable node ids.
    detail.failing_tests = node_ids([o.test_id for o in detail.outcomes if not o.ok])
    return detail


def failing_step(job: dict[str, Any]) -> str:
    """The name of the first failed step of a job, or "" when no step says so."""
    for step in job.get("steps") or []:
        if step.get("conclusion") in ("failure", "timed_out"):
            return str(step.get("name") or "")
    return ""


def log_excerpt(text: str) -> str:
    """The lines before the first `##[error]` (else the log's tail), without timestamps.

    Scrubbed of anything shaped like a credential: GitHub masks the secrets it knows, not
    every token a test might print. The log is the repository's own output, so the excerpt is
    cut to size (lines, then characters) before any pattern reads it.
    """
    lines = text.splitlines()
    end = next((i + 1 for i, line in enumerate(lines) if "##[error]" in line), len(lines))
    window = lines[max(0, end - EXCERPT_LINES) : end]
    kept = [_STAMP.sub("", cut_words(line, EXCERPT_CHARS)) for line in window]
    joined = "\n".join(line for line in kept if line.strip())
    return scrub_text(joined, limit=EXCERPT_CHARS, keep="tail")


def junit_outcomes(client: GitHubClient, repo: RepoClient, run_id: int) -> list[TestOutcome]:
    """The outcomes in the run's JUnit artifact; [] when there is none or it is unreadable."""
    data = repo.api("GET", f"/actions/runs/{run_id}/artifacts", params={"per_page": 100}) or {}
    outcomes: list[TestOutcome] = []
    wanted = [a for a in data.get("artifacts", []) if is_junit(a) and not a.get("expired")]
    for artifact in wanted[:MAX_JUNIT_ARTIFACTS]:
        path = f"/repos/{repo.full_name}/actions/artifacts/{artifact['id']}/zip"
        outcomes += parse_artifact(client.download(path))
    return outcomes


def is_junit(artifact: dict[str, Any]) -> bool:
    """The canary's artifact, or one of the repository's own CI whose name says JUnit."""
    name = str(artifact.get("name") or "").lower()
    return name == JUNIT_ARTIFACT or any(word in name for word in JUNIT_NAMES)


def parse_artifact(data: bytes) -> list[TestOutcome]:
    """The testcases of every XML file in an artifact zip, within the size and count limits."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        log.warning("the canary's JUnit artifact is not a zip file; ignoring it")
        return []
    outcomes: list[TestOutcome] = []
    members = [m for m in archive.infolist() if m.filename.endswith(".xml") and not m.is_dir()]
    for member in members[:MAX_JUNIT_FILES]:
        if member.file_size > MAX_JUNIT_BYTES:
            log.warning(
                "skipping %s in the JUnit artifact: %s bytes", member.filename, member.file_size
            )
            continue
        with archive.open(member) as handle:
            text = handle.read(MAX_JUNIT_BYTES + 1)[:MAX_JUNIT_BYTES]
        outcomes += parse_junit(text.decode("utf-8", "replace"))
    return outcomes
