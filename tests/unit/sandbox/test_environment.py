"""The caller's extra variables: allowed ones pass, anything that looks secret is refused."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app.errors import SandboxError
from app.sandbox import run
from app.sandbox.environment import check_caller_variable, sandbox_env


@pytest.mark.parametrize(
    "name",
    [
        "GITHUB_TOKEN",
        "OPENAI_API_KEY",
        "PRIVATE_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "SENTRY_DSN",
        "WEBHOOK_SECRET",
        "MY_PASSWORD",
        "AWS_ACCESS_KEY_ID",
        "SERVICE_URL",
        "HTTP_AUTH",
    ],
)
def test_secret_looking_names_are_refused(name: str) -> None:
    with pytest.raises(SandboxError, match=name):
        check_caller_variable(name, "harmless")


@pytest.mark.parametrize(
    "value",
    [
        "ghp_abcdefabcdef",
        "github_pat_11AAAA",
        "sk-proj-abc",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "https://user:hunter2@example.invalid/",
    ],
)
def test_secret_looking_values_are_refused(value: str) -> None:
    with pytest.raises(SandboxError, match="MY_SETTING"):
        check_caller_variable("MY_SETTING", value)


def test_a_host_secret_smuggled_under_another_name_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "plain-looking-token-value")
    with pytest.raises(SandboxError, match="HARMLESS"):
        check_caller_variable("HARMLESS", "prefix-plain-looking-token-value")


@pytest.mark.parametrize(
    "name", ["PYTHONPATH", "COVERAGE_FILE", "GIT_AUTHOR_NAME", "PYTEST_ADDOPTS", "DJANGO_SETTINGS"]
)
def test_ordinary_names_pass(name: str) -> None:
    check_caller_variable(name, "src:tests")


def test_run_refuses_a_secret_before_starting_or_touching_anything(work: Path) -> None:
    work.chmod(0o700)
    with pytest.raises(SandboxError, match="GITHUB_TOKEN"):
        run(["touch", "started"], work, 10, env={"GITHUB_TOKEN": "x"})
    assert not (work / "started").exists()
    assert work.stat().st_mode & 0o777 == 0o700


def test_environment_is_the_allow_list_plus_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOMETHING_FROM_THE_HOST", "1")
    env = sandbox_env("/tmp", "/tmp", {"PYTHONPATH": "src", "PATH": "/opt/tool/bin"})
    assert "SOMETHING_FROM_THE_HOST" not in env
    assert env["PYTHONPATH"] == "src"
    assert env["PATH"] == f"{Path(sys.executable).parent}:/opt/tool/bin"
    assert env["HOME"] == "/tmp" and env["LC_ALL"] == "C.UTF-8" and env["TZ"] == "UTC"
