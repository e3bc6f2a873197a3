"""`/healthz` and `/readyz` against real services: a private redis-server stopped and started
again on the same port, a private PostgreSQL cluster stopped and started, and a database whose
schema is behind the migrations."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine

from app import create_app
from app.models import Base
from app.ops import migrate
from tests.fakes.loopback import free_port, silent_port, wait_for_port


def _start_redis(port: int) -> subprocess.Popen[bytes]:
    server = shutil.which("redis-server")
    assert server, "redis-server is not installed; .ci/run installs it"
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, process=proc)
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def migrated_sqlite(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ready.sqlite3'}"
    migrate.upgrade(url)
    return url


def _client(database_url: str, redis_url: str) -> FlaskClient:
    return create_app({"DATABASE_URL": database_url, "REDIS_URL": redis_url}).test_client()


def test_readyz_follows_redis_down_and_back(migrated_sqlite: str) -> None:
    port = free_port()
    redis = _start_redis(port)
    client = _client(migrated_sqlite, f"redis://127.0.0.1:{port}/0")
    try:
        first = client.get("/readyz")
        assert first.status_code == 200, first.get_json()
        assert first.get_json()["checks"] == {"database": "ok", "redis": "ok", "migrations": "ok"}
        _stop(redis)
        down = client.get("/readyz")
        assert down.status_code == 503
        body = down.get_json()
        assert body["down"] == ["redis"]
        assert body["checks"]["redis"].startswith("unreachable")
        assert client.get("/healthz").status_code == 200  # liveness does not depend on Redis
        redis = _start_redis(port)
        back = client.get("/readyz")
        assert back.status_code == 200, back.get_json()
    finally:
        _stop(redis)


def test_readyz_names_a_schema_behind_the_migrations(tmp_path: Path, redis_url: str) -> None:
    url = f"sqlite:///{tmp_path / 'unmigrated.sqlite3'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)  # the tables, but no alembic_version: never migrated
    engine.dispose()
    response = _client(url, redis_url).get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["down"] == ["migrations"]
    assert "fixwurx db upgrade" in response.get_json()["checks"]["migrations"]
    migrate.upgrade(f"sqlite:///{tmp_path / 'old.sqlite3'}", "0002")
    old = _client(f"sqlite:///{tmp_path / 'old.sqlite3'}", redis_url).get("/readyz")
    assert old.status_code == 503 and "head is" in old.get_json()["checks"]["migrations"]


def test_healthz_answers_without_any_service(tmp_path: Path) -> None:
    client = _client(
        f"sqlite:///{tmp_path / 'x' / 'y.sqlite3'}", f"redis://127.0.0.1:{free_port()}/0"
    )
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").status_code == 503


# --- PostgreSQL: a private cluster, so stopping it cannot disturb anyone else -----------------


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    assert found, "PostgreSQL server binaries are not installed"
    return found[-1].parent


def _as_postgres(args: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; CI runs the tests as root.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture
def private_postgres() -> Iterator[tuple[Path, int]]:
    # Not under tmp_path: pytest's folders are private to root, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="fixwurx-readyz-pg-"))
    data = base / "pgdata"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(data, "postgres")
    binaries = _pg_bin()
    subprocess.run(
        _as_postgres([str(binaries / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
        check=True,
        capture_output=True,
    )
    port = free_port()
    yield data, port
    subprocess.run(
        _as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
        capture_output=True,
    )
    shutil.rmtree(base, ignore_errors=True)


def _pg_ctl(data: Path, port: int, action: str) -> None:
    args = [str(_pg_bin() / "pg_ctl"), "-D", str(data), "-w", "-l", str(data / "log")]
    if action == "start":
        args += ["-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1"]
    else:
        args += ["-m", "fast"]
    subprocess.run(_as_postgres([*args, action]), check=True, capture_output=True, timeout=60)


def test_readyz_follows_postgresql_down_and_back(
    private_postgres: tuple[Path, int], redis_url: str
) -> None:
    data, port = private_postgres
    _pg_ctl(data, port, "start")
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    migrate.upgrade(url)
    client = _client(url, redis_url)
    assert client.get("/readyz").status_code == 200
    _pg_ctl(data, port, "stop")
    down = client.get("/readyz")
    assert down.status_code == 503
    assert down.get_json()["down"] == ["database"]
    _pg_ctl(data, port, "start")
    deadline = time.monotonic() + 30
    while (back := client.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)  # the pool's pre-ping drops the dead connections on the next checkout
    assert back.status_code == 200, back.get_json()


@pytest.fixture
def silent_listener() -> Iterator[int]:
    with silent_port() as port:
        yield port


def test_readyz_is_bounded_when_postgresql_accepts_and_never_answers(
    silent_listener: int, redis_url: str
) -> None:
    from app import db

    url = f"postgresql+psycopg://postgres@127.0.0.1:{silent_listener}/test"
    client = _client(url, redis_url)
    started = time.monotonic()
    try:
        answer = client.get("/readyz")
    finally:
        db._engines.pop(url, None)
    took = time.monotonic() - started
    assert answer.status_code == 503
    assert answer.get_json()["down"] == ["database"]
    assert took < db.CONNECT_TIMEOUT_S + 2, f"/readyz took {took:.1f} s"


def test_readyz_is_bounded_when_redis_accepts_and_never_answers(
    silent_listener: int, migrated_sqlite: str
) -> None:
    from app.ops import health

    client = _client(migrated_sqlite, f"redis://127.0.0.1:{silent_listener}/0")
    started = time.monotonic()
    answer = client.get("/readyz")
    took = time.monotonic() - started
    assert answer.status_code == 503
    assert answer.get_json()["down"] == ["redis"]
    assert took < health.REDIS_TIMEOUT_S + 2, f"/readyz took {took:.1f} s"
