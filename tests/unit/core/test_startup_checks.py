"""Web and worker refuse to start with a broken App key, and say why."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from app.errors import ConfigError
from webhooks import create_app
from workers.start import worker


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


def test_web_app_opens_no_connection_so_workers_can_fork_from_it() -> None:
    # gunicorn --preload builds the app once and forks the workers from it: a connection made
    # here would be shared by every worker. Nothing listens on port 1, so an attempt would fail.
    from sqlalchemy.pool import QueuePool

    from app.config import settings_of
    from app.db import get_engine
    from workers import enqueue_script

    enqueue_script._compiled.cache_clear()  # built by an earlier test, it would prove nothing
    flask_app = create_app(
        {
            "DATABASE_URL": "postgresql+psycopg://fixwurx@127.0.0.1:1/none",
            "REDIS_URL": "redis://127.0.0.1:1/0",
        }
    )
    engine = get_engine(settings_of(flask_app).database_url)
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    assert pool.checkedin() == 0 and pool.checkedout() == 0
    assert engine.dialect.loaded_dbapi.__name__ == "psycopg"  # the driver is loaded, pre-fork
    assert enqueue_script._compiled.cache_info().currsize == 1  # the script is built
