"""The fake GitHub's CI simulator and its Checks and Actions endpoints, driven over HTTP as the
App would drive them (every request and response checked against GitHub's description)."""

from __future__ import annotations

import io
import subprocess
import zipfile

from tests.fakes.github import FakeGitHub, FakeRepo
from tests.fakes.github.ci import Workflow
from tests.fakes.github.cimodels import ACTIONS_APP_ID
from tests.unit.fakes.conftest import Api


def _pr(fake: FakeGitHub, api: Api, branch: str) -> int:
    made = api.post("/pulls", {"title": "Fix it", "head": branch, "base": "main", "draft": True})
    assert made.status_code == 201, made.text
    return int(made.json()["number"])


def test_a_passing_push_completes_every_ci_object_with_success(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    fake_github.commit_files(repo.full_name, "fixwurx/fix-1", {"a.txt": "a\n"}, "Add a")
    number = _pr(fake_github, api, "fixwurx/fix-1")
    sha = fake_github.commit_files(repo.full_name, "fixwurx/fix-1", {"b.txt": "b\n"}, "Add b")
    fake_github.ci.take_deliveries()  # the first push's
    fake_github.ci.wait_idle(30)

    delivered = fake_github.ci.take_deliveries()
    assert [(e, p["action"]) for e, p in delivered][-3:] == [
        ("check_run", "completed"),
        ("check_suite", "completed"),
        ("workflow_run", "completed"),
    ]
    run = delivered[-1][1]["workflow_run"]
    assert (run["head_sha"], run["conclusion"], run["event"]) == (sha, "success", "push")
    assert [p["number"] for p in run["pull_requests"]] == [number]
    assert delivered[-2][1]["check_suite"]["app"]["id"] == ACTIONS_APP_ID
    assert delivered[-1][1]["sender"]["login"] == "alice"
    listed = api.get("/actions/runs", branch="fixwurx/fix-1", head_sha=sha).json()
    assert [r["id"] for r in listed["workflow_runs"]] == [run["id"]]
    assert api.get(f"/actions/runs/{run['id']}").json()["conclusion"] == "success"


def test_a_failing_command_gives_failure_with_its_log_and_junit_artifact(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    sha = fake_github.commit_files(repo.full_name, "fixwurx/fix-2", {"FAIL": ""}, "Break it")
    fake_github.ci.wait_idle(30)
    (run,) = api.get("/actions/runs", head_sha=sha, status="failure").json()["workflow_runs"]

    (job,) = api.get(f"/actions/runs/{run['id']}/jobs").json()["jobs"]
    assert job["conclusion"] == "failure"
    failing = [s["name"] for s in job["steps"] if s["conclusion"] == "failure"]
    assert failing == ["Run tests"]
    log = api.get(f"/actions/jobs/{job['id']}/logs")
    assert log.history[0].status_code == 302
    assert "1 failed" in log.text
    assert "##[error]Process completed with exit code 1." in log.text
    (artifact,) = api.get(f"/actions/runs/{run['id']}/artifacts").json()["artifacts"]
    archive = zipfile.ZipFile(io.BytesIO(api.session.get(artifact["archive_download_url"]).content))
    assert "<failure" in archive.read("junit.xml").decode()
    checks = api.get(f"/commits/{sha}/check-runs").json()["check_runs"]
    assert [(c["name"], c["conclusion"], c["app"]["slug"]) for c in checks] == [
        ("test", "failure", "github-actions")
    ]
    (note,) = api.get(f"/check-runs/{checks[0]['id']}/annotations").json()
    assert note["message"] == "Process completed with exit code 1."


def test_dispatch_with_run_details_answers_the_run_and_passes_inputs(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    fake_github.commit_files(repo.full_name, "fixwurx/fix-3", {"a.txt": "a\n"}, "Add a")
    answer = api.post(
        "/actions/workflows/fixwurx-canary.yml/dispatches",
        {
            "ref": "fixwurx/fix-3",
            "inputs": {"tests": "t::a", "nonce": "n-1"},
            "return_run_details": True,
        },
    )
    assert answer.status_code == 200, answer.text
    fake_github.ci.wait_idle(30)
    run = api.get(f"/actions/runs/{answer.json()['workflow_run_id']}").json()
    assert (run["event"], run["conclusion"]) == ("workflow_dispatch", "success")
    assert "n-1" in run["display_title"]
    (job,) = api.get(f"/actions/runs/{run['id']}/jobs").json()["jobs"]
    assert "tests=t::a ci=true" in api.get(f"/actions/jobs/{job['id']}/logs").text


def test_a_server_without_run_details_rejects_the_field_and_the_run_is_found_by_nonce(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    fake_github.ci.set_run_details(repo.full_name, False)
    body = {"ref": "main", "inputs": {"nonce": "n-42"}}
    path = "/actions/workflows/fixwurx-canary.yml/dispatches"
    assert api.post(path, {**body, "return_run_details": True}).status_code == 422
    assert api.post(path, body).status_code == 204
    fake_github.ci.wait_idle(30)
    runs = api.get("/actions/workflows/fixwurx-canary.yml/runs", event="workflow_dispatch")
    assert [r["display_title"] for r in runs.json()["workflow_runs"]] == ["FixWurx canary n-42"]


def test_dispatching_a_workflow_without_the_trigger_is_refused(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    answer = api.post("/actions/workflows/ci.yml/dispatches", {"ref": "main"})
    assert answer.status_code == 422
    assert api.get("/actions/workflows/nope.yml").status_code == 404


def test_action_required_runs_nothing_and_silent_never_answers(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    fake_github.ci.set_mode(repo.full_name, "action_required")
    sha = fake_github.commit_files(repo.full_name, "fixwurx/a", {"a.txt": "a\n"}, "Add a")
    fake_github.ci.wait_idle(5)
    delivered = fake_github.ci.take_deliveries()
    assert delivered[-1][1]["workflow_run"]["conclusion"] == "action_required"
    (run,) = api.get("/actions/runs", head_sha=sha).json()["workflow_runs"]
    assert api.get(f"/actions/runs/{run['id']}/jobs").json()["total_count"] == 0
    fake_github.ci.approve(run["id"])
    fake_github.ci.wait_idle(30)
    assert fake_github.ci.take_deliveries()[-1][1]["workflow_run"]["conclusion"] == "success"

    fake_github.ci.set_mode(repo.full_name, "silent")
    sha = fake_github.commit_files(repo.full_name, "fixwurx/a", {"b.txt": "b\n"}, "Add b")
    fake_github.ci.wait_idle(5)
    assert fake_github.ci.take_deliveries() == []
    (run,) = api.get("/actions/runs", head_sha=sha).json()["workflow_runs"]
    assert (run["status"], run["conclusion"]) == ("queued", None)


def test_rerun_failed_jobs_runs_the_command_again_as_a_new_attempt(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    # A flaky check: fails on the first attempt only.
    flaky = {"check.py": "import os, sys\nsys.exit(os.environ['GITHUB_RUN_ATTEMPT'] == '1')\n"}
    sha = fake_github.commit_files(repo.full_name, "main", flaky, "Flaky")
    fake_github.ci.wait_idle(30)
    (run,) = api.get("/actions/runs", head_sha=sha).json()["workflow_runs"]
    assert run["conclusion"] == "failure"

    assert api.post(f"/actions/runs/{run['id']}/rerun-failed-jobs").status_code == 201
    fake_github.ci.wait_idle(30)
    again = api.get(f"/actions/runs/{run['id']}").json()
    assert (again["run_attempt"], again["conclusion"]) == (2, "success")
    all_jobs = api.get(f"/actions/runs/{run['id']}/jobs", filter="all").json()
    assert [j["conclusion"] for j in all_jobs["jobs"]] == ["failure", "success"]


def test_the_apps_own_check_run_is_its_suite_and_its_deliveries_name_the_app(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    sha = fake_github.commit_files(repo.full_name, "fixwurx/c", {"a.txt": "a\n"}, "Add a")
    fake_github.ci.wait_idle(30)
    fake_github.ci.take_deliveries()
    made = api.post(
        "/check-runs",
        {"name": "FixWurx verification", "head_sha": sha, "status": "in_progress"},
    )
    assert made.status_code == 201, made.text
    note = {
        "path": "calc.py",
        "start_line": 3,
        "end_line": 3,
        "annotation_level": "notice",
        "message": "root cause",
    }
    output = {"title": "Verified", "summary": "2 tests", "annotations": [note]}
    done = api.patch(
        f"/check-runs/{made.json()['id']}", {"conclusion": "success", "output": output}
    ).json()
    assert (done["status"], done["output"]["title"]) == ("completed", "Verified")
    assert done["output"]["annotations_count"] == 1
    (shown,) = api.get(f"/check-runs/{done['id']}/annotations").json()
    assert (shown["path"], shown["start_line"], shown["message"]) == ("calc.py", 3, "root cause")

    delivered = fake_github.ci.take_deliveries()
    assert [(e, p["action"]) for e, p in delivered] == [
        ("check_run", "created"),
        ("check_run", "completed"),
        ("check_suite", "completed"),
    ]
    assert {p[e]["app"]["id"] for e, p in delivered} == {fake_github.app_id}
    suites = api.get(f"/commits/{sha}/check-suites").json()["check_suites"]
    assert sorted(s["app"]["id"] for s in suites) == sorted([ACTIONS_APP_ID, fake_github.app_id])
    mine = api.get(f"/commits/{sha}/check-runs", app_id=fake_github.app_id).json()
    assert [c["name"] for c in mine["check_runs"]] == ["FixWurx verification"]


def test_a_push_over_git_runs_ci_as_the_apps_bot(
    fake_github: FakeGitHub, repo: FakeRepo, tmp_path: object
) -> None:
    token = fake_github.mint_token(repo.installation_id)
    url = f"http://x-access-token:{token}@127.0.0.1:{fake_github.port}/octo/calc.git"
    work = f"{tmp_path}/clone"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"}
    git = ["git", "-c", "user.name=b", "-c", "user.email=b@x"]
    subprocess.run([*git, "clone", "-q", url, work], env=env, check=True)
    subprocess.run([*git, "-C", work, "checkout", "-q", "-b", "fixwurx/git"], env=env, check=True)
    subprocess.run(
        [*git, "-C", work, "commit", "-q", "--allow-empty", "-m", "x"], env=env, check=True
    )
    subprocess.run([*git, "-C", work, "push", "-q", "origin", "fixwurx/git"], env=env, check=True)
    fake_github.ci.wait_idle(30)
    (run,) = fake_github.ci.runs(repo.full_name)
    assert (run.head_branch, run.actor, run.conclusion) == (
        "fixwurx/git",
        "fixwurx[bot]",
        "success",
    )


def test_merge_pull_makes_a_merge_commit_and_runs_ci_on_the_default_branch(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    before = fake_github.branch_sha(repo.full_name, "main")
    fake_github.commit_files(repo.full_name, "fixwurx/m", {"FAIL": ""}, "Break main")
    number = _pr(fake_github, api, "fixwurx/m")
    fake_github.ci.wait_idle(30)
    fake_github.ci.take_deliveries()

    merged = fake_github.merge_pull(repo.full_name, number, by="alice")

    parents = subprocess.run(
        ["git", "rev-list", "--parents", "-n", "1", merged],
        cwd=repo.bare,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[1:]
    assert parents[0] == before and len(parents) == 2
    assert fake_github.branch_sha(repo.full_name, "main") == merged
    pull = api.get(f"/pulls/{number}").json()
    assert (pull["merged"], pull["merge_commit_sha"], pull["state"]) == (True, merged, "closed")
    fake_github.ci.wait_idle(30)
    delivered = fake_github.ci.take_deliveries()
    assert delivered[0][0] == "pull_request" and delivered[0][1]["pull_request"]["merged"]
    run = delivered[-1][1]["workflow_run"]
    assert (run["head_branch"], run["head_sha"], run["conclusion"]) == ("main", merged, "failure")


def test_pump_signs_and_sends_every_queued_delivery(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    import flask

    from tests.fakes import webhooks
    from tests.fakes.github.deliver import pump

    received: list[str] = []
    web = flask.Flask("hooks")

    @web.post("/webhooks/github")
    def hook() -> tuple[str, int]:
        body = flask.request.get_data()
        good = flask.request.headers["X-Hub-Signature-256"] == webhooks.sign(body, "s3cret")
        received.append(flask.request.headers["X-GitHub-Event"])
        return "", 202 if good else 401

    fake_github.commit_files(repo.full_name, "fixwurx/p", {"a.txt": "a\n"}, "Add a")
    sent = pump(fake_github, web.test_client(), "s3cret")

    assert [s[2] for s in sent] == [202] * 5
    assert received == ["check_suite", "workflow_run", "check_run", "check_suite", "workflow_run"]
    assert fake_github.ci.take_deliveries() == []
    assert len(fake_github.deliveries) == 5


def test_a_push_requests_the_apps_suite_and_branch_filters_pick_workflows(
    fake_github: FakeGitHub,
) -> None:
    fake_github.add_repo("octo/main-only", {"a.txt": "a\n"})
    nightly = Workflow(name="Main CI", file="main.yml", command="true", branches=("main",))
    fake_github.ci.configure("octo/main-only", [nightly])
    sha = fake_github.commit_files("octo/main-only", "fixwurx/x", {"b.txt": "b\n"}, "On a branch")
    assert fake_github.ci.runs("octo/main-only") == []
    ((event, payload),) = fake_github.ci.take_deliveries()
    assert (event, payload["action"]) == ("check_suite", "requested")
    assert (payload["check_suite"]["app"]["id"], payload["check_suite"]["head_sha"]) == (
        fake_github.app_id,
        sha,
    )

    fake_github.commit_files("octo/main-only", "main", {"c.txt": "c\n"}, "On main")
    fake_github.ci.wait_idle(30)
    assert [r.head_branch for r in fake_github.ci.runs("octo/main-only")] == ["main"]


def test_ci_payloads_name_the_fakes_repository_and_commit(
    fake_github: FakeGitHub, repo: FakeRepo
) -> None:
    sha = fake_github.commit_files(repo.full_name, "fixwurx/n", {"a.txt": "a\n"}, "Add a")
    fake_github.ci.wait_idle(30)
    for event, payload in fake_github.ci.take_deliveries():
        assert payload["repository"]["full_name"] == repo.full_name
        assert payload["installation"]["id"] == repo.installation_id
        if event == "workflow_run":
            run = payload["workflow_run"]
            assert run["repository"]["full_name"] == repo.full_name
            assert (run["head_commit"]["id"], run["head_commit"]["message"]) == (sha, "Add a")
        if event == "check_suite":
            assert payload["check_suite"]["head_commit"]["id"] == sha


def test_lookups_by_id_and_by_an_encoded_branch_name(
    fake_github: FakeGitHub, repo: FakeRepo, api: Api
) -> None:
    fake_github.commit_files(repo.full_name, "fixwurx/ids", {"a.txt": "a\n"}, "Add a")
    fake_github.ci.wait_idle(30)
    by_branch = api.get("/commits/fixwurx%2Fids/check-runs").json()["check_runs"]
    (check,) = by_branch
    suite_id = check["check_suite"]["id"]
    suite = api.get(f"/check-suites/{suite_id}").json()
    assert (suite["app"]["id"], suite["conclusion"]) == (ACTIONS_APP_ID, "success")
    (listed,) = api.get(f"/check-suites/{suite_id}/check-runs").json()["check_runs"]
    assert listed["id"] == check["id"]
    (run,) = api.get("/actions/runs", check_suite_id=suite_id).json()["workflow_runs"]
    (job,) = api.get(f"/actions/runs/{run['id']}/jobs").json()["jobs"]
    assert (
        api.get(f"/actions/jobs/{job['id']}")
        .json()["check_run_url"]
        .endswith(f"/check-runs/{check['id']}")
    )
    (artifact,) = api.get(f"/actions/runs/{run['id']}/artifacts").json()["artifacts"]
    assert api.get(f"/actions/artifacts/{artifact['id']}").json()["name"] == "junit"
    assert api.get("/actions/runs/999999").status_code == 404


def test_pull_request_workflows_run_when_a_pull_opens_and_its_head_moves(
    fake_github: FakeGitHub, api: Api
) -> None:
    fake_github.add_repo("octo/prci", {"a.txt": "a\n"})
    smoke = Workflow(name="Smoke", file="smoke.yml", command="true", events=("pull_request",))
    fake_github.ci.configure("octo/prci", [smoke])
    fake_github.commit_files("octo/prci", "fixwurx/pr", {"b.txt": "b\n"}, "Add b")
    assert fake_github.ci.runs("octo/prci") == []  # no pull request yet

    prci = api.repo_url.replace("octo/calc", "octo/prci")
    made = api.session.post(
        f"{prci}/pulls", json={"title": "Fix b", "head": "fixwurx/pr", "base": "main"}
    )
    assert made.status_code == 201, made.text
    sha = fake_github.commit_files("octo/prci", "fixwurx/pr", {"c.txt": "c\n"}, "Add c")
    fake_github.ci.wait_idle(30)

    runs = fake_github.ci.runs("octo/prci")
    assert [(r.event, r.display_title, r.conclusion) for r in runs] == [
        ("pull_request", "Fix b", "success"),
        ("pull_request", "Fix b", "success"),
    ]
    assert runs[-1].head_sha == sha
