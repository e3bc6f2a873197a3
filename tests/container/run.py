"""`make container-test`: the shipped image repairs a bug, run as deploy/docker-compose.yml runs it.

1. Makes Docker answer (tests/container/docker_up.sh) and the Debian base images
   (tests/container/base_image.sh, cached), then builds deploy/Dockerfile as `fixwurx:test`.
2. Starts PostgreSQL (a generated password) and Redis (`requirepass`, generated) in containers
   from Debian's packages, and the fake GitHub (tests/fakes/github) on this host's loopback.
3. Runs the release step, the web app, its nginx proxy and a worker as containers of
   `fixwurx:test`, each with its compose service's container settings
   (tests/container/compose_flags.py), the App key mounted where fixwurx.env.example says, and
   `--network host` (this machine has no bridge network).
4. Sends a signed `issues.labeled` delivery through the proxy. The worker clones from the fake,
   reproduces the bug in its bubblewrap sandbox, fixes it and opens the pull request.

Ends with one line: `container-test: fixed`, or `container-test: <reason>` and exit status 1.
Details (build log, container logs) go to stderr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.container.compose_flags import flags_for
from tests.fakes.github import FakeGitHub
from tests.fakes.github.deliver import labeled, send
from tests.fakes.loopback import free_port

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DOCKER = "/usr/bin/docker"
IMAGE = "fixwurx:test"
PYTHON_IMAGE = "fixwurx-test/python:bookworm"
SERVICES_IMAGE = "fixwurx-test/services:bookworm"
APP_UID = 10001
#: Seconds the worker gets from the delivery to the pull request (measured: well under this).
REPAIR_TIMEOUT_S = 600.0
#: Seconds within which /healthz and a delivery must answer with slow clients connected.
PROMPT_S = 3.0
BUGGY = '''def is_adult(age):
    """People of 18 and over are adults."""
    return age > 18
'''
FIXED = BUGGY.replace("age > 18", "age >= 18")
TESTS = """from ages import is_adult


def test_eighteen_is_adult():
    assert is_adult(18)


def test_seventeen_is_not():
    assert not is_adult(17)
"""


class Failed(Exception):
    """The reason the container test did not end in `fixed` (one line)."""


def sh(*args: str, timeout: float = 600.0, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-15:]
        print("\n".join(tail), file=sys.stderr)
        raise Failed(f"`{' '.join(args[:4])} ...` exited {done.returncode}: {_last(done)}")
    return done


def _last(done: subprocess.CompletedProcess[str]) -> str:
    lines = (done.stderr or done.stdout or "").strip().splitlines()
    return lines[-1][:200] if lines else "(no output)"


class Containers:
    """The containers this run started, removed at the end whatever happened."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.names: list[str] = []
        self.volumes: list[str] = []

    def run(self, name: str, *args: str, detach: bool = True) -> str:
        full = f"{self.prefix}-{name}"
        self.names.append(full)
        mode = ["-d"] if detach else []
        sh(DOCKER, "run", *mode, "--name", full, "--network", "host", *args)
        return full

    def logs(self, name: str, lines: int = 40) -> str:
        done = sh(DOCKER, "logs", "--tail", str(lines), f"{self.prefix}-{name}", check=False)
        return (done.stdout + done.stderr).strip()

    def running(self, name: str) -> bool:
        done = sh(
            DOCKER, "inspect", "-f", "{{.State.Running}}", f"{self.prefix}-{name}", check=False
        )
        return done.stdout.strip() == "true"

    def remove(self) -> None:
        for name in reversed(self.names):
            sh(DOCKER, "rm", "-f", "-v", name, check=False)
        for volume in self.volumes:
            sh(DOCKER, "volume", "rm", "-f", volume, check=False)


