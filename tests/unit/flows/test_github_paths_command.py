"""`--allow-github-paths` counts only from a maintainer or admin (issue 22, item 9): a writer
who asks for it gets one reply and no run, and the flow asks GitHub for the role again."""

from __future__ import annotations

from app.config import Settings
from app.flows import fixing
from app.flows.job import build_job
from app.runs import verdict
from tests.fakes.github import FakeGitHub, FakeRepo
from tests.unit.flows.helpers import bodies, execute_run, make_run, run_row


def test_a_writer_cannot_allow_github_paths(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    number = fake_github.add_issue("octo/app", "bug")
    run_id = make_run(
        settings,
        repo,
        kind="command",
        command="fix",
        command_args="--allow-github-paths",
        issue_number=number,
        requested_by="alice",
    )
    ended = execute_run(settings, run_id)
    assert ended.status == verdict.refused("x").status
    comments = bodies(fake_github, number)
    assert len(comments) == 1 and "only a maintain or admin" in comments[0]
    assert run_row(settings, run_id).status == "done"  # a refusal tries nothing


def test_the_flow_grants_the_flag_only_to_a_maintainers_repair_command(
    settings: Settings, fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    repo.collaborators["mia"] = "maintain"
    number = fake_github.add_issue("octo/app", "bug")

    def allowed(command: str, args: str | None, who: str) -> bool:
        run_id = make_run(
            settings,
            repo,
            kind="command",
            command=command,
            command_args=args,
            issue_number=number,
            requested_by=who,
        )
        return fixing.github_paths_allowed(build_job(settings, run_id))

    assert allowed("fix", "--allow-github-paths", "mia")
    assert not allowed("fix", None, "mia")
    assert not allowed("explain", "--allow-github-paths", "mia")
    assert not allowed("fix", "--allow-github-paths", "alice")
