"""Web and worker refuse to start with a broken App key, and say why."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from app.errors import ConfigError
from webhooks import create_app
from workers.cli import worker


def test_web_app_refuses_an_unreadable_key(tmp_path: Path) -> None:
    bad = tmp_path / "key.pem"
    bad.write_text("not a key")
    with pytest.raises(ConfigError, match="key"):
        create_app({"APP_ID": "123", "PRIVATE_KEY_PATH": str(bad)})


def test_web_app_refuses_a_non_numeric_app_id() -> None:
    with pytest.raises(ConfigError, match="APP_ID"):
        create_app({"APP_ID": "my-app", "PRIVATE_KEY": "x"})


def test_worker_refuses_a_missing_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ID", "123")
    monkeypatch.setenv("PRIVATE_KEY_PATH", str(tmp_path / "missing.pem"))
    result = CliRunner().invoke(worker, ["--burst"])
    assert result.exit_code == 1
    assert "missing.pem" in result.output
