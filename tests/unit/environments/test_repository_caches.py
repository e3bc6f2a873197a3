"""Caches are per repository everywhere: the CLI keys them by the origin URL, else the path.

An install step runs the repository's own code with its uv cache writable, and uv copies cached
archives into later venvs unchecked: what one repository plants there must never reach another.
Real builds: uv in the sandbox, through the egress proxy, from this machine's index.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from app import sandbox
from app.environments import EnvironmentBuildError, EnvironmentRequest, prepare
from app.environments import build as env_build
from app.environments.scopes import checkout_scope
from app.local.fix import FixRequest, _environment_request

pytestmark = pytest.mark.slow

#: Plants a .pth where uv keeps unpacked wheels, and fails if one is already there.
PLANT = 'test ! -e "$UV_CACHE_DIR/planted.pth" && echo "import os" > "$UV_CACHE_DIR/planted.pth"'


def _checkout(path: Path, remote: str | None = None) -> Path:
    (path / "tests").mkdir(parents=True)
    (path / "tests" / "test_it.py").write_text("def test_it():\n    pass\n")
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    if remote:
        subprocess.run(["git", "-C", str(path), "remote", "add", "origin", remote], check=True)
    return path


def _cli_request(path: Path, setup: tuple[str, ...]) -> EnvironmentRequest:
    request = _environment_request(
        FixRequest(
            path=path,
            test_command=None,
            issue_file=None,
            as_json=False,
            apply_fix=False,
            timeout=60,
            bundle_out=None,
            setup=setup,
        )
    )
    assert request is not None
    return request


def test_the_cli_never_hands_one_repositorys_uv_cache_to_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENVIRONMENT_CACHE_DIR", str(tmp_path / "cache"))
    first = _checkout(tmp_path / "a")
    second = _checkout(tmp_path / "b", "https://github.com/o/b.git")
    assert _cli_request(first, ()).scope == f"path:{first.resolve()}"
    assert _cli_request(second, ()).scope == "remote:https://github.com/o/b.git"
    prepare(first, _cli_request(first, (PLANT,)))
    # The same step in B fails if it finds A's .pth: B's cache must not be A's.
    prepare(second, _cli_request(second, (PLANT,)))
    planted = sorted((tmp_path / "cache" / "uv").glob("*/planted.pth"))
    assert len(planted) == 2 and planted[0].parent != planted[1].parent


def test_a_request_without_a_scope_shares_no_cache(tmp_path: Path) -> None:
    for name in ("a", "b"):  # the second build fails if it finds the first one's .pth
        root = _checkout(tmp_path / name)
        prepare(root, EnvironmentRequest(setup=(PLANT,), cache_dir=tmp_path / "cache"))
    assert len(list((tmp_path / "cache" / "uv").glob("*/planted.pth"))) == 2


def test_the_cli_scope_is_the_origin_url_without_credentials_else_the_path(tmp_path: Path) -> None:
    one = _checkout(tmp_path / "one", "https://user:ghp_secret@github.com/o/r.git")
    two = _checkout(tmp_path / "two", "https://github.com/o/r.git")
    plain = _checkout(tmp_path / "plain")
    assert checkout_scope(one) == checkout_scope(two) == "remote:https://github.com/o/r.git"
    assert checkout_scope(plain) == f"path:{plain.resolve()}"
    assert checkout_scope(tmp_path / "a") != checkout_scope(tmp_path / "b")


def test_a_step_that_overfills_the_uv_cache_is_reported_and_the_cache_emptied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIXWURX_UV_CACHE_MAX_MB", "5")
    root = _checkout(tmp_path / "repo")
    fill = 'head -c 20000000 /dev/zero > "$UV_CACHE_DIR/blob"'
    request = EnvironmentRequest(setup=(fill,), scope="repo:fill", cache_dir=tmp_path / "cache")
    env = prepare(root, request)
    assert any("over its cap of 5 MB" in note for note in env.notes), env.notes
    assert (
        sum(f.stat().st_size for f in (tmp_path / "cache" / "uv").rglob("*") if f.is_file()) < 5e6
    )


def test_a_step_that_writes_past_its_disk_limit_into_the_uv_cache_is_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        env_build, "BUILD_LIMITS", sandbox.Limits(memory_mb=4096, processes=512, disk_mb=20)
    )
    root = _checkout(tmp_path / "repo")
    flood = (
        'for i in $(seq 1 60); do head -c 5000000 /dev/zero > "$UV_CACHE_DIR/f$i"; sleep 0.1; done'
    )
    request = EnvironmentRequest(setup=(flood,), scope="repo:flood", cache_dir=tmp_path / "cache")
    with pytest.raises(EnvironmentBuildError, match="over its disk limit of 20 MiB"):
        prepare(root, request)


def test_a_step_that_reaches_for_an_unlisted_host_fails_naming_it(tmp_path: Path) -> None:
    root = _checkout(tmp_path / "repo")
    reach = (
        'python3 -c "import urllib.request; '
        "urllib.request.urlopen('http://169.254.169.254/latest/meta-data/', timeout=10)\""
    )
    request = EnvironmentRequest(setup=(reach,), scope="repo:reach", cache_dir=tmp_path / "cache")
    with pytest.raises(EnvironmentBuildError) as caught:
        prepare(root, request)
    message = str(caught.value)
    assert "egress proxy refused: 169.254.169.254:80 is not a configured package index" in message
    assert "FIXWURX_EGRESS_HOSTS" in message
