"""Services a chaos test may stop and start again: all private, on loopback, in temp dirs.

The machine's shared PostgreSQL and Redis are never touched: each test gets its own
redis-server (append-only file fsynced on every write, so a `kill -9` loses nothing it
acknowledged, as a production queue is configured) or its own throw-away PostgreSQL cluster
(initdb + pg_ctl, run as the `postgres` user when the tests run as root, because PostgreSQL
refuses to run as root), and a real gunicorn serving the webhook receiver.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.fakes.loopback import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
#: Seconds a service gets to start or stop before the test fails.
SERVICE_TIMEOUT_S = 60.0


class RestartableRedis:
    """A redis-server on a fixed loopback port that can be killed and started again."""

    def __init__(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError("redis-server is not installed; .ci/run installs it")
        self.binary = server
        self.dir = tempfile.mkdtemp(prefix="fixwurx-chaos-redis-")
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir]
        argv += ["--save", "", "--appendonly", "yes", "--appendfsync", "always"]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for_port(self.port, SERVICE_TIMEOUT_S, self.proc)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no final save; only what the append-only file holds survives."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(SERVICE_TIMEOUT_S)
            self.proc = None

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        raise RuntimeError("PostgreSQL's server binaries (pg_ctl, initdb) are not installed")
    return Path(pg_ctl).parent


class PostgresCluster:
    """A throw-away PostgreSQL cluster on a free loopback port (trust auth, user postgres)."""

    def __init__(self) -> None:
        self.bin = _postgres_bin()
        self.dir = tempfile.mkdtemp(prefix="fixwurx-chaos-pg-")
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--no-sync")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> None:
        argv = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        done = subprocess.run(argv, capture_output=True, timeout=SERVICE_TIMEOUT_S, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stdout!r} {done.stderr!r}")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir}"
        )
        options += " -c fsync=off -c full_page_writes=off"  # a throw-away cluster on a busy disk
        log = os.path.join(self.dir, "server.log")
        self._run("pg_ctl", "-D", self.data, "-l", log, "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """`fast` ends every session (their transactions roll back); `immediate` is a crash."""
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):  # not running
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def gunicorn(database_url: str, redis_url: str, secret: str, log: Path) -> Iterator[int]:
    """The webhook receiver as production runs it (gunicorn, gthread), on a free port."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WEBHOOK_SECRET": secret,
        "SENTRY_DSN": "",
        "LOG_LEVEL": "WARNING",
    }
    argv = [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}"]
    argv += ["--worker-class", "gthread", "--workers", "1", "--threads", "4", "--preload"]
    argv += ["webhooks:create_app()"]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for_port(port, SERVICE_TIMEOUT_S, proc)
            yield port
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(15)
