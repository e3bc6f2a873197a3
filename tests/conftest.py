"""Shared fixtures: real Redis, real PostgreSQL and SQLite, and the Flask app.

Each test session starts its own `redis-server` on a free loopback port and creates its own
PostgreSQL database, so parallel sessions on one machine never see each other's keys or rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.models import Base
from tests.fakes.loopback import redis_server

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
POSTGRES_ADMIN_URL = os.environ.get(
    "FIXWURX_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session", autouse=True)
def environment_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cache of repositories' test environments for the session: built once, then reused."""
    previous = os.environ.get("ENVIRONMENT_CACHE_DIR")
    path = tmp_path_factory.mktemp("environments")
    os.environ["ENVIRONMENT_CACHE_DIR"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("ENVIRONMENT_CACHE_DIR", None)
    else:
        os.environ["ENVIRONMENT_CACHE_DIR"] = previous


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A private redis-server for this test session."""
    with redis_server() as server:
        yield server.url


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[object]:
    """A Redis connection to an empty database."""
    from redis import Redis

    conn = Redis.from_url(redis_url)
    conn.flushdb()
    yield conn
    conn.flushdb()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this session, with every table created."""
    name = f"fixwurx_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield url
    from app import db

    for known in list(db._engines):
        if known == url:
            db._engines.pop(known).dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test using this runs twice: on SQLite (the default) and on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fixwurx.sqlite3'}"
        engine = create_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
        yield url
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    engine = create_engine(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
