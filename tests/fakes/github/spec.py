"""Checks requests against GitHub's published OpenAPI description (`@octokit/openapi`).

openapi-core takes seconds per request on the 13 MB description, so the description is indexed
once per process by method and path template, and request bodies are validated with the OAS 3.0
JSON-Schema dialect (which knows `nullable`). A request to an endpoint GitHub does not have, a
query parameter it does not take, or a body that does not match is a violation.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

ROOT = Path(__file__).resolve().parents[3]
SPEC_PATH = ROOT / "node_modules" / "@octokit" / "openapi" / "generated" / "api.github.com.json"
SPEC_URI = "urn:github-openapi"


@dataclass(frozen=True)
class Operation:
    """One documented method + path template."""

    method: str
    template: str
    regex: re.Pattern[str]
    literal_segments: int
    raw: dict[str, Any]


class Spec:
    """The indexed description; build once with `load_spec()`."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.registry: Registry[Any] = Registry().with_resource(
            SPEC_URI, Resource.from_contents(document, default_specification=DRAFT4)
        )
        self.operations: dict[str, list[Operation]] = {}
        for template, item in document["paths"].items():
            for method, raw in item.items():
                if method in ("get", "post", "put", "patch", "delete", "head"):
                    op = _operation(method.upper(), template, raw)
                    self.operations.setdefault(op.method, []).append(op)
        for ops in self.operations.values():
            ops.sort(key=lambda o: -o.literal_segments)

    def match(self, method: str, path: str) -> Operation | None:
        """The most specific documented operation for `method path`."""
        for op in self.operations.get("GET" if method == "HEAD" else method, []):
            if op.regex.fullmatch(path):
                return op
        return None

    def violations(
        self, method: str, path: str, query: dict[str, str], body: Any | None
    ) -> list[str]:
        """Everything wrong with a request, as readable sentences (empty: valid)."""
        op = self.match(method, path)
        if op is None:
            return [f"{method} {path}: no such endpoint in GitHub's REST API"]
        problems = self._query_problems(op, query)
        problems += self._body_problems(op, body)
        return [f"{method} {path} ({op.template}): {p}" for p in problems]

    def _parameters(self, op: Operation) -> list[dict[str, Any]]:
        params = []
        for param in op.raw.get("parameters", []):
            if "$ref" in param:
                name = param["$ref"].rsplit("/", 1)[-1]
                param = self.document["components"]["parameters"][name]
            params.append(param)
        return params

    def _query_problems(self, op: Operation, query: dict[str, str]) -> list[str]:
        known = {p["name"]: p for p in self._parameters(op) if p["in"] == "query"}
        problems = [f"unknown query parameter {name!r}" for name in query if name not in known]
        for name, param in known.items():
            if param.get("required") and name not in query:
                problems.append(f"missing required query parameter {name!r}")
            enum = param.get("schema", {}).get("enum")
            if name in query and enum and query[name] not in [str(e) for e in enum]:
                problems.append(f"query {name}={query[name]!r} is not one of {enum}")
        return problems

    def _body_problems(self, op: Operation, body: Any | None) -> list[str]:
        declared = op.raw.get("requestBody")
        if declared is None:
            return [] if body is None else ["this endpoint takes no request body"]
        if body is None:
            return ["missing request body"] if declared.get("required") else []
        pointer = _pointer("paths", op.template, op.method.lower(), "requestBody", "content")
        schema = {"$ref": f"{SPEC_URI}#{pointer}/application~1json/schema"}
        validator = OAS30Validator(schema, registry=self.registry)
        return [
            f"body: {e.message} at {list(e.absolute_path)}" for e in validator.iter_errors(body)
        ]


def _operation(method: str, template: str, raw: dict[str, Any]) -> Operation:
    pattern = ""
    literal = 0
    for segment in template.strip("/").split("/"):
        pattern += "/"
        for piece in re.split(r"(\{[^}]+\})", segment):
            if piece.startswith("{"):
                # `{path}` in the contents API spans slashes; other parameters are one segment.
                pattern += "(.+)" if piece == "{path}" else "([^/]+)"
            else:
                pattern += re.escape(piece)
        literal += "{" not in segment
    return Operation(method, template, re.compile(pattern), literal, raw)


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


@functools.cache
def load_spec() -> Spec:
    """The description, parsed and indexed once per process."""
    if not SPEC_PATH.exists():
        raise FileNotFoundError(f"{SPEC_PATH} is missing; run `npm install` (see package.json)")
    return Spec(json.loads(SPEC_PATH.read_text(encoding="utf-8")))
