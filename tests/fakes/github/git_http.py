"""Smart-HTTP git for the fake GitHub: `git http-backend` run as a CGI program.

Clones, fetches and pushes are real git protocol exchanges against real bare repositories, so
FixWurx's git code is tested exactly as it will talk to GitHub. Pushes to protected branches are
refused before git sees them, by reading the ref updates at the start of the receive-pack body.
"""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

#: The git protocol's flush packet, which ends the list of ref updates in a push.
FLUSH = b"0000"


#: The object id git sends as the new value of a deleted ref (and the old value of a new one).
ZERO_SHA = "0" * 40


def ref_updates(body: bytes, content_encoding: str) -> list[tuple[str, str, str]]:
    """(old sha, new sha, ref name) for each ref a receive-pack request updates (from its
    leading pkt-lines)."""
    data = gzip.decompress(body) if content_encoding == "gzip" else body
    updates: list[tuple[str, str, str]] = []
    pos = 0
    while pos + 4 <= len(data) and data[pos : pos + 4] != FLUSH:
        length = int(data[pos : pos + 4], 16)
        line = data[pos + 4 : pos + length].split(b"\0")[0].strip()
        parts = line.split(b" ")
        if len(parts) >= 3:
            updates.append((parts[0].decode(), parts[1].decode(), parts[2].decode()))
        pos += length
    return updates


def pushed_refs(body: bytes, content_encoding: str) -> list[str]:
    """Ref names a receive-pack request updates."""
    return [ref for _old, _new, ref in ref_updates(body, content_encoding)]


def run_backend(
    root: Path,
    path_info: str,
    method: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run git http-backend for one request; returns (status, headers, body)."""
    env = {
        "GIT_PROJECT_ROOT": str(root),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_INFO": path_info,
        "REQUEST_METHOD": method,
        "QUERY_STRING": query,
        "CONTENT_TYPE": headers.get("Content-Type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_USER": "x-access-token",  # an authenticated user enables receive-pack
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_CONTENT_ENCODING": headers.get("Content-Encoding", ""),
        "GIT_PROTOCOL": headers.get("Git-Protocol", ""),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        ["git", "http-backend"], input=body, env=env, capture_output=True, timeout=120, check=False
    )
    head, _, payload = done.stdout.partition(b"\r\n\r\n")
    status = 200
    out_headers: list[tuple[str, str]] = []
    for line in head.decode("latin-1").split("\r\n"):
        if not line:
            continue
        name, _, value = line.partition(":")
        if name.lower() == "status":
            status = int(value.strip().split()[0])
        else:
            out_headers.append((name.strip(), value.strip()))
    return status, out_headers, payload
