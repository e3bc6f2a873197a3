"""The deployment files, checked by the tools operators use: promtool for the alerts, hadolint
for the Dockerfile, the Compose specification's schema, kubernetes-validate for the manifests.
No container engine runs here, so nothing is built; each check is shown to reject a broken copy.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from workers.queues import QUEUES

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
K8S_VERSION = "1.37.0"
#: Kinds kubernetes-validate has no schema for (CRDs); checked structurally below.
CUSTOM_KINDS = {"ScaledObject", "TriggerAuthentication"}


def _tool(name: str) -> str:
    found = shutil.which(name) or (str(BIN / name) if (BIN / name).exists() else None)
    assert found, f"{name} is not installed; .ci/run and requirements-dev.txt provide it"
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_alert_rules_are_valid_and_their_unit_tests_pass() -> None:
    checked = _run(_tool("promtool"), "check", "rules", str(DEPLOY / "prometheus" / "alerts.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 9 rules found" in checked.stdout
    tested = _run(
        _tool("promtool"), "test", "rules", str(DEPLOY / "prometheus" / "alerts_test.yml")
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: sum(rate(\n")
    assert _run(_tool("promtool"), "check", "rules", str(bad)).returncode != 0


def test_dockerfile_passes_hadolint() -> None:
    linted = _run(_tool("hadolint"), str(DEPLOY / "Dockerfile"))
    assert linted.returncode == 0, linted.stdout + linted.stderr
    text = (DEPLOY / "Dockerfile").read_text()
    assert text.count("\nFROM ") == 2 and "AS runtime" in text  # multi-stage
    assert "USER 10001" in text and "bubblewrap" in text


def test_hadolint_rejects_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian\nRUN apt-get install curl\n")
    assert _run(_tool("hadolint"), str(bad)).returncode != 0


def test_compose_file_matches_the_compose_specification(tmp_path: Path) -> None:
    compose = DEPLOY / "docker-compose.yml"
    checked = _run(
        _tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(compose)
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    services = yaml.safe_load(compose.read_text())["services"]
    assert set(services) == {"postgres", "redis", "release", "web", "proxy", "worker"}
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["release"]["command"] == ["fixwurx", "db", "upgrade"]
    broken = tmp_path / "compose.yml"
    broken.write_text(compose.read_text().replace("    depends_on:", "    dependz_on:", 1))
    rejected = _run(
        _tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(broken)
    )
    assert rejected.returncode != 0


def _manifests() -> list[dict[str, Any]]:
    docs = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def test_kubernetes_manifests_validate_strictly() -> None:
    kinds = []
    for doc in _manifests():
        kinds.append(doc["kind"])
        if doc["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    for kind in (
        "Deployment",
        "Service",
        "Ingress",
        "Job",
        "ConfigMap",
        "Secret",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "ScaledObject",
    ):
        assert kind in kinds, kind


def test_kubernetes_validate_rejects_a_wrong_field() -> None:
    web = next(d for d in _manifests() if d["kind"] == "Deployment")
    web["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(web, K8S_VERSION, strict=True)


def test_probes_point_at_the_health_endpoints_and_keda_at_the_rq_lists() -> None:
    docs = _manifests()
    web = next(
        d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "fixwurx-web"
    )
    containers = {c["name"]: c for c in web["spec"]["template"]["spec"]["containers"]}
    container = containers["web"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["resources"]["requests"] and container["resources"]["limits"]
    scaled = next(d for d in docs if d["kind"] == "ScaledObject")
    workers = {d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"}
    assert scaled["spec"]["scaleTargetRef"]["name"] in workers - {"fixwurx-web"}
    lists = [t["metadata"]["listName"] for t in scaled["spec"]["triggers"] if t["type"] == "redis"]
    assert lists == [f"rq:queue:{name}" for name in QUEUES]
    from rq import Queue

    assert all(name.startswith(Queue.redis_queue_namespace_prefix) for name in lists)
    hpa = next(d for d in docs if d["kind"] == "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "fixwurx-web"
