"""What the sandboxed command cannot reach: the network, the host's secrets and files."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app.errors import SandboxError
from app.sandbox import run
from app.sandbox.constants import ETC_FILES

REPO_ROOT = Path(__file__).resolve().parents[3]

CONNECT = """
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2).close()
    print("connected")
except OSError as exc:
    print("refused", type(exc).__name__)
"""


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A real listening socket on the host's loopback."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.setblocking(False)
        yield server


def _accepted(server: socket.socket) -> bool:
    try:
        conn, _ = server.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


def test_loopback_of_the_host_is_unreachable(
    bwrap: str, work: Path, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    result = run([sys.executable, "-c", CONNECT, str(port)], work, 20)
    assert result.stdout.startswith("refused"), result
    assert not _accepted(listener)
    assert result.backend == "bubblewrap" and result.warnings == ()


def test_fallback_reaches_the_network_and_says_so(
    work: Path, listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without bubblewrap the same probe connects: the warning is the only protection."""
    monkeypatch.setenv("FIXWURX_SANDBOX", "subprocess")
    port = listener.getsockname()[1]
    result = run([sys.executable, "-c", CONNECT, str(port)], work, 20)
    assert result.stdout.startswith("connected")
    assert result.backend == "subprocess"
    assert any("network isolation is OFF" in w for w in result.warnings)


