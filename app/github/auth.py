"""App authentication: the private key, the App JWT, and shared installation tokens.

Installation tokens live one hour and GitHub limits how many can be minted, so every worker
process shares one cache in Redis and a token is replaced ten minutes before it expires. The
private key is checked when the process starts so a bad key fails the deploy, not the first job.

The cache holds each token sealed (`TokenBox`: Fernet, with a key derived by HKDF from the App's
private key), never in plain text: whoever reads that Redis (it also holds the queues) learns
nothing that the private key would not already give them. A sealed entry names its installation,
so one moved under another installation's key is refused, and an entry that does not open
(written before this change, or tampered with) is treated as absent: a fresh token is minted.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from app.config import Settings
from app.errors import ConfigError, GitHubError
from app.github import constants
from app.github.client import http_session, parse_time


def load_private_key(settings: Settings) -> str:
    """The App's PEM private key from PRIVATE_KEY or PRIVATE_KEY_PATH, checked to be RSA."""
    pem = _read_key_text(settings)
    _check_rsa(pem)
    return pem


def _read_key_text(settings: Settings) -> str:
    if settings.private_key:
        # One-line environments (Heroku, .env files) carry the PEM with literal "\n".
        return settings.private_key.replace("\\n", "\n").strip() + "\n"
    if settings.private_key_path:
        path = Path(settings.private_key_path)
        if not path.is_file():
            raise ConfigError(
                f"PRIVATE_KEY_PATH={str(path)!r} is not a readable file; point it at the .pem "
                "file downloaded from the App's settings page"
            )
        return path.read_text(encoding="utf-8")
    raise ConfigError(
        "no GitHub App private key: set PRIVATE_KEY to the PEM text or PRIVATE_KEY_PATH to the "
        ".pem file downloaded from the App's settings page"
    )


def _check_rsa(pem: str) -> None:
    source = "PRIVATE_KEY/PRIVATE_KEY_PATH"
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{source} does not hold an unencrypted PEM private key ({exc}); use the .pem "
            "file GitHub generated for the App, unchanged"
        ) from None
    if not isinstance(key, RSAPrivateKey):
        raise ConfigError(f"{source} holds a {type(key).__name__}; GitHub Apps sign with RSA keys")


def check_app_settings(settings: Settings) -> None:
    """Start-up check for web and worker: APP_ID set and numeric, the private key loadable."""
    if not settings.app_id.isdigit():
        raise ConfigError(
            f"APP_ID={settings.app_id!r} is not a GitHub App id; copy the numeric App ID "
            "from the App's settings page"
        )
    load_private_key(settings)


def app_jwt(app_id: str, private_key: str, now: float | None = None) -> str:
    """The App JWT (RS256): issued 60 s in the past, expiring under GitHub's 10-minute cap."""
    issued = int(now if now is not None else time.time()) - constants.JWT_BACKDATE_S
    claims = {"iat": issued, "exp": issued + constants.JWT_LIFETIME_S, "iss": app_id}
    return jwt.encode(claims, private_key, algorithm="RS256")


@dataclass(frozen=True)
class InstallationToken:
    """A token and its expiry (Unix seconds)."""

    token: str
    expires_at: float

    def fresh(self, now: float) -> bool:
        """Still far enough from expiry to start work with."""
        return self.expires_at - now > constants.TOKEN_REFRESH_MARGIN_S


#: HKDF's context for the token cache's key: a key for this purpose only.
TOKEN_CACHE_KDF_INFO = b"fixwurx installation-token cache v1"


class TokenBox:
    """Seals installation tokens for the shared Redis cache, and opens them."""

    def __init__(self, private_key_pem: str) -> None:
        # The key's canonical DER, so PRIVATE_KEY and PRIVATE_KEY_PATH spellings agree.
        key = load_pem_private_key(private_key_pem.encode(), password=None)
        material = key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=TOKEN_CACHE_KDF_INFO)
        self._fernet = Fernet(base64.urlsafe_b64encode(hkdf.derive(material)))

    def seal(self, installation_id: int, token: InstallationToken) -> bytes:
        """The cache entry of `token`: encrypted and authenticated, naming its installation."""
        body = {
            "installation": installation_id,
            "token": token.token,
            "expires_at": token.expires_at,
        }
        return self._fernet.encrypt(json.dumps(body).encode())

    def open(self, installation_id: int, raw: bytes) -> InstallationToken | None:
        """The token in a cache entry; None when it does not open or is another installation's."""
        try:
            data = json.loads(self._fernet.decrypt(raw))
        except (InvalidToken, ValueError, TypeError):
            return None
        if not isinstance(data, dict) or data.get("installation") != installation_id:
            return None
        return InstallationToken(str(data["token"]), float(data["expires_at"]))


