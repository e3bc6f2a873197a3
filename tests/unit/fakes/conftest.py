"""Fixtures for the tests of the fake GitHub itself: the fake, a repository with CI, and an
HTTP session holding an installation token, as the App would call the fake."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.fakes.github import FakeGitHub, FakeRepo
from tests.fakes.github.ci import Workflow
from tests.fakes.github.fixtures import fake_github

__all__ = ["fake_github"]

#: A tiny test suite: writes a JUnit report and fails when the commit has a file `FAIL`.
CHECK = """\
import os, sys
failed = os.path.exists("FAIL")
failure = "<failure message='FAIL exists'/>" if failed else ""
with open("junit.xml", "w") as report:
    report.write(f"<testsuite tests='1'><testcase name='test_check'>{failure}</testcase></testsuite>")
print("1 failed" if failed else "1 passed")
sys.exit(1 if failed else 0)
"""
FILES = {"check.py": CHECK}


@dataclass
class Api:
    """An installation-token session on one repository's REST root."""

    session: requests.Session
    repo_url: str

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.repo_url + path, params=params or None)

    def post(self, path: str, body: Any = None) -> requests.Response:
        return self.session.post(self.repo_url + path, json=body)

    def patch(self, path: str, body: Any) -> requests.Response:
        return self.session.patch(self.repo_url + path, json=body)


@pytest.fixture
def repo(fake_github: FakeGitHub) -> FakeRepo:
    found = fake_github.add_repo("octo/calc", FILES)
    fake_github.ci.configure(
        "octo/calc",
        [
            Workflow(name="CI", file="ci.yml", command="python check.py", junit_path="junit.xml"),
            Workflow(
                name="FixWurx canary",
                file="fixwurx-canary.yml",
                events=("workflow_dispatch",),
                command='echo "tests=$INPUT_TESTS ci=$CI"; python check.py',
            ),
        ],
        env={"CI": "true"},
    )
    return found


@pytest.fixture
def api(fake_github: FakeGitHub, repo: FakeRepo) -> Api:
    session = requests.Session()
    session.headers["Authorization"] = f"token {fake_github.mint_token(repo.installation_id)}"
    session.headers["Accept"] = "application/vnd.github+json"
    return Api(session, f"{fake_github.api_url}/repos/{repo.full_name}")
