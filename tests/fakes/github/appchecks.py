"""The App's own check runs: what `POST` and `PATCH /repos/{o}/{r}/check-runs` do to the fake.

They join the App's check suite for the commit (the one GitHub made on the push, or a new one),
take the fields GitHub takes (a conclusion completes a run; annotations accumulate), and queue
`check_run.created` / `check_run.completed` and, once every run of the suite is done,
`check_suite.completed`, all with the App as `app`, as GitHub sends them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakes.github import events
from tests.fakes.github.cimodels import CheckRun, CheckSuite, timestamp

if TYPE_CHECKING:
    from tests.fakes.github.ci import CiSimulator
    from tests.fakes.github.server import FakeRepo

#: A suite's conclusion is the first of these its runs have, else neutral (all neutral or
#: skipped) or success.
WORST_FIRST = ("action_required", "cancelled", "timed_out", "failure", "stale")


class AppChecks:
    """The App's check runs and suites, kept in the simulator's state."""

    def __init__(self, sim: CiSimulator) -> None:
        self.sim = sim

    def create(self, repo: FakeRepo, body: dict[str, Any]) -> CheckRun:
        """POST /repos/{o}/{r}/check-runs by the App."""
        suite = self.suite(repo, body["head_sha"])
        check = CheckRun(
            id=self.sim.fake.next_id(),
            suite_id=suite.id,
            full_name=repo.full_name,
            owner="app",
            name=body["name"],
            head_sha=body["head_sha"],
            started_at=body.get("started_at") or timestamp(),
        )
        suite.run_ids.append(check.id)
        self.sim.state.check_runs[check.id] = check
        self._apply(check, body)
        self.sim.queue(
            events.check_run(self.sim.fake, repo, check, suite, "created", self.sim.fake.bot)
        )
        self._after_change(repo, check, suite, was_completed=False)
        return check

    def update(self, repo: FakeRepo, check: CheckRun, body: dict[str, Any]) -> None:
        """PATCH /repos/{o}/{r}/check-runs/{id}."""
        was_completed = check.status == "completed"
        self._apply(check, body)
        self._after_change(repo, check, self.sim.state.suites[check.suite_id], was_completed)

    def _apply(self, check: CheckRun, body: dict[str, Any]) -> None:
        for key in ("name", "details_url", "external_id", "started_at"):
            if key in body:
                setattr(check, key, body[key])
        if "conclusion" in body:
            check.conclusion = body["conclusion"]
            check.status = "completed"  # GitHub: a conclusion completes the run
        elif "status" in body:
            check.status = body["status"]
        if check.status == "completed":
            check.completed_at = body.get("completed_at") or check.completed_at or timestamp()
        if "output" in body:
            output = body["output"]
            annotations = [*check.output.get("annotations", []), *output.get("annotations", [])]
            check.output = {
                **{k: output.get(k, check.output.get(k)) for k in ("title", "summary", "text")},
                "annotations": annotations,
                "annotations_count": len(annotations),
            }

    def _after_change(
        self, repo: FakeRepo, check: CheckRun, suite: CheckSuite, was_completed: bool
    ) -> None:
        suite.updated_at = timestamp()
        if check.status == "completed" and not was_completed:
            self.sim.queue(
                events.check_run(self.sim.fake, repo, check, suite, "completed", self.sim.fake.bot)
            )
        runs = [self.sim.state.check_runs[i] for i in suite.run_ids]
        if all(r.status == "completed" for r in runs):
            if suite.status != "completed":
                suite.status, suite.conclusion = "completed", _suite_conclusion(runs)
                self.sim.queue(
                    events.check_suite(self.sim.fake, repo, suite, "completed", self.sim.fake.bot)
                )
        else:
            suite.status = "in_progress"
            suite.conclusion = None

    def suite(
        self, repo: FakeRepo, sha: str, branch: str | None = None, before: str | None = None
    ) -> CheckSuite:
        for suite in self.sim.state.suites.values():
            if suite.full_name == repo.full_name and suite.owner == "app" and suite.head_sha == sha:
                return suite
        branch = branch or self.sim.fake.branch_at(repo.full_name, sha)
        return self.sim.new_suite(repo.full_name, "app", sha, branch, before)


def _suite_conclusion(runs: list[CheckRun]) -> str:
    found = {r.conclusion for r in runs}
    for conclusion in WORST_FIRST:
        if conclusion in found:
            return conclusion
    if found and found <= {"neutral", "skipped"}:
        return "neutral"
    return "success"
