"""Per-repository environments, built for real: uv, the sandbox, small packages from the index.

Every environment here is built with uv in the sandbox from PyPI (the session shares one cache,
tests/conftest.py), and every verdict comes from the repository's own tests running in it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.environments import EnvironmentBuildError, EnvironmentRequest, prepare
from app.environments import cache as env_cache
from app.environments.detect import detect
from app.testing import testcmd
from app.testing.testcmd import parse
from app.testing.testrun import run_tests

pytestmark = pytest.mark.slow

#: The repository's tests look for FixWurx's own packages: none may be importable.
ISOLATION_TEST = """import importlib.util
import sys


def test_fixwurx_packages_are_out_of_reach():
    found = [m for m in ("flask", "rq", "sqlalchemy", "app.sandbox") if _importable(m)]
    assert found == []


def _importable(name):
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def test_runs_on_its_own_interpreter():
    assert "/envs/" in sys.executable
"""


def _repo(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _request(cache: Path, **changes: object) -> EnvironmentRequest:
    return EnvironmentRequest(cache_dir=cache, **changes)  # type: ignore[arg-type]


def _run(
    root: Path, command: testcmd.TestCommand, cache: Path, **changes: object
) -> dict[str, str]:
    request = _request(cache, probe=command.probe(), **changes)
    bound = command.in_environment(prepare(root, request))
    run = run_tests(root, bound, timeout=120)
    return {o.test_id: o.outcome for o in run.outcomes}


@pytest.fixture
def cache(environment_cache: Path) -> Path:
    return environment_cache


def test_a_package_from_requirements_txt_is_installed_and_fixwurx_is_not_importable(
    tmp_path: Path, cache: Path
) -> None:
    root = _repo(
        tmp_path / "repo",
        {
            "requirements.txt": "tabulate\n",
            "tests/test_table.py": (
                "from tabulate import tabulate\n\n\n"
                "def test_table():\n    assert 'a' in tabulate([['a', 1]])\n"
            ),
            "tests/test_isolation.py": ISOLATION_TEST,
        },
    )
    outcomes = _run(root, parse("pytest -q"), cache)
    assert outcomes == {
        "tests/test_table.py::test_table": "passed",
        "tests/test_isolation.py::test_fixwurx_packages_are_out_of_reach": "passed",
        "tests/test_isolation.py::test_runs_on_its_own_interpreter": "passed",
    }


def test_an_old_pytest_pinned_by_the_repository_runs_its_tests(tmp_path: Path, cache: Path) -> None:
    root = _repo(
        tmp_path / "repo",
        {
            "requirements-dev.txt": "pytest==7.4.4\n",
            "tests/test_version.py": (
                "import pytest\n\n\ndef test_own_pytest():\n"
                "    assert pytest.__version__ == '7.4.4'\n"
            ),
        },
    )
    request = _request(cache, probe=parse("pytest -q").probe())
    env = prepare(root, request)
    assert "pytest" not in env.tools_added and "pytest-timeout" in env.tools_added
    run = run_tests(root, parse("pytest -q").in_environment(env), timeout=120)
    assert [(o.test_id, o.outcome) for o in run.outcomes] == [
        ("tests/test_version.py::test_own_pytest", "passed")
    ]


def test_the_cache_is_reused_and_rebuilt_when_a_dependency_file_changes(
    tmp_path: Path, cache: Path
) -> None:
    root = _repo(
        tmp_path / "repo",
        {
            "pyproject.toml": '[project]\nname = "demo"\nversion = "1"\ndependencies = ["termcolor"]\n',
            "tests/test_it.py": "import termcolor\n\n\ndef test_it():\n    assert termcolor\n",
        },
    )
    first = prepare(root, _request(cache))
    again = prepare(root, _request(cache))
    assert detect(root).sources == ("pyproject.toml",)
    assert (again.reused, again.venv) == (True, first.venv)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\ndependencies = ["termcolor", "tabulate"]\n'
    )
    changed = prepare(root, _request(cache))
    assert changed.reused is False and changed.venv != first.venv
    assert first.venv.is_dir()  # the old one stays until the cache is full


def test_a_setup_command_builds_the_environment(tmp_path: Path, cache: Path) -> None:
    root = _repo(
        tmp_path / "repo",
        {"tests/test_it.py": "import termcolor\n\n\ndef test_it():\n    assert termcolor\n"},
    )
    command = parse("pytest -q")
    outcomes = _run(root, command, cache, setup=("pip install -q termcolor",))
    assert outcomes == {"tests/test_it.py::test_it": "passed"}


def test_a_failing_setup_command_is_an_error_naming_the_step(tmp_path: Path, cache: Path) -> None:
    root = _repo(tmp_path / "repo", {"tests/test_it.py": "def test_it():\n    pass\n"})
    request = _request(cache, setup=("true", "echo broken >&2; exit 3"))
    with pytest.raises(EnvironmentBuildError) as caught:
        prepare(root, request)
    message = str(caught.value)
    assert "setup step 2 `echo broken >&2; exit 3` failed (exit 3)" in message
    assert "broken" in message
    assert not list((cache / "envs").glob("*/src"))  # nothing half-built is left to reuse


def test_a_hanging_setup_command_is_stopped_and_named(tmp_path: Path, cache: Path) -> None:
    root = _repo(tmp_path / "repo", {"tests/test_it.py": "def test_it():\n    pass\n"})
    request = _request(cache, setup=("sleep 600",), build_timeout=3.0)
    with pytest.raises(EnvironmentBuildError, match=r"setup step 1 `sleep 600` did not finish"):
        prepare(root, request)


def test_install_steps_get_the_operators_index_settings_but_no_secret(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_DEFAULT_TIMEOUT", "77")
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_" + "x" * 36)
    root = _repo(tmp_path / "repo", {"tests/test_it.py": "def test_it():\n    pass\n"})
    dump = "env | grep -E 'PIP_DEFAULT_TIMEOUT|TOKEN|ghs_' >&2; exit 9"
    with pytest.raises(EnvironmentBuildError) as caught:
        prepare(root, _request(cache, setup=(dump,)))
    seen = str(caught.value)
    assert "PIP_DEFAULT_TIMEOUT=77" in seen
    assert "GITHUB_TOKEN=" not in seen and os.environ["GITHUB_TOKEN"] not in seen


def test_two_repositories_never_share_an_environment_or_the_uv_cache(
    tmp_path: Path, cache: Path
) -> None:
    """One repository's install steps run its own code with uv's cache writable: a wheel or file
    it plants there must never reach another repository's build, even with the same files."""
    files = {"tests/test_it.py": "def test_it():\n    pass\n"}
    # The same step in both: it fails if it finds what an earlier build left in its uv cache.
    plant = 'test ! -e "$UV_CACHE_DIR/planted" && touch "$UV_CACHE_DIR/planted"'
    first = prepare(_repo(tmp_path / "a", files), _request(cache, setup=(plant,), scope="repo:a"))
    second = prepare(_repo(tmp_path / "b", files), _request(cache, setup=(plant,), scope="repo:b"))
    assert second.reused is False and second.venv != first.venv
    planted = sorted(p.parent.name for p in (cache / "uv").glob("*/planted"))
    assert planted == sorted([env_cache.scope_id("repo:a"), env_cache.scope_id("repo:b")])


def test_editing_the_script_a_setup_command_runs_builds_anew(tmp_path: Path, cache: Path) -> None:
    root = _repo(
        tmp_path / "repo",
        {"tests/test_it.py": "def test_it():\n    pass\n", "scripts/setup.sh": "true\n"},
    )
    request = _request(cache, setup=("bash scripts/setup.sh",), scope="repo:script")
    first = prepare(root, request)
    assert prepare(root, request).reused is True
    (root / "scripts" / "setup.sh").write_text("echo changed\n")
    changed = prepare(root, request)
    assert changed.reused is False and changed.venv != first.venv
