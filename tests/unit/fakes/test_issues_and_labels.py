"""What rollback needs of the fake beyond CI: reopening an issue, labels on pull requests, and
CI results for a base commit made before CI was configured."""

from __future__ import annotations

from tests.fakes.github import FakeGitHub, FakeRepo
from tests.unit.fakes.conftest import Api


def test_an_issue_is_reopened_and_relabelled_through_patch(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    number = fake_github.add_issue(repo.full_name, "Bug", state="closed")
    answer = api.patch(f"/issues/{number}", {"state": "open", "labels": ["fixwurx"]})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["state"], [x["name"] for x in answer.json()["labels"]]) == (
        "open",
        ["fixwurx"],
    )
    assert repo.issues[number]["state"] == "open"


def test_a_label_a_person_adds_to_a_pull_shows_on_it(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    fake_github.commit_files(repo.full_name, "fixwurx/l", {"a.txt": "a\n"}, "Add a")
    number = api.post("/pulls", {"title": "T", "head": "fixwurx/l", "base": "main"}).json()[
        "number"
    ]
    fake_github.add_label(repo.full_name, number, "fixwurx:no-rollback")
    pull = api.get(f"/pulls/{number}").json()
    assert [x["name"] for x in pull["labels"]] == ["fixwurx:no-rollback"]


def test_trigger_push_runs_ci_on_the_base_commit(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    (run,) = fake_github.ci.trigger_push(repo.full_name, "main")
    fake_github.ci.wait_idle(30)
    assert (run.head_sha, run.conclusion) == (
        fake_github.branch_sha(repo.full_name, "main"),
        "success",
    )
