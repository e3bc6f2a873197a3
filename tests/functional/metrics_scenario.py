"""Run by tests/functional/test_metrics.py in a fresh interpreter, so that prometheus_client
starts in multiprocess mode (it reads PROMETHEUS_MULTIPROC_DIR when first imported).

argv: database URL, Redis URL, webhook secret. Sends real signed deliveries through the web app,
runs the queued job in a forking RQ worker (a separate work-horse process), writes a candidate
and a model call from another forked process, then prints the body of GET /metrics.
"""

from __future__ import annotations

import os
import sys

from redis import Redis
from rq import Worker

from app.config import Settings
from app.db import session_scope
from app.models import Attempt, CandidateRecord, LlmCall, Run
from tests.fakes import webhooks as fake
from webhooks import create_app
from workers.worker import build


def main(database_url: str, redis_url: str, secret: str) -> None:
    assert os.environ.get("PROMETHEUS_MULTIPROC_DIR"), "the test sets the multiprocess folder"
    flask_app = create_app(
        {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "WEBHOOK_SECRET": secret}
    )
    client = flask_app.test_client()

    def send(event: str, payload: dict[str, object], delivery_id: str, sign: bool = True) -> int:
        sent = fake.delivery(event, payload, secret if sign else "wrong-secret", delivery_id)
        return client.post("/webhooks/github", data=sent.body, headers=sent.headers).status_code

    statuses = [
        send("issues", fake.labeled_issue(), "m-1"),  # handled: one run queued
        send("issues", fake.labeled_issue(), "m-1"),  # the same delivery again: duplicate
        send("issues", fake.labeled_issue(), "m-2", sign=False),  # refused (401)
    ]
    print("STATUSES", statuses, file=sys.stderr)
    settings = Settings.from_env().replace(database_url=database_url, redis_url=redis_url)
    build(settings, Redis.from_url(redis_url), Worker).work(burst=True, with_scheduler=False)

    pid = os.fork()
    if pid == 0:  # another process writes rows: its counts must reach the scrape too
        with session_scope(database_url) as session:
            run_id = session.query(Run.id).scalar()
            attempt = Attempt(run_id=run_id, number=1)
            session.add(attempt)
            session.flush()
            session.add(
                CandidateRecord(attempt_id=attempt.id, source="template", status="plausible")
            )
            session.add(
                CandidateRecord(attempt_id=attempt.id, source="template", status="rejected")
            )
            session.add(
                LlmCall(
                    provider="openai",
                    model="gpt-x",
                    role="analysis",
                    input_tokens=120,
                    output_tokens=30,
                    cost_usd=0.25,
                )
            )
        os._exit(0)
    _, code = os.waitpid(pid, 0)
    assert code == 0, code
    sys.stdout.write(client.get("/metrics").get_data(as_text=True))


if __name__ == "__main__":
    main(*sys.argv[1:4])
