"""Dashboard benchmark: every page's latency with 100,000 runs and 1,000,000 candidates.

Creates its own PostgreSQL database (migrated to head, so the indexes of migration
0005_dashboard_indexes are there), seeds it with SQL `generate_series` (a year of runs over 50
repositories, ten candidates, four stages and two model calls per run, a pull request and bundle
per fixed run, 100,000 deliveries), then requests each page through the real Flask app, signed in,
and prints p50 / p95 / max per page.

    .venv/bin/python benchmarks/dashboard.py [--runs 100000] [--candidates-per-run 10] [--n 40]

Target (issue 15): p95 <= 1 s on every page. Needs redis-server on PATH and PostgreSQL at
FIXWURX_TEST_POSTGRES (the test suite's admin URL); the database is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from tests.fakes.loopback import redis_server  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "FIXWURX_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
#: Target from the issue, seconds.
TARGET_P95_S = 1.0
REPOSITORIES = 50
WARMUP = 3

SEED = [
    "INSERT INTO installations (id, account_login, account_type, suspended, created_at) "
    "VALUES (1, 'acme', 'Organization', false, now())",
    "INSERT INTO repositories (id, installation_id, full_name, default_branch, active) "
    "SELECT g, 1, 'acme/repo-' || g, 'main', true FROM generate_series(1, :repos) g",
    # A year of runs, newest last; one in ten fixed, one in ten failed, the rest by kind.
    """
    INSERT INTO runs (id, repository_id, kind, trigger, issue_number, status, reason, state,
                      created_at, started_at, finished_at)
    SELECT g, 1 + g % :repos,
           (ARRAY['issue', 'issue', 'ci', 'command'])[1 + g % 4],
           'issues.labeled', g,
           (ARRAY['fixed', 'not_fixed', 'not_fixed', 'failed', 'done', 'not_fixed', 'fixed',
                  'stopped', 'not_fixed', 'done'])[1 + g % 10],
           CASE WHEN g % 10 = 3 THEN 'crashed: RuntimeError: seeded failure ' || g END,
           '{}'::json,
           now() - make_interval(secs => (:runs - g) * 31536000.0 / :runs),
           now() - make_interval(secs => (:runs - g) * 31536000.0 / :runs) + interval '5 s',
           now() - make_interval(secs => (:runs - g) * 31536000.0 / :runs) + interval '300 s'
    FROM generate_series(1, :runs) g
    """,
    "INSERT INTO attempts (id, run_id, number, status, started_at) "
    "SELECT g, g, 1, 'done', now() FROM generate_series(1, :runs) g",
    """
    INSERT INTO stage_runs (attempt_id, stage, status, result, started_at, finished_at)
    SELECT a, (ARRAY['reproduce', 'localize', 'patch', 'verify'])[s], 'done', '{}'::json,
           now() - interval '1 day' + make_interval(secs => s * 10),
           now() - interval '1 day' + make_interval(secs => s * 10 + 4)
    FROM generate_series(1, :runs) a, generate_series(1, 4) s
    """,
    # Ten candidates per attempt, each the child of the one before (a deep lineage).
    """
    INSERT INTO candidates (id, attempt_id, parent_id, source, description, diff, status, score,
                            tokens, cost_usd, created_at)
    SELECT g, 1 + (g - 1) / :per_run,
           CASE WHEN (g - 1) % :per_run = 0 THEN NULL ELSE g - 1 END,
           (ARRAY['template:off_by_one', 'template:none_check', 'llm:openai'])[1 + g % 3],
           'candidate ' || g, '', (ARRAY['rejected', 'plausible'])[1 + g % 2], 0, 100, 0.001,
           now()
    FROM generate_series(1, :runs * :per_run) g
    """,
    """
    INSERT INTO llm_calls (run_id, repository_id, installation_id, provider, model, role,
                           input_tokens, output_tokens, cost_usd, status, latency_ms, created_at)
    SELECT 1 + g % :runs, 1 + (1 + g % :runs) % :repos, 1, 'openai', 'gpt-5-mini', 'patch',
           1000, 200, 0.01, 'ok', 800,
           now() - make_interval(secs => (2 * :runs - g) * 15768000.0 / :runs)
    FROM generate_series(1, 2 * :runs) g
    """,
    """
    INSERT INTO pull_requests (repository_id, number, run_id, issue_number, branch, base_branch,
                               bundle_hash, kind, state, created_at)
    SELECT r.repository_id, r.id, r.id, r.id, 'fixwurx/' || r.id, 'main', 'sha256:' || r.id,
           'fix', 'open', r.created_at + interval '240 s'
    FROM runs r WHERE r.status = 'fixed'
    """,
    "INSERT INTO patch_bundles (run_id, hash, body, created_at) "
    "SELECT id, 'sha256:' || id, '{}'::json, created_at FROM runs WHERE status = 'fixed'",
    """
    INSERT INTO deliveries (delivery_id, event, action, outcome, job_ids, received_at)
    SELECT 'dlv-' || g, 'issues', 'labeled', 'queued', json_build_array('run-' || g),
           now() - make_interval(secs => (:runs - g) * 31536000.0 / :runs)
    FROM generate_series(1, :runs) g
    """,
]


def seed(url: str, runs: int, per_run: int) -> float:
    from app.ops import migrate

    migrate.upgrade(url)
    engine = create_engine(url)
    started = time.perf_counter()
    params = {"runs": runs, "per_run": per_run, "repos": REPOSITORIES}
    with engine.begin() as conn:
        for statement in SEED:
            conn.execute(text(statement), params)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("runs", "candidates", "stage_runs", "llm_calls", "deliveries"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    return time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def measure(get: Callable[[str], int], path: str, n: int) -> list[float]:
    for _ in range(WARMUP):
        assert get(path) == 200, path
    times = []
    for _ in range(n):
        started = time.perf_counter()
        status = get(path)
        times.append(time.perf_counter() - started)
        assert status == 200, (path, status)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--candidates-per-run", type=int, default=10)
    parser.add_argument("--n", type=int, default=40, help="requests per page")
    args = parser.parse_args()

    name = f"fixwurx_bench_dash_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        with redis_server() as redis:
            seconds = seed(url, args.runs, args.candidates_per_run)
            print(
                f"seeded {args.runs:,} runs, {args.runs * args.candidates_per_run:,} candidates, "
                f"{4 * args.runs:,} stage rows, {2 * args.runs:,} model calls, "
                f"{args.runs:,} deliveries in {seconds:.1f} s"
            )
            return _pages(url, redis.url, args.runs, args.n)
    finally:
        from app import db

        for engine in db._engines.values():
            engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _pages(url: str, redis_url: str, runs: int, n: int) -> int:
    from app import create_app
    from app.dashboard import auth

    flask_app = create_app(
        {
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "GITHUB_CLIENT_ID": "bench",
            "GITHUB_CLIENT_SECRET": "bench",
            "DASHBOARD_USERS": "bench",
            "SECRET_KEY": "bench-secret-key",
        }
    )
    client = flask_app.test_client()
    with client.session_transaction() as session:
        session[auth.LOGIN_KEY] = "bench"  # signed in (the OAuth flow has its own tests)

    def get(path: str) -> int:
        return client.get(path).status_code

    pages = [
        ("overview", "/dashboard/"),
        ("runs", "/dashboard/runs"),
        ("runs ?repository", "/dashboard/runs?repository=acme/repo-7"),
        ("runs ?status&kind", "/dashboard/runs?status=failed&kind=ci"),
        ("runs ?dates", "/dashboard/runs?since=2026-03-01&until=2026-03-31"),
        ("runs page 100", f"/dashboard/runs?before={runs - 100 * 50}"),
        ("a run", f"/dashboard/runs/{runs // 2}"),
        ("repositories", "/dashboard/repositories"),
        ("deliveries", "/dashboard/deliveries"),
    ]
    print(f"{'page':<20} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}   ({n} requests each)")
    worst = 0.0
    for label, path in pages:
        times = measure(get, path, n)
        p95 = percentile(times, 0.95)
        worst = max(worst, p95)
        print(
            f"{label:<20} {percentile(times, 0.5) * 1000:8.1f} {p95 * 1000:8.1f} "
            f"{max(times) * 1000:8.1f}"
        )
    verdict = "meets" if worst <= TARGET_P95_S else "MISSES"
    print(f"worst p95 {worst * 1000:.1f} ms: {verdict} the target of {TARGET_P95_S * 1000:.0f} ms")
    return 0 if worst <= TARGET_P95_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
