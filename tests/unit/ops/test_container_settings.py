"""The shipped deployment files against the defects of issue 23 and the service rules of
issue 22 (item 7), and the container test against the compose file it claims to run.

`make container-test` proves these settings work by running them (tests/container/run.py);
these checks keep the files from drifting away from what it proved.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.container import compose_flags

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
#: The worker's sandbox needs these and nothing more (docs/deployment.md says why, each).
SANDBOX_OPTIONS = {"seccomp=unconfined", "apparmor=unconfined", "systempaths=unconfined"}


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "docker-compose.yml").read_text()))


def _k8s() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _deployment(name: str) -> dict[str, Any]:
    return next(d for d in _k8s() if d["kind"] == "Deployment" and d["metadata"]["name"] == name)


def test_the_container_test_applies_every_setting_of_the_compose_services() -> None:
    services = compose_flags.services()
    for name in compose_flags.APP_SERVICES:
        flags = compose_flags.security_flags(services[name])
        service = services[name]
        assert flags[flags.index("--user") + 1] == service["user"] == "10001:10001"
        assert "--read-only" in flags and "--privileged" not in flags
        assert [flags[i + 1] for i, f in enumerate(flags) if f == "--cap-drop"] == ["ALL"]
        assert "--cap-add" not in flags
        options = {flags[i + 1] for i, f in enumerate(flags) if f == "--security-opt"}
        assert options == set(service["security_opt"])
    worker = compose_flags.flags_for("worker")
    options = {worker[i + 1] for i, f in enumerate(worker) if f == "--security-opt"}
    assert options == SANDBOX_OPTIONS | {"no-new-privileges:true"}
    for name in ("release", "web", "proxy"):  # they never run repository code
        flags = compose_flags.flags_for(name)
        assert not SANDBOX_OPTIONS & set(flags), name


def test_a_compose_key_the_container_test_would_ignore_is_refused() -> None:
    service = dict(compose_flags.services()["worker"])
    service["pid"] = "host"
    with pytest.raises(ValueError, match="pid"):
        compose_flags.security_flags(service)


def test_kubernetes_gives_the_worker_the_same_sandbox_settings() -> None:
    pod = _deployment("fixwurx-worker")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["hostUsers"] is False  # what lets procMount be Unmasked
    assert pod["securityContext"]["seccompProfile"]["type"] == "Unconfined"
    assert pod["securityContext"]["appArmorProfile"]["type"] == "Unconfined"
    assert pod["securityContext"]["runAsUser"] == 10001
    context = container["securityContext"]
    assert context["procMount"] == "Unmasked"  # compose: systempaths=unconfined
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert "privileged" not in context and "add" not in context["capabilities"]


def test_no_fixed_replicas_where_an_autoscaler_owns_the_count() -> None:
    docs = _k8s()
    scaled = {
        d["spec"]["scaleTargetRef"]["name"]
        for d in docs
        if d["kind"] in {"HorizontalPodAutoscaler", "ScaledObject"}
    }
    assert scaled == {"fixwurx-web", "fixwurx-worker"}
    for name in scaled:
        assert "replicas" not in _deployment(name)["spec"], name


def test_the_app_key_is_mounted_where_the_example_settings_look() -> None:
    example = (DEPLOY / "fixwurx.env.example").read_text()
    (path,) = re.findall(r"^PRIVATE_KEY_PATH=(\S+)$", example, re.M)
    compose = _compose()
    secret = path.removeprefix("/run/secrets/")
    assert path.startswith("/run/secrets/") and secret in compose["secrets"]
    for name in ("release", "web", "worker"):
        service = compose["services"][name]
        assert secret in service["secrets"], name
        assert service["environment"]["PRIVATE_KEY_PATH"] == path


def test_only_the_proxy_is_published_and_on_loopback_by_default() -> None:
    services = _compose()["services"]
    published = {name for name, s in services.items() if s.get("ports")}
    assert published == {"proxy"}
    (port,) = services["proxy"]["ports"]
    assert port.startswith("${FIXWURX_BIND:-127.0.0.1}:")
    assert services["proxy"]["command"] == ["fixwurx-proxy"]
    assert services["proxy"]["environment"]["PROXY_UPSTREAM"] == "web:8000"
    web = _deployment("fixwurx-web")
    service = next(d for d in _k8s() if d["kind"] == "Service")
    assert service["spec"]["ports"][0]["targetPort"] == "proxy"
    names = [c["name"] for c in web["spec"]["template"]["spec"]["containers"]]
    assert names == ["web", "proxy"]


def test_the_proxy_reads_requests_in_full_with_timeouts() -> None:
    conf = (DEPLOY / "proxy" / "nginx.conf.in").read_text()
    for directive in (
        "client_header_timeout 10s;",
        "client_body_timeout 20s;",
        "proxy_request_buffering on;",
        "client_max_body_size 25m;",
    ):
        assert directive in conf
    assert "location /metrics" not in conf  # Prometheus reaches the app directly


def test_no_default_credentials_ship_and_redis_needs_a_password() -> None:
    text = (DEPLOY / "docker-compose.yml").read_text()
    services = _compose()["services"]
    assert "fixwurx:fixwurx@" not in text
    password = services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    assert password.startswith("${POSTGRES_PASSWORD:?")  # compose refuses to start without it
    url = services["web"]["environment"]["DATABASE_URL"]
    assert "${POSTGRES_PASSWORD:?" in url
    command = services["redis"]["command"]
    assert command[command.index("--requirepass") + 1].startswith("${REDIS_PASSWORD:?")
    assert services["web"]["environment"]["REDIS_URL"].startswith("redis://:${REDIS_PASSWORD:?")
    secret = next(d for d in _k8s() if d["kind"] == "Secret")
    assert secret["stringData"]["REDIS_URL"].startswith("redis://:CHANGE-ME@")
    keda = next(d for d in _k8s() if d["kind"] == "TriggerAuthentication")
    assert {r["parameter"] for r in keda["spec"]["secretTargetRef"]} == {"address", "password"}


def test_compose_keeps_the_environment_cache_and_serves_worker_metrics() -> None:
    services = _compose()["services"]
    worker = services["worker"]
    assert worker["environment"]["METRICS_PORT"] == "9100"
    assert worker["environment"]["METRICS_ADDR"] == "0.0.0.0"
    assert "environments:/home/fixwurx/.cache" in worker["volumes"]
    assert "environments" in _compose()["volumes"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "/home/fixwurx/.cache" in dockerfile  # exists, owned by 10001, before the volume
