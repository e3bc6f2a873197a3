"""Local HTTP servers that emulate the OpenAI and Anthropic APIs with scripted answers.

They drive the REAL `openai` and `anthropic` SDKs through `base_url`, so tests exercise the SDKs'
request building, response parsing and error mapping, not a mock of them. A script is a queue of
steps: a `Reply` (text plus usage), a `Fault` (an HTTP error status such as 429 or 500) or a
`Reply` with `delay` (a slow answer that trips the client's timeout) or a `Raw` body (malformed
answers, servers that omit usage). When the queue is empty a
`responder` callable, if set, answers from the request; otherwise the server answers 500 with
"script exhausted" so a test that under-scripts fails loudly instead of hanging.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Kind = Literal["openai", "anthropic"]


@dataclass(frozen=True)
class Reply:
    """A successful answer with the usage the API reports for it."""

    text: str
    input_tokens: int = 100
    output_tokens: int = 50
    delay: float = 0.0


@dataclass(frozen=True)
class Fault:
    """An HTTP error answer (429 rate limit, 500 server error, 401 bad key...)."""

    status: int
    retry_after: float | None = None
    delay: float = 0.0


@dataclass(frozen=True)
class Raw:
    """A verbatim answer, for malformed bodies and servers that omit fields."""

    body: bytes
    status: int = 200
    delay: float = 0.0


Step = Reply | Fault | Raw
Responder = Callable[[dict[str, Any]], Step]


@dataclass
class Recorded:
    """One request the server received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def prompt(self) -> str:
        """All message text of the request (system included), for assertions."""
        parts = [str(self.body.get("system", ""))]
        for message in self.body.get("messages", []):
            content = message.get("content", "")
            if isinstance(content, list):
                content = " ".join(str(c.get("text", "")) for c in content)
            parts.append(str(content))
        return "\n".join(parts)


@dataclass
class FakeLLMServer:
    """A scripted OpenAI- or Anthropic-compatible server on 127.0.0.1."""

    kind: Kind
    responder: Responder | None = None
    script: deque[Step] = field(default_factory=deque)
    requests: list[Recorded] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def push(self, *steps: Step) -> None:
        """Append steps to the script."""
        self.script.extend(steps)

    @property
    def base_url(self) -> str:
        """What to pass as the SDK's `base_url` (OpenAI's includes `/v1`, Anthropic's does not)."""
        assert self._server is not None, "server not started"
        port = self._server.server_address[1]
        return (
            f"http://127.0.0.1:{port}/v1" if self.kind == "openai" else f"http://127.0.0.1:{port}"
        )

    def start(self) -> None:
        """Listen on a free loopback port in a daemon thread."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()

    def stop(self) -> None:
        """Wake slow handlers and stop listening."""
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def next_step(self, body: dict[str, Any]) -> Step:
        """The scripted step for this request."""
        with self._lock:
            if self.script:
                return self.script.popleft()
        if self.responder is None:
            return Fault(500)
        try:
            return self.responder(body)
        except Exception:  # a broken responder is a test bug: answer 500, do not hang up
            return Fault(500)

    def record(self, entry: Recorded) -> None:
        """Keep a request for assertions."""
        with self._lock:
            self.requests.append(entry)

    def sleep(self, seconds: float) -> None:
        """Sleep, but return at once when the server stops."""
        self._stop.wait(seconds)


@contextmanager
def fake_llm(kind: Kind, responder: Responder | None = None) -> Iterator[FakeLLMServer]:
    """A started server that is stopped on exit."""
    server = FakeLLMServer(kind, responder)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _handler_for(fake: FakeLLMServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # silence stderr noise
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.record(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            step = fake.next_step(body)
            if step.delay:
                fake.sleep(step.delay)
            # A slow step's client has timed out and hung up: that is the point of the step.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._answer(step, body)

        def _answer(self, step: Step, body: dict[str, Any]) -> None:
            if isinstance(step, Raw):
                self._send_bytes(step.status, step.body, {})
                return
            if isinstance(step, Fault):
                headers = {}
                if step.retry_after is not None:
                    headers["retry-after"] = str(step.retry_after)
                self._send(step.status, _error_body(fake.kind, step.status), headers)
                return
            payload = (
                _openai_body(step, body) if fake.kind == "openai" else _anthropic_body(step, body)
            )
            self._send(200, payload, {})

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
            self._send_bytes(status, json.dumps(payload).encode(), headers)

        def _send_bytes(self, status: int, data: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _openai_body(reply: Reply, request: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{time.monotonic_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "unknown"),
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply.text},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
        },
    }


def _anthropic_body(reply: Reply, request: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"msg_{time.monotonic_ns()}",
        "type": "message",
        "role": "assistant",
        "model": request.get("model", "unknown"),
        "content": [{"type": "text", "text": reply.text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": reply.input_tokens, "output_tokens": reply.output_tokens},
    }


def _error_body(kind: Kind, status: int) -> dict[str, Any]:
    message = f"scripted fault {status}"
    if kind == "openai":
        return {"error": {"message": message, "type": "fake_error", "code": str(status)}}
    return {"type": "error", "error": {"type": "fake_error", "message": message}}


# --- agent conversations ----------------------------------------------------------------------


def bash(command: str, thought: str = "Next step.") -> str:
    """A model reply that runs `command`, in the agent's one-block format."""
    return f"{thought}\n```bash\n{command}\n```"


def last_user_text(body: dict[str, Any]) -> str:
    """The text of the request's last user message (both APIs' shapes)."""
    for message in reversed(body.get("messages", [])):
        if message.get("role") != "user":
            continue
        content = message.get("content", "")
        if isinstance(content, list):
            return " ".join(str(c.get("text", "")) for c in content)
        return str(content)
    return ""


def system_text(body: dict[str, Any]) -> str:
    """The system prompt of a request (Anthropic's field, or OpenAI's system message)."""
    if "system" in body:
        system = body["system"]
        return (
            system if isinstance(system, str) else " ".join(str(c.get("text", "")) for c in system)
        )
    return next(
        (
            str(m.get("content", ""))
            for m in body.get("messages", [])
            if m.get("role") in ("system", "developer")
        ),
        "",
    )


Turn = Callable[[str], Step | str]


@dataclass
class Conversation:
    """A responder that plays an agent's side turn by turn.

    Each turn is a reply text, a `Step`, or a function of the last user message (the previous
    command's observation) that returns one, so a scripted trajectory can act on what the
    sandbox really printed. Requests that are not the agent's (`other`, by system prompt) are
    answered by `other_reply`. After the last turn the server answers 500, like an exhausted
    script.
    """

    turns: list[Turn | Step | str]
    other_reply: str = "I cannot tell."
    agent_marker: str = "repair agent"
    observations: list[str] = field(default_factory=list)
    others: int = 0

    def __call__(self, body: dict[str, Any]) -> Step:
        if self.agent_marker not in system_text(body):
            self.others += 1
            return Reply(self.other_reply)
        seen = last_user_text(body)
        self.observations.append(seen)
        if not self.turns:
            return Fault(500)
        turn = self.turns.pop(0)
        step = turn(seen) if callable(turn) else turn
        return Reply(step) if isinstance(step, str) else step
