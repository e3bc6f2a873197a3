"""`fixwurx forward` against a local stand-in for smee.io: deliveries reach FixWurx's real
webhook endpoint with their headers, and GitHub's signature still verifies after the trip."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from werkzeug.serving import make_server

from app.models import Base
from app.onboarding import forward
from webhooks import create_app

SECRET = "forward-test-secret"


def github_message(event: str, payload: dict[str, Any], secret: str = SECRET) -> dict[str, Any]:
    """What smee.io streams for one GitHub delivery (GitHub's body is compact JSON)."""
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return {
        "x-github-event": event,
        "x-github-delivery": f"dlv-{event}",
        "x-hub-signature-256": signature,
        "user-agent": "GitHub-Hookshot/abc",
        "host": "smee.io",
        "body": payload,
        "query": {},
        "timestamp": 1765000000000,
    }


class StandInSmee(BaseHTTPRequestHandler):
    """Streams a ready event, a ping keep-alive, then each message, then ends the stream."""

    messages: list[dict[str, Any]] = []

    def do_GET(self) -> None:
        assert self.headers["Accept"] == "text/event-stream"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(
            b"event: ready\ndata: {}\n\n: keep-alive comment\n\nevent: ping\ndata: {}\n\n"
        )
        for message in self.messages:
            self.wfile.write(f"data: {json.dumps(message)}\n\n".encode())
            self.wfile.flush()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def smee() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StandInSmee)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/abc123"
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver(tmp_path: Path, redis_url: str) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'forward.sqlite3'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    flask_app = create_app({"DATABASE_URL": url, "REDIS_URL": redis_url, "WEBHOOK_SECRET": SECRET})
    http = make_server("127.0.0.1", 0, flask_app, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{http.server_port}/webhooks/github"
    http.shutdown()


def test_deliveries_reach_the_receiver_with_a_signature_that_verifies(
    smee: str, receiver: str
) -> None:
    zen = {"zen": "Design for failure — é ✓", "hook_id": 42, "hook": {"active": True}}
    StandInSmee.messages = [
        github_message("ping", zen),
        github_message("star", {"action": "created", "n": [1, 2.5, None]}),
        github_message("ping", zen, secret="not-the-secret"),
    ]
    done: list[forward.Forwarded] = []
    forward.run(smee, receiver, done.append, should_stop=lambda: len(done) >= 3)
    assert [(f.event, f.status) for f in done] == [("ping", 200), ("star", 204), ("ping", 401)]
    assert done[0].delivery == "dlv-ping"