def prepare_images() -> None:
    for script in ("docker_up.sh", "base_image.sh"):
        done = subprocess.run([str(HERE / script)], text=True, stderr=subprocess.PIPE)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            lines = done.stderr.strip().splitlines()
            raise Failed(f"{script}: {lines[-1] if lines else 'failed'}")
    started = time.monotonic()
    build = subprocess.run(
        [
            DOCKER,
            "build",
            "--network",
            "host",
            "-f",
            "deploy/Dockerfile",
            "--build-arg",
            f"PYTHON_IMAGE={PYTHON_IMAGE}",
            "-t",
            IMAGE,
            ".",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        # The engine's classic builder: BuildKit would fetch the `# syntax=` frontend image
        # from a registry, which this machine cannot reach.
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )
    if build.returncode != 0:
        print(build.stdout[-4000:], build.stderr[-4000:], file=sys.stderr)
        raise Failed(f"docker build of deploy/Dockerfile failed: {_last(build)}")
    print(f"container-test: built {IMAGE} in {time.monotonic() - started:.0f} s", file=sys.stderr)


def wait_until(what: str, check: object, timeout: float, every: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except Failed:
            raise
        except Exception as exc:  # the service is not up yet; keep the last reason
            last = f": {type(exc).__name__}: {exc}"[:200]
        time.sleep(every)
    raise Failed(f"{what} not ready after {timeout:.0f} s{last}")


def http_status(url: str, timeout: float = 3.0) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return int(reply.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def start_services(box: Containers, pg_password: str, redis_password: str) -> tuple[int, int]:
    pg_port, redis_port = free_port(), free_port()
    box.run(
        "postgres",
        "--user",
        "postgres",
        "-e",
        f"PGPASS={pg_password}",
        SERVICES_IMAGE,
        "sh",
        "-c",
        'umask 077 && printf "%s" "$PGPASS" > /tmp/pgpass && '
        "initdb -D /tmp/pg -U fixwurx -E UTF8 --locale=C --pwfile=/tmp/pgpass "
        "--auth=scram-sha-256 >/dev/null && "
        f"exec postgres -D /tmp/pg -p {pg_port} -k /tmp -c listen_addresses=127.0.0.1 "
        "-c fsync=off",
    )
    box.run(
        "redis",
        "--user",
        "redis",
        SERVICES_IMAGE,
        "redis-server",
        "--port",
        str(redis_port),
        "--bind",
        "127.0.0.1",
        "--requirepass",
        redis_password,
        "--save",
        "",
        "--appendonly",
        "no",
    )

    def pg_up() -> bool:
        done = sh(
            DOCKER,
            "exec",
            "-e",
            f"PGPASSWORD={pg_password}",
            f"{box.prefix}-postgres",
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(pg_port),
            "-U",
            "fixwurx",
            "-d",
            "postgres",
            "-c",
            "CREATE DATABASE fixwurx",
            check=False,
        )
        return done.returncode == 0

    wait_until("PostgreSQL", pg_up, 90)

    def redis_up() -> bool:
        from redis import Redis

        conn = Redis.from_url(f"redis://:{redis_password}@127.0.0.1:{redis_port}/0")
        try:
            return bool(conn.ping())
        finally:
            conn.close()

    wait_until("Redis", redis_up, 30)
    return pg_port, redis_port


def make_repo(fake: FakeGitHub) -> int:
    fake.add_repo(
        "octo/ages",
        {"ages.py": BUGGY, "tests/test_ages.py": TESTS},
        collaborators={"alice": "write"},
    )
    return fake.add_issue(
        "octo/ages", "18-year-olds are not adults", "is_adult(18) is False", labels=("fixwurx",)
    )


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="fixwurx-container-test-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def run() -> str:
    prepare_images()
    suffix = secrets.token_hex(3)
    box = Containers(f"fixwurx-ct-{suffix}")
    with workdir() as work, contextlib.ExitStack() as stack:
        stack.callback(box.remove)
        pg_password, redis_password = secrets.token_hex(16), secrets.token_hex(16)
        webhook_secret = secrets.token_hex(16)
        pg_port, redis_port = start_services(box, pg_password, redis_password)

        fake = FakeGitHub(work / "github").start()
        stack.callback(fake.stop)
        number = make_repo(fake)
        repo = fake.repos["octo/ages"]

        # The App key, mounted where deploy/fixwurx.env.example points PRIVATE_KEY_PATH, and
        # readable by the image's user only (compose's `secrets:`, docs/deployment.md).
        key = work / "fixwurx-app.pem"
        key.write_text(fake.private_key_pem)
        os.chown(key, APP_UID, APP_UID)
        key.chmod(0o400)
        env_file = work / "fixwurx.env"
        env_file.write_text(
            "\n".join(
                [
                    f"APP_ID={fake.app_id}",
                    "PRIVATE_KEY_PATH=/run/secrets/fixwurx-app.pem",
                    f"WEBHOOK_SECRET={webhook_secret}",
                    f"GITHUB_API_URL={fake.api_url}",
                    f"APP_SLUG={fake.slug}",
                    "DATABASE_URL=postgresql+psycopg://fixwurx:"
                    f"{pg_password}@127.0.0.1:{pg_port}/fixwurx",
                    f"REDIS_URL=redis://:{redis_password}@127.0.0.1:{redis_port}/0",
                    "PROMETHEUS_MULTIPROC_DIR=/tmp/fixwurx-metrics",
                    "SENTRY_DSN=",
                ]
            )
            + "\n"
        )
        env_file.chmod(0o600)
        common = [
            "--env-file",
            str(env_file),
            "-v",
            f"{key}:/run/secrets/fixwurx-app.pem:ro",
        ]

        release = sh(
            DOCKER,
            "run",
            "--rm",
            "--network",
            "host",
            *flags_for("release"),
            *common,
            IMAGE,
            "fixwurx",
            "db",
            "upgrade",
            check=False,
            timeout=300,
        )
        if release.returncode != 0:
            print(release.stdout, release.stderr, file=sys.stderr)
            raise Failed(f"the release step (fixwurx db upgrade) failed: {_last(release)}")

        web_port, proxy_port, metrics_port = free_port(), free_port(), free_port()
        box.run(
            "web",
            *flags_for("web"),
            *common,
            IMAGE,
            "fixwurx",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(web_port),
        )
        box.run(
            "proxy",
            *flags_for("proxy"),
            "-e",
            f"PROXY_PORT={proxy_port}",
            "-e",
            f"PROXY_UPSTREAM=127.0.0.1:{web_port}",
            IMAGE,
            "fixwurx-proxy",
        )
        volume = f"{box.prefix}-environments"
        box.volumes.append(volume)
        box.run(
            "worker",
            *flags_for("worker"),
            *common,
            "-e",
            f"METRICS_PORT={metrics_port}",
            "-v",
            f"{volume}:/home/fixwurx/.cache",
            IMAGE,
            "fixwurx",
            "worker",
        )

        def ready() -> bool:
            if not box.running("web"):
                raise Failed(f"the web container exited: {box.logs('web', 5)[-300:]}")
            return http_status(f"http://127.0.0.1:{web_port}/readyz") == 200

        wait_until("the web container's /readyz", ready, 60)
        wait_until(
            "the proxy",
            lambda: http_status(f"http://127.0.0.1:{proxy_port}/proxy-healthz") == 200,
            30,
        )

        def worker_up() -> bool:
            if not box.running("worker"):
                raise Failed("the worker container exited: " + box.logs("worker", 8)[-600:])
            return http_status(f"http://127.0.0.1:{metrics_port}/metrics") == 200

        wait_until("the worker", worker_up, 60)

        # 64 clients that send half a request header, to the proxy and to `fixwurx serve`
        # itself (issue 22, item 8): neither may stop intake.
        held = [_half_header(port) for port in (proxy_port, web_port) for _ in range(64)]
        stack.callback(lambda: [sock.close() for sock in held])
        time.sleep(0.5)
        started = time.monotonic()
        if http_status(f"http://127.0.0.1:{web_port}/healthz", timeout=PROMPT_S) != 200:
            raise Failed("/healthz did not answer beside 64 half-sent headers")
        status, body = send(
            f"http://127.0.0.1:{proxy_port}",
            "issues",
            labeled(fake, repo, number),
            webhook_secret,
        )
        if status != 202:
            raise Failed(f"the delivery through the proxy got {status}: {body[:200]!r}")
        if time.monotonic() - started > PROMPT_S:
            raise Failed("the delivery was slow to answer beside 64 half-sent headers")

        deadline = time.monotonic() + REPAIR_TIMEOUT_S
        while not fake.open_pulls("octo/ages"):
            if not box.running("worker"):
                raise Failed("the worker container exited: " + box.logs("worker", 8)[-600:])
            if time.monotonic() > deadline:
                print(box.logs("worker", 60), file=sys.stderr)
                raise Failed(f"no pull request {REPAIR_TIMEOUT_S:.0f} s after the delivery")
            time.sleep(1.0)
        (pull,) = fake.open_pulls("octo/ages")
        fixed = fake.show("octo/ages", pull["head"], "ages.py")
        if fixed != FIXED:
            raise Failed(f"the pull request's ages.py is not the fix: {fixed!r}")
        if fake.violations:
            raise Failed(f"requests broke GitHub's API description: {fake.violations[0]}")
        # The run is counted when its status turns final, just after the pull request.
        wait_until("the fixed run in the worker's /metrics", lambda: _counted(metrics_port), 60)
        return "fixed"


def _half_header(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"POST /webhooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl")
    return sock


def _counted(port: int) -> bool:
    """The run's count reached the worker's metrics (its work horse's files, merged)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
        text = reply.read().decode()
    return any(
        line.startswith("fixwurx_runs_finished_total{")
        and 'status="fixed"' in line
        and float(line.rsplit(" ", 1)[1]) >= 1
        for line in text.splitlines()
    )


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fake's request log
    started = time.monotonic()
    try:
        outcome = run()
    except Failed as exc:
        outcome = str(exc)
    except Exception as exc:  # the one line must still be printed
        outcome = f"{type(exc).__name__}: {exc}"[:300]
    print(f"container-test: wall time {time.monotonic() - started:.0f} s", file=sys.stderr)
    print(f"container-test: {outcome}", flush=True)
    return 0 if outcome == "fixed" else 1


if __name__ == "__main__":
    sys.exit(main())
