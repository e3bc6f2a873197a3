"""Load benchmark of the webhook ingress: gunicorn on loopback, PostgreSQL, Redis.

Drives signed `issues.labeled` deliveries at rising rates, each sent once, then a stage where
every delivery is sent twice (the copies interleaved, some concurrently). Reports sustained
deliveries/s, p50/p99 acknowledgement latency, and lost or duplicated jobs, checked against both
the database (runs per delivery) and Redis (job ids in the queue).

    .venv/bin/python benchmarks/webhook_load.py [--rates 100,250,500,750] [--seconds 8]

Target (issue 4): >= 500 deliveries/s with p99 <= 50 ms; 0 lost and 0 duplicated. Latency is
measured from each request's scheduled send time, only 2xx answers count as served, and the
verdict also requires every stage to acknowledge every delivery it sent, with no errors
(issue 16, "Honest load figures").
Needs redis-server on PATH and a PostgreSQL reachable at FIXWURX_TEST_POSTGRES (the test
suite's admin URL); the benchmark creates and drops its own database and Redis.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from loadgen import StageResult, http_request, percentile, run_stage  # noqa: E402
from redis import Redis  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from tests.fakes import webhooks as fake  # noqa: E402
from tests.fakes.loopback import free_port, redis_server, wait_for_port  # noqa: E402

SECRET = "benchmark-webhook-secret"
PATH = "/webhooks/github"
POSTGRES_ADMIN_URL = os.environ.get(
    "FIXWURX_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
#: Target from the issue.
TARGET_RATE = 500
TARGET_P99_MS = 50.0
#: Deliveries per second during the 3 s warm-up (not reported).
WARMUP_RATE = 300


@contextmanager
def private_redis() -> Iterator[str]:
    with redis_server() as server:
        global REDIS_PID
        REDIS_PID = server.pid
        yield server.url


@contextmanager
def private_postgres() -> Iterator[str]:
    from app.ops.migrate import upgrade

    name = f"fixwurx_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)  # the schema the release step would create
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (from /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds used by `root` and its children (gunicorn's master and workers)."""
    children = Path(f"/proc/{root}/task/{root}/children")
    pids = [root] + [int(p) for p in children.read_text().split()] if children.exists() else [root]
    return sum(process_cpu_seconds(p) for p in pids)


GUNICORN_PID = 0
REDIS_PID = 0
#: What `fixwurx serve` ships (each request read in full before a thread takes it, so slow
#: clients cannot hold the threads); `--worker-class gthread` measures plain gthread.
SHIPPED_WORKER_CLASS = "webhooks.slowclients.BufferingThreadWorker"
WORKER_CLASS = SHIPPED_WORKER_CLASS
#: With --sync-commit: each delivery's commit waits for the disk flush (DELIVERY_SYNC_COMMIT).
SYNC_COMMIT = False
#: With --trace: where each worker writes its per-request phase timings (gunicorn_trace.py).
TRACE_DIR: str | None = None
#: (stage, start, end) in wall-clock seconds, to assign trace records to stages.
STAGE_WINDOWS: list[tuple[str, float, float]] = []
#: The phases gunicorn_trace.py records, in the order a request goes through them.
TRACE_PHASES = ("wait", "read", "app", "app_cpu", "redis", "db")


def machine_cpu() -> tuple[int, int, int]:
    """(busy, total, stolen) jiffies of the whole machine, from /proc/stat.

    Stolen time is CPU the hypervisor gave to other guests: on a shared host it slows every
    process here without showing up in any process's CPU time, so the report shows it.
    """
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    steal = fields[7] if len(fields) > 7 else 0
    return sum(fields) - idle - steal, sum(fields), steal


@contextmanager
def gunicorn(database_url: str, redis_url: str, workers: int, threads: int) -> Iterator[int]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WEBHOOK_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
        "SENTRY_DSN": "",
        "DELIVERY_SYNC_COMMIT": "1" if SYNC_COMMIT else "",
    }
    trace = []
    if TRACE_DIR:
        env["FIXWURX_TRACE_DIR"] = TRACE_DIR
        trace = ["--config", str(Path(__file__).with_name("gunicorn_trace.py"))]
    argv = [
        str(Path(sys.executable).parent / "gunicorn"),
        *trace,
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        WORKER_CLASS,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--preload",
        "--keep-alive",
        "30",
        "--backlog",
        "2048",
        "--log-level",
        "warning",
        "webhooks:create_app()",
    ]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env)
    global GUNICORN_PID
    GUNICORN_PID = proc.pid
    try:
        wait_for_port(port)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def build_deliveries(port: int, count: int, stage: str) -> list[tuple[str, bytes]]:
    """`count` signed issues.labeled deliveries, distinct issue numbers and delivery ids."""
    base = fake.labeled_issue()
    out = []
    for i in range(count):
        payload = dict(base)
        payload["issue"] = {**base["issue"], "number": i + 1}
        sent = fake.delivery("issues", payload, SECRET, delivery_id=f"{stage}-{i}-{uuid.uuid4()}")
        out.append(
            (sent.delivery_id, http_request("127.0.0.1", port, PATH, sent.body, sent.headers))
        )
    return out


