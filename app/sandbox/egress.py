"""The egress proxy: an install step's only way out of its network namespace.

Install steps get their own network namespace (bubblewrap's `--unshare-net`): no route, no
host loopback, no abstract unix sockets of the host. Their one door is this proxy, running in
FixWurx's own process for the length of one step. It listens on a unix socket in a directory
only this process can reach (0700, outside every writable bind); the socket file alone is
bound into the sandbox. Inside, a tiny stdlib forwarder (egress_forwarder.py, started by the
sandboxed command line before the step's own command) relays 127.0.0.1:PORT of the sandbox's
own namespace to that socket, and HTTPS_PROXY/HTTP_PROXY/ALL_PROXY point at it.

The proxy speaks two requests: `CONNECT host:port` (a TCP tunnel: TLS stays end to end, so the
CA bundle settings keep working) and an absolute-form `GET`/`HEAD http://...` for plain-HTTP
indexes. For either it checks the host and port against the policy (egress_policy.py),
resolves the name itself, refuses any non-public address unless the operator named that exact
host, and connects to the checked address (never re-resolving, so DNS rebinding gains nothing).
Anything else gets 403 or 405 and a log line. Connection count, header size, the time to send
a header and idle time are bounded, so a step cannot stall or swell FixWurx's process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.sandbox.egress_policy import EgressPolicy, normal_host, refused_address
from app.sandbox.egress_upstream import Upstream, upstream_for

log = logging.getLogger(__name__)

#: Where the proxy's socket and the forwarder appear inside the sandbox.
INSIDE_DIR = "/run/fixwurx-egress"
INSIDE_SOCKET = f"{INSIDE_DIR}/proxy.sock"
INSIDE_FORWARDER = f"{INSIDE_DIR}/forward.py"
#: The forwarder's port on the sandbox's own loopback (its own namespace: nothing else is there).
INSIDE_PORT = 3128
#: Tunnels open at once per step; uv opens a few dozen at most.
MAX_CONNECTIONS = 64
#: A request line and its headers together; an index client sends a few hundred bytes.
MAX_HEADER_BYTES = 16 * 1024
#: Seconds a client has to send its whole header (a slow client cannot hold a slot).
HEADER_TIMEOUT_S = 10.0
#: Seconds a tunnel may pass no byte in either direction before it is closed.
IDLE_TIMEOUT_S = 120.0
#: Seconds to resolve and connect to an index host.
CONNECT_TIMEOUT_S = 15.0
_CHUNK = 64 * 1024
_FORWARDER = Path(__file__).with_name("egress_forwarder.py")


#: Refusals one step records (for its result's warnings); past this they are only answered.
MAX_REFUSALS_KEPT = 256


class _Refused(Exception):
    """A request the policy refuses; `status` is the HTTP answer."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Target:
    """Where a request wants to go, and what to send once connected.

    `first_bytes` go to the index itself. A plain-HTTP request sent to the operator's upstream
    proxy instead keeps its absolute form (`proxied_head`, without the blank line) and gains
    the upstream's credentials before `rest`, the bytes that followed the client's header.
    """

    host: str
    port: int
    tunnel: bool
    first_bytes: bytes = b""
    proxied_head: bytes = b""
    rest: bytes = b""


