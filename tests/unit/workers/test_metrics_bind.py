"""The worker's metrics endpoint binds loopback unless told otherwise (issue 22, finding 11)."""

from __future__ import annotations

import socket
import urllib.request

from workers.worker import METRICS_ADDR_ENV, METRICS_PORT_ENV, start_metrics


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_endpoint_binds_loopback_by_default() -> None:
    port = _free_port()
    server = start_metrics({METRICS_PORT_ENV: str(port)})
    try:
        assert server.server_address[0] == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            assert answer.status == 200
    finally:
        server.shutdown()
        server.server_close()


def test_a_setting_opens_it() -> None:
    port = _free_port()
    server = start_metrics({METRICS_PORT_ENV: str(port), METRICS_ADDR_ENV: "0.0.0.0"})
    try:
        assert server.server_address[0] == "0.0.0.0"
    finally:
        server.shutdown()
        server.server_close()


def test_no_port_no_endpoint() -> None:
    assert start_metrics({}) is None