def twice(deliveries: list[tuple[str, bytes]], seed: int = 4) -> list[tuple[str, bytes]]:
    """Every delivery twice; each copy lands 0-20 places after the first (some race it)."""
    rng = random.Random(seed)
    slots: list[tuple[float, tuple[str, bytes]]] = []
    for i, item in enumerate(deliveries):
        slots.append((i, item))
        slots.append((i + rng.uniform(0, 20), item))
    return [item for _, item in sorted(slots, key=lambda s: s[0])]


def check(database_url: str, redis_url: str, acked: set[str]) -> tuple[int, int]:
    """(lost, duplicated): acknowledged deliveries without exactly one run and one queued job."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT delivery_id, id FROM runs")).all()
    engine.dispose()
    runs_per_delivery = Counter(d for d, _ in rows)
    run_of = {d: run_id for d, run_id in rows}
    conn_r = Redis.from_url(redis_url, decode_responses=True)
    queued = Counter(conn_r.lrange("rq:queue:fixwurx-default", 0, -1))
    lost = sum(1 for d in acked if runs_per_delivery[d] == 0 or queued[f"run-{run_of[d]}"] == 0)
    duplicated = sum(n - 1 for n in runs_per_delivery.values() if n > 1)
    duplicated += sum(n - 1 for n in queued.values() if n > 1)
    return lost, duplicated


#: Statuses that acknowledge a delivery: 202 (recorded and enqueued), 200 (a duplicate).
ACK_STATUSES = (200, 202)


def summarize(name: str, stage: StageResult, unique: int, lost: int, dup: int) -> dict:
    """One stage's row. Only 2xx answers count towards achieved/s and the latencies; every
    other answer, and every request that got none, is an error."""
    latencies = stage.latencies_ms()
    statuses = Counter(r.status for r in stage.results)
    return {
        "stage": name,
        "target/s": stage.rate,
        "sent": stage.sent,
        "unique": unique,
        "acked": sum(1 for r in stage.results if r.status in ACK_STATUSES),
        "achieved/s": round(stage.achieved_rate, 1),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies, default=0.0), 2),
        "statuses": dict(sorted(statuses.items())),
        "errors": stage.errors,
        "lost": lost,
        "duplicated": dup,
    }


def postgres_backends(database_url: str) -> list[int]:
    """Server process ids of every session on the benchmark's database."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).all()
    engine.dispose()
    return [int(pid) for (pid,) in rows]


def stack_cpu_seconds(database_url: str) -> dict[str, float]:
    """CPU seconds so far of each part: web (gunicorn), database backends, Redis, this process."""
    return {
        "web": tree_cpu_seconds(GUNICORN_PID),
        "db": sum(process_cpu_seconds(p) for p in postgres_backends(database_url)),
        "redis": process_cpu_seconds(REDIS_PID),
        "loadgen": time.process_time(),
    }


