"""The operator's own outbound proxy, for the egress proxy to chain through.

A worker that reaches PyPI only through a corporate proxy has HTTPS_PROXY (or HTTP_PROXY) in its
own environment. The egress proxy then sends each allowed request on through it: a `CONNECT`
for tunnels, an absolute-form request for plain HTTP. The upstream's credentials (a
`user:password@` in its URL) are sent by FixWurx as Proxy-Authorization and never enter the
sandbox. Names are resolved by the upstream, which is the operator's; the allow-list still
decides which host and port may be asked for. NO_PROXY names hosts reached directly.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class Upstream:
    """An outbound proxy: where it listens, and the header that authenticates to it."""

    host: str
    port: int
    authorization: bytes = b""

    def header(self) -> bytes:
        """The Proxy-Authorization line (with its CRLF), or nothing."""
        return (
            b"Proxy-Authorization: " + self.authorization + b"\r\n" if self.authorization else b""
        )


def upstream_for(
    host: str, *, tunnel: bool, environ: Mapping[str, str] | None = None
) -> Upstream | None:
    """The operator's proxy for a request to `host`, or None to connect directly."""
    env = os.environ if environ is None else environ
    names = ("HTTPS_PROXY", "https_proxy") if tunnel else ("HTTP_PROXY", "http_proxy")
    url = next((env[n] for n in names if env.get(n)), "")
    if not url or _bypassed(host, env.get("NO_PROXY") or env.get("no_proxy") or ""):
        return None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if not parts.hostname:
        return None
    authorization = b""
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        authorization = b"Basic " + base64.b64encode(pair)
    return Upstream(parts.hostname, parts.port or 80, authorization)


def _bypassed(host: str, no_proxy: str) -> bool:
    """curl's NO_PROXY rules, simply: `*`, an exact host, or a domain suffix."""
    for entry in no_proxy.replace(",", " ").split():
        entry = entry.lower().lstrip(".").split(":")[0]
        if entry == "*" or host == entry or host.endswith("." + entry):
            return True
    return False