class InstallationTokens:
    """Installation tokens minted with the App JWT and cached in Redis for all workers.

    The last token per installation is also kept in this object: PyGithub asks for the token on
    every request, and while it is fresh a Redis GET and JSON parse would only return it again.
    """

    def __init__(self, settings: Settings, redis: Any, session: requests.Session | None = None):
        self._settings = settings
        self._redis = redis
        self._session = session or http_session()
        self._key: str | None = None
        self._box: TokenBox | None = None
        self._held: dict[int, InstallationToken] = {}

    def token(self, installation_id: int) -> str:
        """A token with at least the refresh margin left: held, from the cache, or minted."""
        held = self._held.get(installation_id)
        if held is None or not held.fresh(time.time()):
            held = self._held[installation_id] = self._shared(installation_id)
        return held.token

    def _shared(self, installation_id: int) -> InstallationToken:
        """A fresh token from the Redis cache, minted (under a lock) when the cache has none."""
        cached = self._cached(installation_id)
        if cached is not None and cached.fresh(time.time()):
            return cached
        lock = self._redis.lock(
            f"{constants.TOKEN_CACHE_PREFIX}lock:{installation_id}",
            timeout=constants.HTTP_TIMEOUT_S * 2,
            blocking_timeout=constants.TOKEN_LOCK_WAIT_S,
        )
        with lock:
            # Another worker may have minted one while we waited for the lock.
            cached = self._cached(installation_id)
            if cached is not None and cached.fresh(time.time()):
                return cached
            minted = self._mint(installation_id)
            self._store(installation_id, minted)
            return minted

    def forget(self, installation_id: int) -> None:
        """Drop a cached token GitHub refused (revoked, or the installation changed)."""
        self._held.pop(installation_id, None)
        self._redis.delete(f"{constants.TOKEN_CACHE_PREFIX}{installation_id}")

    def box(self) -> TokenBox:
        """The sealer of this App's cache entries (its key derived from the private key)."""
        if self._box is None:
            self._box = TokenBox(self._private_key())
        return self._box

    def _private_key(self) -> str:
        if self._key is None:
            self._key = load_private_key(self._settings)
        return self._key

    def _cached(self, installation_id: int) -> InstallationToken | None:
        raw = self._redis.get(f"{constants.TOKEN_CACHE_PREFIX}{installation_id}")
        if raw is None:
            return None
        return self.box().open(installation_id, raw)

    def _store(self, installation_id: int, minted: InstallationToken) -> None:
        ttl = int(minted.expires_at - time.time() - constants.TOKEN_REFRESH_MARGIN_S)
        if ttl <= 0:
            return
        sealed = self.box().seal(installation_id, minted)
        self._redis.set(f"{constants.TOKEN_CACHE_PREFIX}{installation_id}", sealed, ex=ttl)

    def _mint(self, installation_id: int) -> InstallationToken:
        url = f"{self._settings.github_api_url.rstrip('/')}/app/installations/{installation_id}"
        response = self._session.post(
            f"{url}/access_tokens",
            headers={
                "Authorization": f"Bearer {app_jwt(self._settings.app_id, self._private_key())}"
            },
            timeout=constants.HTTP_TIMEOUT_S,
        )
        if response.status_code != 201:
            raise GitHubError(
                f"minting a token for installation {installation_id} failed with HTTP "
                f"{response.status_code}: {response.text[:200]}",
                retryable=response.status_code >= 500 or response.status_code == 429,
            )
        data = response.json()
        return InstallationToken(data["token"], parse_time(data["expires_at"]).timestamp())
