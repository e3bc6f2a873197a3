"""The operator's package-index settings, for uv.

The sandbox passes the index environment variables (PIP_INDEX_URL, UV_INDEX_URL, ...) to install
steps itself (app/sandbox/environment.py). pip's configuration files are host files the sandbox
does not show, and uv does not read them, so their `index-url`, `extra-index-url` and
`find-links` become uv arguments here, and `cert` uv's SSL_CERT_FILE. Local indexes (file://
URLs, directories) must be visible inside the sandbox: `readonly_paths` lists them.
"""

from __future__ import annotations

import configparser
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from app.sandbox.environment import index_env

#: pip's configuration files, lowest priority first (PIP_CONFIG_FILE is added last).
PIP_CONFIG_FILES = ("/etc/pip.conf", "~/.pip/pip.conf", "~/.config/pip/pip.conf")


@dataclass(frozen=True)
class IndexSettings:
    """uv arguments for the operator's indexes, and the local paths they name."""

    uv_args: tuple[str, ...]
    readonly_paths: tuple[Path, ...]
    #: Variables for the install steps: uv reads SSL_CERT_FILE, not pip's `cert`.
    env: dict[str, str]


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
    return IndexSettings(tuple(args), tuple(dict.fromkeys(paths)), variables)


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
