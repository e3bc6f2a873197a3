"""The sandbox's environment, rebuilt from an allow-list.

Nothing from the host environment is inherited: a worker holds GITHUB_TOKEN, model API keys and
service URLs, and a test suite from an untrusted repository could print or send them. The caller
may add variables (PYTHONPATH, COVERAGE_FILE...), but one that looks like a secret is refused
rather than silently dropped, so the bug is found where it is made.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from app.config import SECRET_ENV_VARS
from app.errors import SandboxError

#: Variable names that carry credentials or point at services. Matched anywhere in the name.
_SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSW|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL|AUTH(?!OR)|COOKIE|SESSION|DSN"
    r"|DATABASE_URL|REDIS_URL|_URI$|_URL$",
    re.IGNORECASE,
)
#: Values that look like a credential whatever their name: GitHub and model-provider tokens,
#: PEM keys, and URLs with a password in them.
_SECRET_VALUE = re.compile(
    r"^(gh[pousr]_|github_pat_|sk-|xox[abpr]-|AKIA)|-----BEGIN |://[^/\s:@]+:[^/\s@]+@"
)
#: The operator's package-index and CA-certificate settings, passed from the host only to calls
#: with network access (install steps), so an environment installs from the index the operator
#: chose. Names such as PIP_INDEX_URL would be refused from a caller: they end in _URL.
INDEX_VARIABLES = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_TRUSTED_HOST",
    "PIP_CERT",
    "PIP_DEFAULT_TIMEOUT",
    "UV_INDEX_URL",
    "UV_EXTRA_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_INDEX",
    "UV_FIND_LINKS",
    "UV_NATIVE_TLS",
    "UV_HTTP_TIMEOUT",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
)
#: Host secrets shorter than this are not searched for inside caller values (too many false hits).
_MIN_SECRET_LEN = 8


log = logging.getLogger(__name__)


def sandbox_env(
    home: str,
    tmp: str,
    extra: Mapping[str, str] | None,
    *,
    network: bool = False,
    host_python: bool = True,
) -> dict[str, str]:
    """The complete environment of a sandboxed command: the allow-list plus the caller's `extra`.

    `network` adds the operator's index settings (`index_env`); `host_python` False keeps
    FixWurx's own venv off PATH (the caller's PATH names the repository's environment).
    """
    env = _base_env(home, tmp)
    if not host_python:
        env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    check_caller_env(extra)
    if network:
        env.update(index_env())
    env.update(extra or {})
    if host_python:
        env["PATH"] = _venv_first(env["PATH"])
    return env


def index_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The host's package-index and CA settings, without any value that carries a password."""
    source = os.environ if environ is None else environ
    kept: dict[str, str] = {}
    for name in INDEX_VARIABLES:
        value = source.get(name)
        if not value:
            continue
        if _SECRET_VALUE.search(value) or _contains_host_secret(value):
            log.warning(
                "sandbox env: not passing %s to install steps: it carries a credential", name
            )
            continue
        kept[name] = value
    return kept


def _base_env(home: str, tmp: str) -> dict[str, str]:
    return {
        "PATH": f"{venv_bin()}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "TMPDIR": tmp,
        # getpass.getuser() (pytest's tmp dirs, git) asks these first; the uid has no passwd entry.
        "USER": "sandbox",
        "LOGNAME": "sandbox",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        # No __pycache__ in the work copy (it would show up in diffs) and reproducible hashing.
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONNOUSERSITE": "1",
        # The work copy belongs to root while the sandbox runs as another uid: git would refuse
        # it as "dubious ownership". The system gitconfig is host state the sandbox must not see.
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "safe.directory",
        "GIT_CONFIG_VALUE_0": "*",
        "GIT_TERMINAL_PROMPT": "0",
        # The work copy is writable through a capability, which access(2) ignores for the
        # sandbox's uid: hypothesis asks access(), finds `.hypothesis` "unusable" and warns, and
        # a suite that turns warnings into errors (python-dateutil) then fails every run before
        # a test reports (issue 25's survey). Its example database lives in HOME instead, which
        # the uid may write by its mode, and never lands in the work copy's diff.
        "HYPOTHESIS_STORAGE_DIRECTORY": f"{home}/.hypothesis",
    }


def venv_bin() -> str:
    """The directory of this venv's interpreter, so `python` inside resolves to it first."""
    return str(Path(sys.executable).parent)


def _venv_first(path: str) -> str:
    first = venv_bin()
    parts = [p for p in path.split(":") if p and p != first]
    return ":".join([first, *parts])


def check_caller_env(extra: Mapping[str, str] | None) -> None:
    """SandboxError for the first variable of `extra` that looks like a secret."""
    for key, value in (extra or {}).items():
        check_caller_variable(key, value)


def check_caller_variable(key: str, value: str) -> None:
    """Refuse a variable that looks like a credential or a service address."""
    if not key or "=" in key or "\0" in key or "\0" in value:
        raise SandboxError(f"sandbox env: invalid variable name or value for {key!r}")
    if key.upper() in SECRET_ENV_VARS or _SECRET_NAME.search(key):
        raise SandboxError(
            f"sandbox env: refusing {key!r}: the name looks like a secret or a service URL; "
            "code from a repository must never see credentials. Pass only what the tests need."
        )
    if _SECRET_VALUE.search(value) or _contains_host_secret(value):
        raise SandboxError(
            f"sandbox env: refusing the value of {key!r}: it looks like a token, key or "
            "a URL with a password in it."
        )


def _contains_host_secret(value: str) -> bool:
    """True when `value` embeds the value of one of this process's own secret variables."""
    for name, secret in os.environ.items():
        if len(secret) < _MIN_SECRET_LEN:
            continue
        if (name.upper() in SECRET_ENV_VARS or _SECRET_NAME.search(name)) and secret in value:
            return True
    return False
