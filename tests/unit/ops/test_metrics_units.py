"""Small parts of app/ops/metrics.py: label mapping, the worker's endpoint, the ORM hooks."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.config import Settings
from app.ops import metrics
from tests.fakes.loopback import free_port


def test_unknown_events_are_one_label_value() -> None:
    assert metrics.event_label("issues") == "issues"
    assert metrics.event_label("made-up-by-a-sender") == "other"
    assert metrics.event_label(None) == "other"


def test_outcome_labels_follow_the_status_codes() -> None:
    assert metrics.delivery_outcome(202) == "handled"
    assert metrics.delivery_outcome(200, duplicate=True) == "duplicate"
    assert metrics.delivery_outcome(200) == "handled"  # ping
    assert metrics.delivery_outcome(204) == "ignored"
    assert [metrics.delivery_outcome(s) for s in (400, 401, 413)] == ["refused"] * 3
    assert metrics.delivery_outcome(503) == "unavailable"


def test_the_worker_endpoint_serves_the_counters() -> None:
    before = metrics.SWEEPER_ACTIONS.labels("resumed")._value.get()
    metrics.observe_sweep(resumed=2, failed=0, enqueued=1)
    port = free_port()
    server = metrics.start_worker_endpoint(port, addr="127.0.0.1")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            text = answer.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("fixwurx_sweeper_actions_total", (("action", "resumed"),))] == before + 2


def test_the_worker_endpoint_binds_loopback_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 22, item 7: worker metrics are not an open door on every interface by default."""
    from workers import worker

    server = metrics.start_worker_endpoint(free_port())
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.shutdown()
        server.server_close()
    started: list[tuple[int, str]] = []
    monkeypatch.setenv(worker.METRICS_PORT_ENV, "9100")
    monkeypatch.delenv(worker.METRICS_ADDR_ENV, raising=False)
    monkeypatch.setattr(metrics, "start_worker_endpoint", lambda p, a: started.append((p, a)))
    monkeypatch.setattr(worker, "build", _refuse_to_build)
    for addr in (None, "0.0.0.0"):
        if addr:
            monkeypatch.setenv(worker.METRICS_ADDR_ENV, addr)
        with pytest.raises(_Built):
            worker.run(Settings(sentry_dsn=""))
    assert started == [(9100, "127.0.0.1"), (9100, "0.0.0.0")]


class _Built(Exception):
    """Raised where the worker would be built: the test only needs what happened before."""


def _refuse_to_build(*_args: object, **_kwargs: object) -> None:
    raise _Built
