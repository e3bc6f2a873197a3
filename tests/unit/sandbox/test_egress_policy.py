"""The egress proxy's rules, tested against the proxy itself over its unix socket (no sandbox).

Each request goes to a real listener on 127.0.0.1, so "refused" means the listener never saw
a connection, not merely that an error came back.
"""

from __future__ import annotations

import base64
import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from app.sandbox import egress
from app.sandbox.egress import EgressProxy
from app.sandbox.egress_policy import EgressPolicy, refused_address
from app.sandbox.egress_upstream import Upstream, upstream_for


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "0.0.0.0",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.100.100.200",
        "169.254.169.254",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::127.0.0.1",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::",
        "fe80::1",
        "fe80::1%eth0",
        "fd00::1",
        "ff02::1",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert refused_address(address) is not None


@pytest.mark.parametrize("address", ["151.101.0.223", "2a04:4e42::223", "203.0.113.80", "8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert refused_address(address) is None


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A real listening socket on the host's loopback, polled for connections."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.setblocking(False)
        yield server


def _accepted(server: socket.socket) -> bool:
    time.sleep(0.1)
    try:
        conn, _ = server.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


def _ask(proxy: EgressProxy, request: bytes, *, wait: float = 5.0, whole: bool = False) -> bytes:
    with socket.socket(socket.AF_UNIX) as client:
        client.settimeout(wait)
        client.connect(proxy.socket_path)
        with contextlib.suppress(BrokenPipeError):  # the proxy may answer before reading
            client.sendall(request)
        answer = b""
        try:
            while chunk := client.recv(4096):
                answer += chunk
                if not whole:
                    break
        except TimeoutError:
            pass
        return answer


@pytest.mark.parametrize("target", ["localhost", "127.0.0.1", "[::ffff:127.0.0.1]"])
def test_a_listed_host_that_resolves_to_loopback_is_refused(
    listener: socket.socket, target: str
) -> None:
    port = listener.getsockname()[1]
    host = target.strip("[]")
    with EgressProxy(EgressPolicy.of([(host, port)])) as proxy:
        answer = _ask(proxy, f"CONNECT {target}:{port} HTTP/1.1\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 403"), answer
    assert b"address" in answer
    assert not _accepted(listener)
    assert proxy.tunnels == [] and proxy.refusals


def test_ipv6_loopback_is_refused() -> None:
    with socket.socket(socket.AF_INET6) as server:
        server.bind(("::1", 0))
        server.listen(1)
        server.setblocking(False)
        port = server.getsockname()[1]
        with EgressProxy(EgressPolicy.of([("::1", port)])) as proxy:
            answer = _ask(proxy, f"CONNECT [::1]:{port} HTTP/1.1\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 403"), answer
        assert not _accepted(server)


def test_a_host_the_operator_named_may_be_private(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    policy = EgressPolicy.of([("localhost", port)], trusted=["localhost"])
    with EgressProxy(policy) as proxy:
        answer = _ask(proxy, f"CONNECT localhost:{port} HTTP/1.1\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 200"), answer
        assert _accepted(listener)
    assert proxy.tunnels == [f"localhost:{port}"]


def test_an_unlisted_host_or_port_is_refused_before_any_lookup(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    policy = EgressPolicy.of([("localhost", port + 1)], trusted=["localhost"])
    with EgressProxy(policy) as proxy:
        for request in (
            f"CONNECT localhost:{port} HTTP/1.1\r\n\r\n",
            "CONNECT 169.254.169.254:80 HTTP/1.1\r\n\r\n",
            "GET http://10.1.2.3/latest/meta-data HTTP/1.1\r\nHost: 10.1.2.3\r\n\r\n",
            f"POST http://localhost:{port}/ HTTP/1.1\r\n\r\n",
        ):
            answer = _ask(proxy, request.encode())
            assert answer.split(b" ")[1] in (b"403", b"405"), (request, answer)
    assert not _accepted(listener)
    assert len(proxy.refusals) == 4
    assert any("169.254.169.254:80 is not a configured package index" in r for r in proxy.refusals)


def test_a_plain_http_index_is_fetched_through_get() -> None:
    class Index(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f"index page {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Index)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        policy = EgressPolicy.of([("127.0.0.1", port)], trusted=["127.0.0.1"])
        with EgressProxy(policy) as proxy:
            request = f"GET http://127.0.0.1:{port}/simple/six/ HTTP/1.1\r\nHost: x\r\n\r\n"
            answer = _ask(proxy, request.encode(), whole=True)
    finally:
        server.shutdown()
    assert answer.startswith(b"HTTP/1.0 200") and answer.endswith(b"index page /simple/six/")


def test_a_huge_or_slow_header_is_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(egress, "HEADER_TIMEOUT_S", 0.5)
    with EgressProxy(EgressPolicy.pypi()) as proxy:
        huge = b"CONNECT pypi.org:443 HTTP/1.1\r\nX: " + b"a" * (egress.MAX_HEADER_BYTES + 10)
        assert _ask(proxy, huge).startswith(b"HTTP/1.1 431")
        started = time.monotonic()
        assert _ask(proxy, b"CONNECT pypi.org:443 HTTP/1.1\r\n").startswith(b"HTTP/1.1 408")
        assert time.monotonic() - started < 3


def test_connections_beyond_the_bound_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(egress, "MAX_CONNECTIONS", 2)
    with EgressProxy(EgressPolicy.pypi()) as proxy:
        held = []
        for _ in range(2):  # two clients that never finish their header hold both slots
            sock = socket.socket(socket.AF_UNIX)
            sock.connect(proxy.socket_path)
            held.append(sock)
        time.sleep(0.2)
        answer = _ask(proxy, b"CONNECT pypi.org:443 HTTP/1.1\r\n\r\n")
        for sock in held:
            sock.close()
    assert answer.startswith(b"HTTP/1.1 503"), answer


def test_an_operators_upstream_proxy_is_chained_with_its_credentials_kept_outside(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bytes] = []

    def upstream(server: socket.socket) -> None:
        conn, _ = server.accept()
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(1024)
            seen.append(head)
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            conn.sendall(conn.recv(1024))  # echo one message through the tunnel

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        threading.Thread(target=upstream, args=(server,), daemon=True).start()
        port = server.getsockname()[1]
        monkeypatch.setenv("HTTPS_PROXY", f"http://corp:p%40ss@127.0.0.1:{port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with EgressProxy(EgressPolicy.of([("index.invalid", 443)])) as proxy:
            refused = _ask(proxy, b"CONNECT other.invalid:443 HTTP/1.1\r\n\r\n")
            with socket.socket(socket.AF_UNIX) as client:
                client.settimeout(5)
                client.connect(proxy.socket_path)
                client.sendall(b"CONNECT index.invalid:443 HTTP/1.1\r\n\r\n")
                answer = client.recv(1024)
                client.sendall(b"ping")
                echoed = client.recv(1024)
    assert refused.startswith(b"HTTP/1.1 403")
    assert answer.startswith(b"HTTP/1.1 200") and echoed == b"ping"
    assert len(seen) == 1 and seen[0].startswith(b"CONNECT index.invalid:443 HTTP/1.1\r\n")
    assert b"Proxy-Authorization: Basic " + base64.b64encode(b"corp:p@ss") in seen[0]


def test_no_proxy_hosts_are_reached_directly() -> None:
    env = {"HTTPS_PROXY": "http://proxy.corp:3128", "NO_PROXY": "localhost,.example.com"}
    assert upstream_for("files.example.com", tunnel=True, environ=env) is None
    assert upstream_for("pypi.org", tunnel=True, environ=env) == Upstream("proxy.corp", 3128)
    assert upstream_for("pypi.org", tunnel=False, environ=env) is None  # no HTTP_PROXY


def test_an_idle_tunnel_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(egress, "IDLE_TIMEOUT_S", 1.0)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        policy = EgressPolicy.of([("127.0.0.1", port)], trusted=["127.0.0.1"])
        with EgressProxy(policy) as proxy, socket.socket(socket.AF_UNIX) as client:
            client.settimeout(10)
            client.connect(proxy.socket_path)
            client.sendall(f"CONNECT 127.0.0.1:{port} HTTP/1.1\r\n\r\n".encode())
            assert client.recv(1024).startswith(b"HTTP/1.1 200")
            started = time.monotonic()
            assert client.recv(1024) == b""  # closed by the proxy, not by the peer
            assert 0.9 < time.monotonic() - started < 5


def test_a_step_that_retries_a_refused_host_is_logged_once_and_recorded_boundedly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    proxy = EgressProxy(EgressPolicy.pypi())
    caplog.set_level("WARNING", logger=egress.__name__)
    for _ in range(egress.MAX_REFUSALS_KEPT + 50):
        left, right = socket.socketpair()
        with left, right:
            proxy._refuse(left, "403 Forbidden", "10.0.0.1:80 is not a configured package index")
    assert len(proxy.refusals) == egress.MAX_REFUSALS_KEPT
    logged = [r for r in caplog.records if "refused" in r.getMessage()]
    assert len(logged) == 1
