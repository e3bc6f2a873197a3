"""Install steps (Mounts(network=True)) reach the package index and nothing else.

Real bubblewrap, real listeners on the host's loopback (a TCP server and the session's private
Redis), and a real `uv pip install` from this machine's index in the same sandboxed run.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
import uv

from app.sandbox import Mounts, run
from app.sandbox.egress_policy import EgressPolicy

#: Tries the host's loopback port directly, then through the proxy the step is given.
PROBE = r"""
import os, socket, sys
port = int(sys.argv[1])
try:
    socket.create_connection(("127.0.0.1", port), timeout=3).close()
    print("direct: connected")
except OSError as exc:
    print("direct: refused", exc.errno)
proxy = os.environ["HTTPS_PROXY"].rsplit(":", 1)
for target in sys.argv[2:]:
    with socket.create_connection((proxy[0][len("http://"):], int(proxy[1])), timeout=10) as s:
        s.sendall(("CONNECT %s HTTP/1.1\r\n\r\n" % target).encode())
        print("proxy:", target, s.recv(200).split(b"\r\n")[0].decode())
"""

#: A Redis SET sent straight to the port, and through the proxy as a tunnel.
REDIS_SET = r"""
import os, socket, sys
port, key = int(sys.argv[1]), sys.argv[2]
command = ("*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$3\r\nyes\r\n" % (len(key), key)).encode()
try:
    with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
        s.sendall(command)
        print("direct:", s.recv(100))
except OSError as exc:
    print("direct: refused", exc.errno)
host, proxy_port = os.environ["HTTP_PROXY"][len("http://"):].rsplit(":", 1)
with socket.create_connection((host, int(proxy_port)), timeout=10) as s:
    s.sendall(("CONNECT 127.0.0.1:%d HTTP/1.1\r\n\r\n" % port).encode() + command)
    print("proxy:", s.recv(200))
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


def _network(egress: EgressPolicy | None = None, **kw: object) -> Mounts:
    return Mounts(network=True, host_python=True, egress=egress, **kw)  # type: ignore[arg-type]


def test_an_install_step_cannot_reach_a_loopback_listener_while_uv_installs_from_the_index(
    bwrap: str,
    work: Path,
    listener: socket.socket,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    port = listener.getsockname()[1]
    uv_bin = os.path.realpath(uv.find_uv_bin())
    script = (
        f"{sys.executable} -c '{PROBE}' {port} 127.0.0.1:{port} localhost:{port} "
        "169.254.169.254:80 10.1.2.3:443 files.pythonhosted.org:22; "
        f"{uv_bin} pip install -q --no-cache --target {work}/site --python {sys.executable} "
        "--index-url https://pypi.org/simple iniconfig==2.0.0"
    )
    caplog.set_level(logging.INFO, logger="app.sandbox.egress")
    result = run(
        ["/bin/sh", "-c", script], work, 240, mounts=_network(), readonly_paths=[Path(uv_bin)]
    )
    assert result.returncode == 0, result
    assert "direct: refused" in result.stdout
    assert "direct: connected" not in result.stdout
    targets = (f"127.0.0.1:{port}", f"localhost:{port}", "169.254.169.254:80", "10.1.2.3:443")
    for target in (*targets, "files.pythonhosted.org:22"):
        assert f"proxy: {target} HTTP/1.1 403" in result.stdout, result.stdout
        assert f"refused: {target} is not a configured package index" in " ".join(result.warnings)
    assert not _accepted(listener)
    # ...while the real index answered through the proxy in the same run.
    assert (work / "site" / "iniconfig" / "__init__.py").is_file()
    tunnels = [r.getMessage() for r in caplog.records if "connected to" in r.getMessage()]
    assert any("pypi.org:443" in t for t in tunnels), tunnels


def test_an_install_step_cannot_set_a_key_in_the_hosts_redis(
    bwrap: str, work: Path, redis_url: str, redis_conn: object
) -> None:
    port = urlparse(redis_url).port
    key = f"planted-{uuid.uuid4().hex}"
    result = run([sys.executable, "-c", REDIS_SET, str(port), key], work, 60, mounts=_network())
    assert "direct: refused" in result.stdout, result
    assert "proxy: b'HTTP/1.1 403" in result.stdout, result
    assert redis_conn.get(key) is None  # type: ignore[attr-defined]


def test_metadata_and_private_addresses_are_refused_even_when_listed(
    bwrap: str, work: Path, listener: socket.socket
) -> None:
    """Listed but not named by the operator as trusted: the address check still refuses."""
    port = listener.getsockname()[1]
    policy = EgressPolicy.of(
        [("169.254.169.254", 80), ("10.1.2.3", 443), ("localhost", port), ("::1", port)]
    )
    result = run(
        [
            sys.executable,
            "-c",
            PROBE,
            str(port),
            "169.254.169.254:80",
            "10.1.2.3:443",
            f"localhost:{port}",
            f"[::1]:{port}",
        ],
        work,
        60,
        mounts=_network(policy),
    )
    assert result.stdout.count("HTTP/1.1 403") == 4, result
    reasons = " ".join(result.warnings)
    assert "link-local" in reasons and "private" in reasons and "loopback" in reasons
    assert not _accepted(listener)


def test_test_runs_get_no_proxy_at_all(bwrap: str, work: Path) -> None:
    result = run(
        [sys.executable, "-c", "import os; print(os.environ.get('HTTPS_PROXY'))"], work, 20
    )
    assert result.stdout.strip() == "None"
