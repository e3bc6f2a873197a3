"""A property-based fuzz of POST /webhooks/github (issue 16): whatever arrives, no 5xx and no
exception in the log.

Hypothesis sends random bodies (bytes, JSON of any shape, text in other encodings, sizes up to
and past the cap), random and hostile headers, signatures that are missing, wrong or valid over
garbage, and real payloads from @octokit/webhooks-examples with fields removed, nulled or
retyped and then validly signed, so they get past the signature into the handlers and the
database. The receiver runs in process (Flask's test client) on this session's PostgreSQL and
Redis, so each example costs milliseconds. The database is up throughout: the documented 503
(database unavailable) is the chaos tests' subject, so here any 5xx is a defect. The example
count is bounded (FUZZ_EXAMPLES) and printed; there is no per-example deadline, because this
machine's speed must not decide the verdict.
"""

from __future__ import annotations

import copy
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from app import defaults
from app.models import Base
from tests.fakes import webhooks as fake
from webhooks import create_app

SECRET = "fuzz-webhook-secret"
URL = "/webhooks/github"
#: Examples per run: enough to reach every handler with mangled payloads, a few seconds here.
FUZZ_EXAMPLES = 300
#: Events with handlers, plus ones without, plus ping.
EVENTS = [
    "issues",
    "issue_comment",
    "pull_request",
    "check_suite",
    "workflow_run",
    "installation",
    "installation_repositories",
    "push",
    "ping",
    "star",
]
#: Body sizes around the cap (padding of JSON whitespace, signed like any other body).
SIZES = [
    0,
    1,
    65_535,
    65_536,
    65_537,
    defaults.MAX_WEBHOOK_BYTES - 2,
    defaults.MAX_WEBHOOK_BYTES + 1,
]

header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=80,
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


class ErrorLog(logging.Handler):
    """Keeps every record at ERROR or above, and every record that carries an exception."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)


@pytest.fixture(scope="module")
def fuzz_client(postgres_url: str, redis_url: str) -> Iterator[FlaskClient]:
    app = create_app(
        {
            "DATABASE_URL": postgres_url,
            "REDIS_URL": redis_url,
            "WEBHOOK_SECRET": SECRET,
            "SENTRY_DSN": "",
        }
    )
    yield app.test_client()
    engine = create_engine(postgres_url)  # leave the shared database as the others expect it
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path into a JSON value (dict keys and list indexes)."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:5]):
            found += _paths(item, (*prefix, index))
    return found


#: Payloads FixWurx acts on (each derived from a real example by tests/fakes/webhooks.py), so
#: mangled copies reach the handlers' and the database's code, not only "not handled".
ACTIONABLE = {
    "issues": fake.labeled_issue,
    "issue_comment": fake.command_comment,
    "pull_request": fake.merged_pull_request,
    "check_suite": fake.failing_check_suite,
    "workflow_run": fake.failing_workflow_run,
}


@st.composite
def mangled_example(draw: st.DrawFn, event: str) -> bytes:
    """A real payload of `event` (or of another event) with a few fields removed or retyped."""
    if event in ACTIONABLE and draw(st.booleans()):
        payload = ACTIONABLE[event]()
    else:
        pool = fake.examples(event) if event in fake.events() else []
        pool = pool or fake.examples(draw(st.sampled_from(sorted(ACTIONABLE))))
        payload = copy.deepcopy(draw(st.sampled_from(pool)))
        payload.setdefault("installation", dict(fake.INSTALLATION))
    for _ in range(draw(st.integers(0, 3))):
        paths = _paths(payload)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = payload
        for key in path[:-1]:
            parent = parent[key]
        how = draw(st.sampled_from(["remove", "null", "retype", "huge", "string"]))
        if how == "remove":
            del parent[path[-1]]
        elif how == "null":
            parent[path[-1]] = None
        elif how == "huge":
            parent[path[-1]] = draw(st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**30, -1, 0]))
        elif how == "string":
            parent[path[-1]] = draw(st.text(max_size=300))
        else:
            parent[path[-1]] = draw(json_values)
    return json.dumps(payload).encode()


@st.composite
def bodies(draw: st.DrawFn, event: str) -> bytes:
    kind = draw(st.sampled_from(["bytes", "json", "encoded", "sized", *["example"] * 4]))
    if kind == "bytes":
        return draw(st.binary(max_size=2048))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "encoded":
        encoding = draw(st.sampled_from(["utf-16", "utf-32", "latin-1", "utf-8-sig", "cp1252"]))
        text_body = json.dumps(
            {"action": draw(st.text(max_size=20)), "zen": "é ✓"}, ensure_ascii=False
        )
        return text_body.encode(encoding, errors="replace")
    if kind == "sized":
        size = draw(st.sampled_from(SIZES))
        core = b'{"action":"labeled"}'
        return core + b" " * max(0, size - len(core)) if size else b""
    return draw(mangled_example(event))


@st.composite
def requests_(draw: st.DrawFn) -> tuple[bytes, dict[str, str]]:
    event = draw(st.sampled_from(EVENTS) | header_text)
    body = draw(bodies(event if isinstance(event, str) else "issues"))
    headers = {
        "Content-Type": draw(
            st.sampled_from(
                ["application/json", "application/x-www-form-urlencoded", "text/plain", ""]
            )
        ),
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": draw(st.sampled_from([str(uuid.uuid4())]) | header_text),
    }
    signature = draw(st.sampled_from([*["valid"] * 6, "missing", "wrong", "garbage"]))
    if signature == "valid":
        headers["X-Hub-Signature-256"] = fake.sign(body, SECRET)
    elif signature == "wrong":
        headers["X-Hub-Signature-256"] = fake.sign(body, "another-secret")
    elif signature == "garbage":
        headers["X-Hub-Signature-256"] = draw(header_text)
    if draw(st.booleans()):
        headers["Content-Encoding"] = draw(st.sampled_from(["gzip", "deflate", "identity"]))
    for name in draw(
        st.lists(st.sampled_from(["X-GitHub-Event", "X-GitHub-Delivery"]), max_size=1)
    ):
        headers.pop(name, None)
    return body, headers


def test_no_input_makes_the_receiver_fail(
    fuzz_client: FlaskClient, record_property: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    seen: list[int] = []
    statuses: dict[int, int] = {}

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(requests_())
    def one(request: tuple[bytes, dict[str, str]]) -> None:
        body, headers = request
        errors.records.clear()
        response = fuzz_client.post(URL, data=body, headers=headers)
        seen.append(response.status_code)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (response.status_code, response.get_data()[:300])
        assert not errors.records, [r.getMessage() for r in errors.records]

    try:
        one()
    finally:
        logging.getLogger().removeHandler(errors)
    record_property("fuzz_examples", len(seen))
    with capsys.disabled():
        print(f"\nwebhook fuzz: {len(seen)} requests, statuses {dict(sorted(statuses.items()))}")
    assert len(seen) >= FUZZ_EXAMPLES // 2  # hypothesis really ran (it may stop early when done)