def test_host_secrets_are_absent_from_the_environment(
    backend: str, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = {
        "GITHUB_TOKEN": "ghp_" + uuid.uuid4().hex,
        "OPENAI_API_KEY": "sk-" + uuid.uuid4().hex,
        "PRIVATE_KEY": "-----BEGIN RSA PRIVATE KEY-----" + uuid.uuid4().hex,
        "DATABASE_URL": "postgresql://u:" + uuid.uuid4().hex + "@db/x",
        "REDIS_URL": "redis://" + uuid.uuid4().hex,
        "SENTRY_DSN": "https://" + uuid.uuid4().hex + "@sentry",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    dump = "import json, os; print(json.dumps(dict(os.environ)))"
    result = run([sys.executable, "-c", dump], work, 20, env={"COVERAGE_FILE": "cov.data"})
    inside = json.loads(result.stdout)
    assert not set(secrets) & set(inside)
    assert not any(value in result.stdout for value in secrets.values())
    assert inside["COVERAGE_FILE"] == "cov.data"
    assert inside["PYTHONHASHSEED"] == "0"


def test_python_on_path_is_this_venv(backend: str, work: Path) -> None:
    show = "import sys; print(sys.prefix); print(sys.executable)"
    result = run(["python", "-c", show], work, 20)
    prefix, executable = result.stdout.splitlines()
    assert prefix == sys.prefix
    assert Path(executable).parent == Path(sys.executable).parent


def test_write_outside_the_work_copy_does_not_reach_the_host(bwrap: str, work: Path) -> None:
    outside = work.parent / "outside.txt"
    in_repo = REPO_ROOT / f".sandbox-escape-{uuid.uuid4().hex}"
    script = """
import sys
for target in sys.argv[1:]:
    try:
        open(target, "w").write("escaped")
        print("wrote", target)
    except OSError as exc:
        print("denied", target, exc.errno)
open("inside.txt", "w").write("ok")
"""
    targets = [str(outside), str(in_repo), "/usr/fixwurx-escape", "/etc/fixwurx-escape"]
    result = run([sys.executable, "-c", script, *targets], work, 20)
    assert result.returncode == 0, result
    assert (work / "inside.txt").read_text() == "ok"
    for target in targets:
        assert not Path(target).exists(), f"{target} was written from inside the sandbox"
    assert "denied /usr/fixwurx-escape 30" in result.stdout  # EROFS


def test_host_files_outside_the_allow_list_are_invisible(
    bwrap: str, work: Path, tmp_path: Path
) -> None:
    sibling = tmp_path / "secret.txt"
    sibling.write_text("sibling-secret")
    home_secret = Path("/root") / f".fixwurx-test-key-{uuid.uuid4().hex}"
    try:
        home_secret.write_text("root-secret")
    except OSError:
        pytest.skip("cannot write under /root as this user")
    targets = [str(sibling), str(home_secret), str(REPO_ROOT / "pyproject.toml"), "/etc/shadow"]
    script = """
import sys
for target in sys.argv[1:]:
    try:
        print("read", target, open(target).read()[:20])
    except OSError as exc:
        print("hidden", target, exc.errno)
"""
    try:
        result = run([sys.executable, "-c", script, *targets], work, 20)
    finally:
        home_secret.unlink()
    assert Path(targets[2]).exists() and Path(targets[3]).exists()
    for target in targets:
        assert f"hidden {target} 2" in result.stdout, result.stdout  # ENOENT: not even there
    assert "sibling-secret" not in result.stdout and "root-secret" not in result.stdout


def test_readonly_paths_are_readable_not_writable(bwrap: str, work: Path, tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "plugin.py").write_text("NAME = 'plugin'\n")
    vendored = work / "vendor"  # nested in the work copy: must stay read-only all the same
    vendored.mkdir()
    script = """
import sys
sys.path.insert(0, sys.argv[1])
import plugin
print(plugin.NAME)
for target in (sys.argv[1] + "/new.py", "vendor/new.py"):
    try:
        open(target, "w").write("x")
        print("wrote", target)
    except OSError as exc:
        print("denied", exc.errno)
open("ok.txt", "w").write("ok")
"""
    result = run(
        [sys.executable, "-c", script, str(plugins)],
        work,
        20,
        readonly_paths=[plugins, vendored],
    )
    assert result.stdout == "plugin\ndenied 30\ndenied 30\n", result
    assert (work / "ok.txt").exists()
    assert not (plugins / "new.py").exists() and not (vendored / "new.py").exists()


def test_missing_readonly_path_is_named(bwrap: str, work: Path, tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="nowhere"):
        run(["true"], work, 10, readonly_paths=[tmp_path / "nowhere"])


def test_host_processes_cannot_be_signalled(backend: str, work: Path, marker: str) -> None:
    """The command runs as another uid (and, in bubblewrap, another pid namespace)."""
    if os.geteuid() != 0:
        pytest.skip("per-run uids need root")
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", marker])
    try:
        script = "import os, sys\ntry:\n    os.kill(int(sys.argv[1]), 9)\n    print('killed')\n"
        script += "except OSError as exc:\n    print('refused', type(exc).__name__)\n"
        result = run([sys.executable, "-c", script, str(victim.pid)], work, 20)
        assert result.stdout.startswith("refused"), result
        assert victim.poll() is None
    finally:
        victim.kill()
        victim.wait()


def test_git_works_in_a_root_owned_private_work_copy(bwrap: str, tmp_path: Path) -> None:
    """Like the chain's copies: a 0700 mkdtemp() parent, owned by root, not by the sandbox uid."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    work = private / "work"
    work.mkdir(mode=0o700)
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    (work / "a.txt").write_text("a\n")
    result = run(["git", "status", "--porcelain"], work, 20)
    assert result.ok, result
    assert result.stdout == "?? a.txt\n"


def test_git_works_in_the_fallback_under_a_traversable_parent(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIXWURX_SANDBOX", "subprocess")
    with tempfile.TemporaryDirectory() as tmp:  # 0700 itself, under the 1777 /tmp
        subprocess.run(["git", "init", "-q", tmp], check=True)
        Path(tmp, "a.txt").write_text("a\n")
        result = run(["git", "status", "--porcelain"], Path(tmp), 20)
    assert result.ok, result
    assert result.stdout == "?? a.txt\n"


def test_home_is_not_the_work_copy(backend: str, work: Path) -> None:
    """Tools that write ~/.cache must not leave files that would end up in a diff."""
    script = "import os; open(os.path.expanduser('~/.tool-cache'), 'w').write('x')"
    result = run([sys.executable, "-c", script], work, 20)
    assert result.ok, result
    assert list(work.iterdir()) == []


def test_etc_holds_only_the_allow_listed_public_files(bwrap: str, work: Path) -> None:
    show = (
        "import json, os; print(json.dumps(os.listdir('/etc')), os.path.exists('/etc/ssl/private'))"
    )
    result = run([sys.executable, "-c", show], work, 20)
    listing, private = result.stdout.rsplit(" ", 1)
    names = set(json.loads(listing))
    assert names <= {Path(p).name for p in ETC_FILES}, names
    assert "passwd" in names and "shadow" not in names
    assert private.strip() == "False"


def test_fallback_keeps_no_capability_and_cannot_read_shadow(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without bubblewrap the host is visible: the fresh uid must not read it past permissions."""
    if os.geteuid() != 0:
        pytest.skip("per-run uids need root")
    monkeypatch.setenv("FIXWURX_SANDBOX", "subprocess")
    shadow = run(["cat", "/etc/shadow"], work, 20)
    assert shadow.returncode != 0 and "Permission denied" in shadow.stderr, shadow
    caps = run(["grep", "^Cap", "/proc/self/status"], work, 20)
    assert caps.ok, caps
    for line in caps.stdout.splitlines():  # CapInh, CapPrm, CapEff, CapBnd, CapAmb
        assert line.split()[1] == "0000000000000000", caps.stdout


def test_fallback_writes_the_work_copy_and_gives_it_back(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The uid owns the work copy during the call only; afterwards it is ours again."""
    if os.geteuid() != 0:
        pytest.skip("per-run uids need root")
    monkeypatch.setenv("FIXWURX_SANDBOX", "subprocess")
    (work / "old.txt").write_text("old\n")
    result = run(["sh", "-c", "echo new > new.txt && echo more >> old.txt && mkdir d"], work, 20)
    assert result.ok, result
    assert (work / "old.txt").read_text() == "old\nmore\n"
    for path in (work, work / "old.txt", work / "new.txt", work / "d"):
        assert path.lstat().st_uid == os.geteuid(), path


def test_fallback_reaches_readonly_paths_under_a_private_parent(
    work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without DAC_OVERRIDE the uid needs search permission above an exposed path."""
    if os.geteuid() != 0:
        pytest.skip("per-run uids need root")
    monkeypatch.setenv("FIXWURX_SANDBOX", "subprocess")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    shared = private / "env"
    shared.mkdir(mode=0o755)
    (shared / "lib.txt").write_text("shared\n")
    result = run(["cat", str(shared / "lib.txt")], work, 20, readonly_paths=[shared])
    assert result.ok, result
    assert result.stdout == "shared\n"


def test_fallback_does_not_lend_a_file_that_has_a_name_outside_the_work_copy(
    work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.geteuid() != 0:
        pytest.skip("per-run uids need root")
    monkeypatch.setenv("FIXWURX_SANDBOX", "subprocess")
    host = tmp_path / "host-file"
    host.write_text("host\n")
    os.link(host, work / "linked")  # as a test could have made it in an earlier call
    result = run(["sh", "-c", "echo more >> linked"], work, 20)
    assert not result.ok and "Permission denied" in result.stderr, result
    assert host.read_text() == "host\n" and host.stat().st_uid == os.geteuid()


def test_fallback_runs_in_one_work_copy_at_once_all_can_write(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.geteuid() != 0:
        pytest.skip("per-run uids need root")
    monkeypatch.setenv("FIXWURX_SANDBOX", "subprocess")
    script = "import sys, time; time.sleep(0.2); open(f'out-{sys.argv[1]}', 'w').write('x')"

    def one(n: int) -> bool:
        return run([sys.executable, "-c", script, str(n)], work, 30).ok

    with ThreadPoolExecutor(3) as pool:
        assert all(pool.map(one, range(3)))
    assert sorted(p.name for p in work.iterdir()) == ["out-0", "out-1", "out-2"]