def run_one(
    name: str,
    port: int,
    database_url: str,
    redis_url: str,
    items: list[tuple[str, bytes]],
    rate: float,
    connections: int,
    seconds: float,
    acked_so_far: set[str],
) -> dict:
    cpu_before = stack_cpu_seconds(database_url)
    busy_before, total_before, steal_before = machine_cpu()
    started = time.time()
    stage = run_stage(
        "127.0.0.1", port, [req for _, req in items], rate, connections, limit_s=seconds * 3
    )
    STAGE_WINDOWS.append((name, started, time.time()))
    busy_after, total_after, steal_after = machine_cpu()
    cpu_after = stack_cpu_seconds(database_url)
    # Backends that ended during the stage are missed; the web tier keeps its connections open.
    used = {k: max(0.0, cpu_after[k] - cpu_before[k]) for k in cpu_after}
    ids = [d for d, _ in items]
    acked = {ids[r.index] for r in stage.results if r.status in ACK_STATUSES}
    acked_so_far |= acked
    lost, dup = check(database_url, redis_url, acked_so_far)
    row = summarize(name, stage, len(set(ids)), lost, dup)
    answered = max(1, len(stage.ok))
    row["web_cpu_ms_per_req"] = round(used["web"] * 1000 / answered, 2)
    row["stack_cpu_ms_per_req"] = round(sum(used.values()) * 1000 / answered, 2)
    row["cpu_ms_per_req_by_part"] = {k: round(v * 1000 / answered, 2) for k, v in used.items()}
    row["machine_busy_pct"] = round(
        100 * (busy_after - busy_before) / max(1, total_after - total_before)
    )
    row["stolen_pct"] = round(
        100 * (steal_after - steal_before) / max(1, total_after - total_before), 1
    )
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="100,250,500,750")
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each stage")
    parser.add_argument("--twice-rate", type=float, default=TARGET_RATE)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--worker-class",
        default="shipped",
        choices=["shipped", "gthread", "sync"],
        help="shipped: fixwurx serve's buffering gthread worker (the default)",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="time each request's phases in the web workers and print where the time went",
    )
    parser.add_argument(
        "--sync-commit",
        action="store_true",
        help="acknowledge a delivery only once its commit is on disk (DELIVERY_SYNC_COMMIT=1)",
    )
    args = parser.parse_args()
    global WORKER_CLASS, TRACE_DIR, SYNC_COMMIT
    WORKER_CLASS = SHIPPED_WORKER_CLASS if args.worker_class == "shipped" else args.worker_class
    SYNC_COMMIT = args.sync_commit
    if args.trace:
        TRACE_DIR = tempfile.mkdtemp(prefix="fixwurx-trace-")
    rates = [float(r) for r in args.rates.split(",")]
    rows = []
    busy0, total0, _ = machine_cpu()
    time.sleep(3)
    busy1, total1, _ = machine_cpu()
    background = round(100 * (busy1 - busy0) / max(1, total1 - total0))
    print(f"machine: {os.cpu_count()} CPUs, {background}% busy before the benchmark started")
    with private_redis() as redis_url, private_postgres() as database_url:  # noqa: SIM117
        with gunicorn(database_url, redis_url, args.workers, args.threads) as port:
            acked: set[str] = set()
            # Warm-up on every connection at a rate that busies every gunicorn thread, so each
            # has opened its database and Redis connections before anything is measured; every
            # delivery is sent twice, so the duplicate paths (a copy finding the done mark, or
            # racing the first and reading its job ids) are warm too. Before, one request at the
            # start of the twice stage took 63 ms of CPU (--trace).
            warm = twice(build_deliveries(port, WARMUP_RATE * 3 // 2, "warmup"))
            run_one(
                "warmup",
                port,
                database_url,
                redis_url,
                warm,
                WARMUP_RATE,
                args.connections,
                3,
                acked,
            )
            for rate in rates:
                items = build_deliveries(port, int(rate * args.seconds), f"r{int(rate)}")
                rows.append(
                    run_one(
                        f"once@{int(rate)}",
                        port,
                        database_url,
                        redis_url,
                        items,
                        rate,
                        args.connections,
                        args.seconds,
                        acked,
                    )
                )
                print(json.dumps(rows[-1]), flush=True)
            count = int(args.twice_rate * args.seconds / 2)
            items = twice(build_deliveries(port, count, "twice"))
            rows.append(
                run_one(
                    f"twice@{int(args.twice_rate)}",
                    port,
                    database_url,
                    redis_url,
                    items,
                    args.twice_rate,
                    args.connections,
                    args.seconds,
                    acked,
                )
            )
            print(json.dumps(rows[-1]), flush=True)
    if TRACE_DIR:
        report_trace(TRACE_DIR)
        shutil.rmtree(TRACE_DIR, ignore_errors=True)
    return report(rows)


def report_trace(directory: str) -> None:
    """Per stage: how each phase of a request was distributed, and each worker's share."""
    files = [json.loads(f.read_text()) for f in Path(directory).glob("*.json")]
    records = [r for f in files for r in f["requests"]]
    collections = [c for f in files for c in f["collections"]]
    print("\nwhere the time went in the web workers (ms; see benchmarks/gunicorn_trace.py)")
    print(f"{'stage':<12}{'phase':<9}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}")
    for name, start, end in STAGE_WINDOWS:
        if name == "warmup":
            continue
        inside = [r for r in records if start <= r["at"] <= end]
        if not inside:
            continue
        for phase in TRACE_PHASES:
            values = [r[phase] for r in inside]
            print(
                f"{name:<12}{phase:<9}{percentile(values, 50):>8.2f}{percentile(values, 90):>8.2f}"
                f"{percentile(values, 99):>8.2f}{max(values):>8.2f}"
            )
        shares = Counter(int(r["pid"]) for r in inside)
        split = " / ".join(f"{100 * n / len(inside):.0f}%" for _, n in shares.most_common())
        print(f"{name:<12}requests per worker: {split}")
        for generation in (0, 1, 2):
            pauses = [
                c["ms"]
                for c in collections
                if c["generation"] == generation and start <= c["at"] <= end
            ]
            if pauses:
                print(
                    f"{name:<12}gc gen{generation}: {len(pauses)} collections, "
                    f"max {max(pauses):.2f} ms, total {sum(pauses):.0f} ms"
                )


def report(rows: list[dict]) -> int:
    print()
    header = f"{'stage':<12}{'target/s':>9}{'achieved/s':>11}{'sent':>7}{'acked':>7}{'p50 ms':>8}"
    header += f"{'p99 ms':>8}{'max ms':>8}{'errors':>7}{'lost':>6}{'dup':>5}"
    header += f"{'web cpu ms':>11}{'all cpu ms':>11}{'busy %':>7}{'stolen %':>9}"
    print(header)
    for r in rows:
        print(
            f"{r['stage']:<12}{r['target/s']:>9.0f}{r['achieved/s']:>11.1f}{r['sent']:>7}"
            f"{r['acked']:>7}"
            f"{r['p50_ms']:>8.2f}{r['p99_ms']:>8.2f}{r['max_ms']:>8.2f}{r['errors']:>7}"
            f"{r['lost']:>6}{r['duplicated']:>5}{r['web_cpu_ms_per_req']:>11.2f}"
            f"{r['stack_cpu_ms_per_req']:>11.2f}{r['machine_busy_pct']:>7}{r['stolen_pct']:>9.1f}"
        )
    once = [r for r in rows if r["stage"].startswith("once")]
    answered = sum(r["acked"] for r in once)
    per_delivery = sum(r["stack_cpu_ms_per_req"] * r["acked"] for r in once) / max(1, answered)
    cpus = os.cpu_count() or 1
    if per_delivery:
        print(
            f"\nCPU per new delivery (once-stages, weighted) across web + PostgreSQL backends + "
            f"Redis + load generator: "
            f"{per_delivery:.2f} ms, i.e. at most {1000 * cpus / per_delivery:.0f} deliveries/s "
            f"if this stack had all {cpus} CPUs to itself"
        )
    passed, lines = verdict(rows)
    print()
    for line in lines:
        print(line)
    return 0 if passed else 1


def stage_problems(row: dict) -> list[str]:
    """Why one stage fails regardless of speed: every delivery sent must be acknowledged (2xx),
    none may error, and every acknowledged one must be exactly one run and one queued job."""
    problems = []
    if row["acked"] != row["sent"]:
        problems.append(f"acked {row['acked']} of {row['sent']} sent")
    if row["errors"]:
        problems.append(f"{row['errors']} errors (statuses {row['statuses']})")
    if row["lost"]:
        problems.append(f"{row['lost']} lost")
    if row["duplicated"]:
        problems.append(f"{row['duplicated']} duplicated")
    return problems


def meets_speed(row: dict) -> bool:
    """The stage served (2xx) at least 95% of its target rate with p99 within the target."""
    return row["p99_ms"] <= TARGET_P99_MS and row["achieved/s"] >= 0.95 * row["target/s"]


def verdict(rows: list[dict]) -> tuple[bool, list[str]]:
    """(passed, lines to print). Passes only if every stage is clean (`stage_problems`), a
    once-stage at >= 95% of TARGET_RATE met the speed target, and every twice-stage (each
    delivery sent twice) did too."""
    lines = []
    clean = True
    for row in rows:
        problems = stage_problems(row)
        if problems:
            clean = False
            lines.append(f"{row['stage']}: FAILED: " + "; ".join(problems))
    meeting = [
        r["achieved/s"]
        for r in rows
        if r["stage"].startswith("once") and not stage_problems(r) and meets_speed(r)
    ]
    sustained = max(meeting, default=0.0)
    twice = [r for r in rows if r["stage"].startswith("twice")]
    twice_ok = bool(twice) and all(meets_speed(r) for r in twice)
    fast = sustained >= 0.95 * TARGET_RATE
    passed = clean and fast and twice_ok
    lines.append(
        f"sustained: {sustained:.1f} deliveries/s acknowledged with p99 <= {TARGET_P99_MS:.0f} ms "
        f"(from the scheduled send time); every stage acked == sent with 0 errors, 0 lost, "
        f"0 duplicated: {clean}; twice-stage within target: {twice_ok}; "
        f"target {'MET' if passed else 'NOT MET'}"
    )
    return passed, lines


if __name__ == "__main__":
    sys.exit(main())
