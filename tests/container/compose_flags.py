"""The shipped compose file's container settings, as `docker run` flags.

The container test starts each FixWurx container from deploy/docker-compose.yml's own service
definition: what it proves (the worker's sandbox works, nothing needs root) holds for the file
operators use. Every key of a service is either turned into a flag here or known not to be a
container setting; an unknown key fails (tests/unit/ops/test_container_settings.py), so a
setting added to compose cannot be silently left out of the test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "docker-compose.yml"
#: Keys that shape the container's isolation: each becomes a `docker run` flag.
SECURITY_KEYS = frozenset(
    {"user", "read_only", "cap_drop", "cap_add", "security_opt", "tmpfs", "privileged"}
)
#: Keys the test sets its own way (loopback ports, its own services, env, key file, volume).
OTHER_KEYS = frozenset(
    {
        "image",
        "build",
        "command",
        "env_file",
        "environment",
        "secrets",
        "restart",
        "depends_on",
        "healthcheck",
        "deploy",
        "stop_grace_period",
        "ports",
        "volumes",
    }
)
#: The FixWurx services the container test runs, and what it runs in each.
APP_SERVICES = ("release", "web", "proxy", "worker")


def services(path: Path = COMPOSE) -> dict[str, dict[str, Any]]:
    """The services of the compose file, with `<<: *fixwurx` merged in."""
    loaded = yaml.safe_load(path.read_text())
    return dict(loaded["services"])


def security_flags(service: dict[str, Any]) -> list[str]:
    """`docker run` flags for the service's container settings; raises on an unknown key."""
    unknown = set(service) - SECURITY_KEYS - OTHER_KEYS
    if unknown:
        raise ValueError(f"compose keys the container test does not apply: {sorted(unknown)}")
    flags: list[str] = []
    if "user" in service:
        flags += ["--user", str(service["user"])]
    if service.get("read_only"):
        flags.append("--read-only")
    if service.get("privileged"):
        flags.append("--privileged")
    for cap in service.get("cap_drop", []):
        flags += ["--cap-drop", str(cap)]
    for cap in service.get("cap_add", []):
        flags += ["--cap-add", str(cap)]
    for option in service.get("security_opt", []):
        flags += ["--security-opt", str(option)]
    for mount in service.get("tmpfs", []):
        flags += ["--tmpfs", str(mount)]  # path[:options], as compose passes it to the engine
    return flags


def flags_for(name: str, path: Path = COMPOSE) -> list[str]:
    return security_flags(services(path)[name])