class EgressProxy:
    """One step's proxy: `with EgressProxy(policy) as proxy:` serves until the block ends.

    `refusals` and `tunnels` record, for the step's result and the tests, what was refused
    (with the reason) and where connections were made.
    """

    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy
        self.refusals: list[str] = []
        self.tunnels: list[str] = []
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._closed = threading.Event()
        self._dir = tempfile.mkdtemp(prefix="fixwurx-egress-")  # 0700: this process only
        self.socket_path = os.path.join(self._dir, "proxy.sock")
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._thread: threading.Thread | None = None

    def __enter__(self) -> EgressProxy:
        self._server.bind(self.socket_path)
        # The sandbox's uid connects through the bound socket file (connect needs write on it);
        # the directory above stays 0700, so nobody on the host finds it by path.
        os.chmod(self.socket_path, 0o666)
        self._server.listen(MAX_CONNECTIONS)
        self._thread = threading.Thread(target=self._accept, name="egress-proxy", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop accepting, cut every open tunnel, remove the socket."""
        self._closed.set()
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        with self._lock:
            for conn in list(self._open):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
        shutil.rmtree(self._dir, ignore_errors=True)

    def binds(self) -> list[tuple[str, str, str]]:
        """bwrap mounts: the socket and the forwarder, read-only, at their inside paths."""
        return [
            ("--ro-bind", self.socket_path, INSIDE_SOCKET),
            ("--ro-bind", str(_FORWARDER), INSIDE_FORWARDER),
        ]

    @staticmethod
    def wrap(python: str, argv: list[str]) -> list[str]:
        """`argv` behind the forwarder, which listens first and then execs `argv`."""
        return [python, "-I", "-S", INSIDE_FORWARDER, INSIDE_SOCKET, str(INSIDE_PORT), "--", *argv]

    @staticmethod
    def env() -> dict[str, str]:
        """The proxy variables uv, pip, curl and git read; NO_PROXY cleared (no direct route)."""
        url = f"http://127.0.0.1:{INSIDE_PORT}"
        names = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
        variables = {n: url for n in names} | {n.lower(): url for n in names}
        return {**variables, "PIP_PROXY": url, "NO_PROXY": "", "no_proxy": ""}

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            if not self._slots.acquire(blocking=False):
                self._refuse(conn, "503 Service Unavailable", "too many connections at once")
                conn.close()
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        with self._lock:
            self._open.add(client)
        try:
            target = self._request(client)
            upstream, first = self._connect(target)
            with self._lock:
                self._open.add(upstream)
            if target.tunnel:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if first:
                upstream.sendall(first)
            self._record_tunnel(f"{target.host}:{target.port}")
            _relay(client, upstream, self._closed)
        except _Refused as exc:
            self._refuse(client, exc.status, exc.reason)
        except OSError as exc:
            log.info("egress: a connection ended: %s", exc)
        finally:
            with self._lock:
                self._open.discard(client)
                if upstream is not None:
                    self._open.discard(upstream)
            for sock in (client, upstream):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.close()
            self._slots.release()

    def _request(self, client: socket.socket) -> Target:
        head, rest = _read_head(client)
        lines = head.split(b"\r\n")
        try:
            method, target, version = lines[0].decode("ascii").split(" ")
        except (UnicodeDecodeError, ValueError):
            raise _Refused("400 Bad Request", "not an HTTP proxy request") from None
        if method == "CONNECT":
            host, port = _split_host_port(target, default=443)
            self._check_listed(host, port)
            return Target(host, port, tunnel=True, first_bytes=rest)
        if method in ("GET", "HEAD") and target.lower().startswith("http://"):
            authority, _, path = target[len("http://") :].partition("/")
            host, port = _split_host_port(authority, default=80)
            self._check_listed(host, port)
            headers = [
                line
                for line in lines[1:]
                if line and not line.lower().startswith((b"proxy-", b"connection:"))
            ]
            tail = b"".join(h + b"\r\n" for h in headers) + b"Connection: close\r\n"
            direct = f"{method} /{path} {version}\r\n".encode("ascii") + tail + b"\r\n"
            proxied = f"{method} {target} {version}\r\n".encode("ascii") + tail
            return Target(host, port, False, direct + rest, proxied, rest)
        raise _Refused("405 Method Not Allowed", f"{method} {target[:100]} is not allowed")

    def _check_listed(self, host: str, port: int) -> None:
        if not self.policy.allows(host, port):
            raise _Refused("403 Forbidden", f"{host}:{port} is not a configured package index")

    def _connect(self, target: Target) -> tuple[socket.socket, bytes]:
        """A socket on the way to the target, and the bytes to send it first.

        Directly: connected to a checked address of the target (resolved here, once). Through
        the operator's upstream proxy when FixWurx's environment names one.
        """
        via = upstream_for(target.host, tunnel=target.tunnel)
        if via is not None:
            return _through(via, target)
        trusted = self.policy.is_trusted(target.host)
        try:
            infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise _Refused("502 Bad Gateway", f"{target.host} does not resolve: {exc}") from None
        reasons: list[str] = []
        for family, kind, proto, _name, address in infos:
            reason = None if trusted else refused_address(str(address[0]))
            if reason is not None:
                reasons.append(reason)
                continue
            sock = socket.socket(family, kind, proto)
            sock.settimeout(CONNECT_TIMEOUT_S)
            try:
                sock.connect(address)
            except OSError as exc:
                sock.close()
                reasons.append(f"{address[0]}: {exc}")
                continue
            sock.settimeout(None)
            return sock, target.first_bytes
        raise _Refused("403 Forbidden", f"{target.host}:{target.port}: " + "; ".join(reasons))

    def _refuse(self, client: socket.socket, status: str, reason: str) -> None:
        # The reason quotes what the step sent: no control character reaches a log line.
        reason = "".join(c if c.isprintable() else "?" for c in reason)[:300]
        with self._lock:  # a step may retry a refused host thousands of times: bounded, and
            kept = len(self.refusals) < MAX_REFUSALS_KEPT
            first = kept and reason not in self.refusals  # each reason logged once per step
            if kept:
                self.refusals.append(reason)
        if first:
            log.warning("egress: refused: %s", reason)
        body = f"fixwurx egress proxy: {reason}\n".encode()
        with contextlib.suppress(OSError):
            client.sendall(
                f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + body
            )

    def _record_tunnel(self, where: str) -> None:
        log.info("egress: connected to %s", where)
        with self._lock:
            self.tunnels.append(where)


def _through(via: Upstream, target: Target) -> tuple[socket.socket, bytes]:
    """A connection through the operator's proxy: a tunnel it opened, or the request for it."""
    try:
        sock = socket.create_connection((via.host, via.port), timeout=CONNECT_TIMEOUT_S)
    except OSError as exc:
        raise _Refused("502 Bad Gateway", f"the upstream proxy is unreachable: {exc}") from None
    if not target.tunnel:
        sock.settimeout(None)
        return sock, target.proxied_head + via.header() + b"\r\n" + target.rest
    where = f"{target.host}:{target.port}".encode()
    try:
        sock.sendall(b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (where, where, via.header()))
        head, rest = _read_head(sock)
    except (_Refused, OSError) as exc:
        sock.close()
        raise _Refused("502 Bad Gateway", f"the upstream proxy did not answer: {exc}") from None
    status = head.split(b"\r\n", 1)[0]
    if status.split(b" ")[1:2] != [b"200"] or rest:
        sock.close()
        shown = status[:100].decode("ascii", "replace")
        raise _Refused("502 Bad Gateway", f"the upstream proxy refused {where.decode()}: {shown}")
    sock.settimeout(None)
    return sock, target.first_bytes


def _read_head(client: socket.socket) -> tuple[bytes, bytes]:
    """The request line and headers (without the blank line), and any bytes after them."""
    deadline = time.monotonic() + HEADER_TIMEOUT_S
    data = b""
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise _Refused("408 Request Timeout", "the request header took too long")
        client.settimeout(left)
        try:
            chunk = client.recv(4096)
        except TimeoutError:
            raise _Refused("408 Request Timeout", "the request header took too long") from None
        if not chunk:
            raise _Refused("400 Bad Request", "the client closed before its header ended")
        data += chunk
        if len(data) > MAX_HEADER_BYTES and b"\r\n\r\n" not in data[:MAX_HEADER_BYTES]:
            raise _Refused("431 Request Header Fields Too Large", "the request header is too big")
    client.settimeout(None)
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _split_host_port(authority: str, *, default: int) -> tuple[str, int]:
    if "@" in authority:
        raise _Refused("400 Bad Request", "credentials in the proxy target are not accepted")
    if authority.startswith("["):
        host, _, tail = authority[1:].partition("]")
        port_text = tail[1:] if tail.startswith(":") else ""
    else:
        host, sep, port_text = authority.rpartition(":")
        if not sep:
            host, port_text = authority, ""
    try:
        port = int(port_text) if port_text else default
    except ValueError:
        raise _Refused("400 Bad Request", f"bad port in {authority[:100]!r}") from None
    if not host or not 0 < port < 65536:
        raise _Refused("400 Bad Request", f"bad target {authority[:100]!r}")
    return normal_host(host), port


def _relay(a: socket.socket, b: socket.socket, closed: threading.Event) -> None:
    """Copy bytes both ways until one side closes, or nothing moves for IDLE_TIMEOUT_S."""
    peer = {a: b, b: a}
    for sock in (a, b):  # a peer that stops reading cannot block a send forever either
        sock.settimeout(IDLE_TIMEOUT_S)
    with selectors.DefaultSelector() as selector:
        selector.register(a, selectors.EVENT_READ)
        selector.register(b, selectors.EVENT_READ)
        last = time.monotonic()
        while not closed.is_set():
            events = selector.select(timeout=1.0)
            if not events:
                if time.monotonic() - last > IDLE_TIMEOUT_S:
                    log.info("egress: closing a tunnel idle for %.0fs", IDLE_TIMEOUT_S)
                    return
                continue
            last = time.monotonic()
            for key, _mask in events:
                source: socket.socket = key.fileobj  # type: ignore[assignment]
                data = source.recv(_CHUNK)
                if not data:
                    return
                peer[source].sendall(data)


def forwarder_python() -> str:
    """The interpreter that runs the forwarder inside: FixWurx's base Python (no venv)."""
    base = getattr(sys, "_base_executable", sys.executable)
    return os.path.realpath(base)


def forwarder_roots() -> list[str]:
    """Host directories the forwarder's interpreter needs (bound read-only outside /usr)."""
    prefix = os.path.realpath(sys.base_prefix)
    return [] if prefix == "/usr" or prefix.startswith("/usr/") else [prefix]


@contextlib.contextmanager
def serving(policy: EgressPolicy) -> Iterator[EgressProxy]:
    """A running proxy for one step."""
    with EgressProxy(policy) as proxy:
        yield proxy
