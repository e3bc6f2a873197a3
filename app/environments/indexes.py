"""The operator's package-index settings, for uv.

The sandbox passes the index environment variables (PIP_INDEX_URL, UV_INDEX_URL, ...) to install
steps itself (app/sandbox/environment.py). pip's configuration files are host files the sandbox
does not show, and uv does not read them, so their `index-url`, `extra-index-url` and
`find-links` become uv arguments here, and `cert` uv's SSL_CERT_FILE. Local indexes (file://
URLs, directories) must be visible inside the sandbox: `readonly_paths` lists them.

The same settings make the egress allow-list (`egress`): an install step may connect only to the
hosts and ports of these indexes and find-links (uv's UV_INDEX and UV_DEFAULT_INDEX included),
PyPI's two hosts when no index replaces PyPI, and the hosts in FIXWURX_EGRESS_HOSTS (where an
index redirects its file downloads). Every host the operator names this way is "trusted": it
may resolve to a private address (a devpi on the LAN). PyPI by default is not.
"""

from __future__ import annotations

import configparser
import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from app.sandbox.egress_policy import PYPI_ENDPOINTS, EgressPolicy
from app.sandbox.environment import index_env

#: pip's configuration files, lowest priority first (PIP_CONFIG_FILE is added last).
PIP_CONFIG_FILES = ("/etc/pip.conf", "~/.pip/pip.conf", "~/.config/pip/pip.conf")
#: Extra `host[:port]` entries (space- or comma-separated) install steps may reach: the hosts
#: an index redirects its downloads to. Port 443 when none is given.
EGRESS_HOSTS_VAR = "FIXWURX_EGRESS_HOSTS"


@dataclass(frozen=True)
class IndexSettings:
    """uv arguments for the operator's indexes, and the local paths they name."""

    uv_args: tuple[str, ...]
    readonly_paths: tuple[Path, ...]
    #: Variables for the install steps: uv reads SSL_CERT_FILE, not pip's `cert`.
    env: dict[str, str]
    #: Where install steps may connect (the egress proxy's allow-list).
    egress: EgressPolicy = field(default_factory=EgressPolicy.pypi)


@functools.cache
def operator_indexes() -> IndexSettings:
    """Read once per process: pip's files, then the environment (which wins, as in pip)."""
    values = _pip_config()
    env = index_env()
    for key, names in {
        "index-url": ("UV_INDEX_URL", "PIP_INDEX_URL"),
        "extra-index-url": ("UV_EXTRA_INDEX_URL", "PIP_EXTRA_INDEX_URL"),
        "find-links": ("UV_FIND_LINKS", "PIP_FIND_LINKS"),
        "cert": ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"),
    }.items():
        for name in names:
            if env.get(name):
                values[key] = env[name]
                break
    args: list[str] = []
    paths: list[Path] = []
    if values.get("index-url"):
        args += ["--index-url", values["index-url"]]
        paths += _local(values["index-url"])
    extras = values.get("extra-index-url", "").split()
    for url in extras:
        args += ["--extra-index-url", url]
        paths += _local(url)
    for link in values.get("find-links", "").replace(",", " ").split():
        args += ["--find-links", link]
        paths += _local(link)
    if extras:
        # pip merges every index; uv by default stops at the first index that has a package,
        # which a partial local mirror would turn into "no matching version".
        args += ["--index-strategy", "unsafe-best-match"]
    variables: dict[str, str] = {}
    cert = values.get("cert", "")
    if cert and os.path.isfile(cert):
        variables["SSL_CERT_FILE"] = cert
        if not cert.startswith("/etc/ssl/"):  # the sandbox's /etc holds /etc/ssl already
            paths.append(Path(os.path.realpath(cert)))
    egress = egress_policy(values, env, os.environ.get(EGRESS_HOSTS_VAR, ""))
    return IndexSettings(tuple(args), tuple(dict.fromkeys(paths)), variables, egress)


def egress_policy(values: dict[str, str], env: dict[str, str], extra_hosts: str) -> EgressPolicy:
    """The allow-list for install steps from the index settings (see the module docstring).

    `values`: pip's settings after the environment's overrides; `env`: the index variables the
    steps get (uv reads UV_INDEX and UV_DEFAULT_INDEX itself); `extra_hosts`: FIXWURX_EGRESS_HOSTS.
    """
    urls = [values.get("index-url", ""), *values.get("extra-index-url", "").split()]
    urls += values.get("find-links", "").replace(",", " ").split()
    urls += [_index_url(entry) for entry in env.get("UV_INDEX", "").split()]
    urls.append(_index_url(env.get("UV_DEFAULT_INDEX", "")))
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "UV_EXTRA_INDEX_URL"):
        urls += env.get(name, "").replace(",", " ").split()  # pip inside a setup step reads these
    endpoints = [endpoint for url in urls if (endpoint := _endpoint(url)) is not None]
    endpoints += [_host_port(entry) for entry in extra_hosts.replace(",", " ").split()]
    trusted = {host for host, _port in endpoints}
    replaced = values.get("index-url") or env.get("UV_DEFAULT_INDEX") or env.get("PIP_INDEX_URL")
    if not replaced:  # PyPI stays the default index: its hosts, but not trusted
        endpoints += PYPI_ENDPOINTS
    return EgressPolicy.of(endpoints, trusted)


def _index_url(entry: str) -> str:
    """The URL of a UV_INDEX entry, which may be `name=url`."""
    name, sep, rest = entry.partition("=")
    return rest if sep and "://" not in name else entry


def _host_port(entry: str) -> tuple[str, int]:
    """`host` or `host:port` (port 443 when absent)."""
    host, sep, port = entry.rpartition(":")
    return (host, int(port)) if sep and port.isdigit() else (entry, 443)


def _endpoint(url: str) -> tuple[str, int] | None:
    """(host, port) of an http(s) URL; None for file:// URLs and plain paths."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return None
    try:
        port = parsed.port
    except ValueError:
        return None
    return parsed.hostname, port or (443 if parsed.scheme == "https" else 80)


def _pip_config() -> dict[str, str]:
    files = [os.path.expanduser(p) for p in PIP_CONFIG_FILES]
    if os.environ.get("PIP_CONFIG_FILE"):
        files.append(os.environ["PIP_CONFIG_FILE"])
    parser = configparser.ConfigParser(interpolation=None)
    for path in files:
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
    values: dict[str, str] = {}
    for section in ("global", "install"):
        if parser.has_section(section):
            for key in ("index-url", "extra-index-url", "find-links", "cert"):
                if parser.has_option(section, key):
                    values[key] = " ".join(parser.get(section, key).split())
    return {k: v for k, v in values.items() if "@" not in urlparse(v.split()[0]).netloc}


def _local(location: str) -> list[Path]:
    """The directory a file:// URL or a plain path names, if it exists.

    A local index's pages usually link to files beside it (`simple/x/` -> `../../files/`):
    for a directory named `simple` its parent is exposed.
    """
    parsed = urlparse(location)
    path = parsed.path if parsed.scheme == "file" else (location if not parsed.scheme else "")
    if not path or not os.path.isdir(path):
        return []
    real = Path(os.path.realpath(path))
    return [real.parent if real.name == "simple" and real.parent != Path("/") else real]
