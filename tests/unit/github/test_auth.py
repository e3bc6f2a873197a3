"""App JWT, private-key loading and the Redis-shared installation-token cache."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from redis import Redis

from app.config import Settings
from app.errors import ConfigError, GitHubError
from app.github import constants
from app.github.auth import (
    InstallationToken,
    InstallationTokens,
    app_jwt,
    check_app_settings,
    load_private_key,
)
from tests.fakes.github import FakeGitHub, server


def test_jwt_is_rs256_backdated_and_short_lived(fake_github: FakeGitHub) -> None:
    now = 1_700_000_000.0
    token = app_jwt("123", fake_github.private_key_pem, now=now)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = jwt.decode(
        token,
        fake_github._public_key,
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_iat": False},
    )
    assert claims["iss"] == "123"
    assert claims["iat"] == now - 60
    assert 0 < claims["exp"] - now <= 600


def test_private_key_from_one_line_env(fake_github: FakeGitHub) -> None:
    one_line = fake_github.private_key_pem.strip().replace("\n", "\\n")
    pem = load_private_key(Settings(private_key=one_line))
    assert pem.startswith("-----BEGIN RSA PRIVATE KEY-----\n")


def test_private_key_from_file(fake_github: FakeGitHub, tmp_path: Path) -> None:
    path = tmp_path / "app.pem"
    path.write_text(fake_github.private_key_pem)
    assert load_private_key(Settings(private_key_path=str(path))) == fake_github.private_key_pem


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        (Settings(), "set PRIVATE_KEY"),
        (Settings(private_key_path="/nonexistent/app.pem"), "/nonexistent/app.pem"),
        (Settings(private_key="not a key"), "PEM private key"),
    ],
)
def test_bad_private_key_is_a_clear_error(settings: Settings, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_private_key(settings)


def test_non_rsa_key_is_refused() -> None:
    pem = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(ConfigError, match="RSA"):
        load_private_key(Settings(private_key=pem))


def test_start_up_check_names_a_bad_app_id(github_settings: Settings) -> None:
    check_app_settings(github_settings)
    with pytest.raises(ConfigError, match="APP_ID='my-app'"):
        check_app_settings(github_settings.replace(app_id="my-app"))


def test_tokens_are_minted_once_and_shared_by_workers(
    github_settings: Settings, fake_github: FakeGitHub, redis_conn: object
) -> None:
    first = InstallationTokens(github_settings, redis_conn).token(424242)
    # A second process (a new cache object on the same Redis) gets the same token.
    second = InstallationTokens(github_settings, redis_conn).token(424242)
    assert first == second
    assert first in fake_github.tokens
    assert fake_github.minted == [424242]


def test_token_is_refreshed_before_it_expires(
    github_settings: Settings, fake_github: FakeGitHub, redis_conn: object
) -> None:
    tokens = InstallationTokens(github_settings, redis_conn)
    old = tokens.token(424242)
    key = f"{constants.TOKEN_CACHE_PREFIX}424242"
    soon = time.time() + constants.TOKEN_REFRESH_MARGIN_S - 5
    stale = tokens.box().seal(424242, InstallationToken(old, soon))
    redis_conn.set(key, stale)  # type: ignore[attr-defined]
    # Another process, holding no token of its own, finds the shared one too close to expiry.
    new = InstallationTokens(github_settings, redis_conn).token(424242)
    assert new != old
    assert fake_github.minted == [424242, 424242]


def test_a_held_token_is_refreshed_before_it_expires(
    github_settings: Settings,
    fake_github: FakeGitHub,
    redis_conn: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GitHub hands out a token already inside the refresh margin, as a held one gets with time.
    monkeypatch.setattr(server, "TOKEN_LIFETIME_S", constants.TOKEN_REFRESH_MARGIN_S - 5)
    tokens = InstallationTokens(github_settings, redis_conn)
    old = tokens.token(424242)
    new = tokens.token(424242)
    assert new != old
    assert fake_github.minted == [424242, 424242]


def test_a_fresh_token_is_held_without_asking_redis_again(
    github_settings: Settings,
    fake_github: FakeGitHub,
    redis_conn: Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tokens = InstallationTokens(github_settings, redis_conn)
    first = tokens.token(424242)
    sent: list[object] = []
    execute = redis_conn.execute_command

    def counting(*args: Any, **options: Any) -> Any:
        sent.append(args[0])
        return execute(*args, **options)

    monkeypatch.setattr(redis_conn, "execute_command", counting)
    # PyGithub asks for the token on every request: within freshness that is no round trip.
    assert tokens.token(424242) == first
    assert sent == []
    # Another process has nothing held and reads the shared cache (one GET).
    assert InstallationTokens(github_settings, redis_conn).token(424242) == first
    assert sent == ["GET"]
    assert fake_github.minted == [424242]


def test_a_refused_jwt_is_an_error_naming_the_installation(
    github_settings: Settings, redis_conn: object
) -> None:
    wrong_app = github_settings.replace(app_id="1")
    with pytest.raises(GitHubError, match="installation 424242 failed with HTTP 401"):
        InstallationTokens(wrong_app, redis_conn).token(424242)


def test_a_revoked_token_is_forgotten_and_replaced_once(
    github_settings: Settings, fake_github: FakeGitHub, redis_conn: Redis
) -> None:
    from app.flows.job import installation_client

    fake_github.add_repo("octo/app", {"README.md": "hi\n"})
    tokens = InstallationTokens(github_settings, redis_conn)
    repo = installation_client(github_settings, tokens, 424242).repo("octo/app")
    revoked = tokens.token(424242)
    number = fake_github.add_issue("octo/app", "bug")
    fake_github.expire_tokens()  # GitHub revokes it while it is cached for another hour
    assert repo.issue(number).title == "bug"
    assert fake_github.minted == [424242, 424242]
    assert tokens.token(424242) != revoked
    cached = tokens.box().open(
        424242, redis_conn.get(f"{constants.TOKEN_CACHE_PREFIX}424242") or b""
    )
    assert cached is not None and cached.token != revoked  # the other workers get the new one


def test_a_second_refusal_is_an_error_after_one_retry(
    github_settings: Settings, fake_github: FakeGitHub, redis_conn: Redis
) -> None:
    from app.flows.job import installation_client

    fake_github.add_repo("octo/app", {"README.md": "hi\n"})
    tokens = InstallationTokens(github_settings, redis_conn)
    repo = installation_client(github_settings, tokens, 424242).repo("octo/app")
    number = fake_github.add_issue("octo/app", "bug")
    fake_github.inject(
        "GET", r"/repos/octo/app/issues/\d+", 401, message="Bad credentials", times=5
    )
    with pytest.raises(GitHubError, match="HTTP 401"):
        repo.issue(number)
    assert fake_github.minted == [424242, 424242]
    assert fake_github.count("GET", r"/repos/octo/app/issues/\d+") == 2


def test_the_token_cache_gives_up_on_a_redis_that_never_answers(
    github_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redis.exceptions import TimeoutError as RedisTimeoutError

    from app.flows import job
    from app.flows.job import token_cache
    from tests.fakes.loopback import silent_port

    monkeypatch.setattr(job, "TOKEN_REDIS_TIMEOUT_S", 0.5)  # the test's patience, not the bound
    with silent_port() as port:
        hung = github_settings.replace(redis_url=f"redis://127.0.0.1:{port}/0")
        started = time.monotonic()
        with pytest.raises(RedisTimeoutError):
            InstallationTokens(hung, token_cache(hung)).token(424242)
        assert time.monotonic() - started < 10 * job.TOKEN_REDIS_TIMEOUT_S


def test_no_token_is_stored_in_plain_text_in_redis(
    github_settings: Settings, fake_github: FakeGitHub, redis_conn: Redis
) -> None:
    """Whoever reads the queues' Redis finds no installation token (issue 22, item 7)."""
    token = InstallationTokens(github_settings, redis_conn).token(424242)
    everything = b"".join(
        key + (redis_conn.dump(key) or b"") for key in redis_conn.scan_iter(count=1000)
    )
    assert everything  # the cache entry is there...
    assert token.encode() not in everything  # ...and does not give the token away
    assert token[4:].encode() not in everything


def test_a_sealed_entry_moved_to_another_installation_is_not_used(
    github_settings: Settings, fake_github: FakeGitHub, redis_conn: Redis
) -> None:
    first = InstallationTokens(github_settings, redis_conn).token(424242)
    moved = redis_conn.get(f"{constants.TOKEN_CACHE_PREFIX}424242")
    redis_conn.set(f"{constants.TOKEN_CACHE_PREFIX}515151", moved or b"")
    other = InstallationTokens(github_settings, redis_conn).token(515151)
    assert other != first and fake_github.minted == [424242, 515151]


def test_a_plain_text_entry_is_ignored_and_replaced(
    github_settings: Settings, fake_github: FakeGitHub, redis_conn: Redis
) -> None:
    """An entry written before sealing (or by someone else) is never used: a token is minted."""
    key = f"{constants.TOKEN_CACHE_PREFIX}424242"
    redis_conn.set(key, json.dumps({"token": "ghs_planted", "expires_at": time.time() + 3600}))
    assert InstallationTokens(github_settings, redis_conn).token(424242) != "ghs_planted"
    assert fake_github.minted == [424242]
