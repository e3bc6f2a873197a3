"""The signature check accepts exactly GitHub's sha256 HMAC of the exact body."""

from __future__ import annotations

import pytest

from tests.fakes.webhooks import sign
from webhooks import signature

BODY = b'{"action":"labeled"}'


def test_github_signature_is_valid() -> None:
    assert signature.is_valid(BODY, sign(BODY, "s3cret"), "s3cret")
    assert signature.expected(BODY, "s3cret") == sign(BODY, "s3cret")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha1=" + "0" * 40,
        sign(BODY, "other-secret"),
        sign(BODY + b" ", "s3cret"),
        sign(BODY, "s3cret").upper(),
        sign(BODY, "s3cret")[:-1],
        sign(BODY, "s3cret") + "0",
        "sha256=" + "é" * 64,
    ],
)
def test_anything_else_is_invalid(header: str | None) -> None:
    assert not signature.is_valid(BODY, header, "s3cret")


def test_an_unset_secret_never_validates() -> None:
    assert not signature.is_valid(BODY, sign(BODY, ""), "")
