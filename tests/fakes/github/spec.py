"""Checks requests against GitHub's published OpenAPI description (`@octokit/openapi`).

openapi-core takes seconds per request on the 13 MB description, so the description is indexed
once per process by method and path template, and request bodies are validated with the OAS 3.0
JSON-Schema dialect (which knows `nullable`). A request to an endpoint GitHub does not have, a
path or query parameter of the wrong type, a query parameter it does not take, or a body that
does not match is a violation; so is a response of the fake's that does not match the schema
GitHub documents for that status (`response_violations`), so the fake cannot teach FixWurx to
rely on a field or a shape real GitHub never sends.
"""

from __future__ import annotations

import copy
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
#: How deep `Spec.complete` descends into nested schemas (GitHub's nest a few levels).
FILL_DEPTH = 12
#: Placeholders for required strings of a declared format the fake does not set.
PLACEHOLDER_STRINGS = {
    "date-time": "2026-01-01T00:00:00Z",
    "uri": "https://github.example.invalid/placeholder",
    "email": "placeholder@example.invalid",
}
#: A `format: date-time` parameter (`since=2026-11-26T03:16:55Z`).
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


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
        _null_in_nullable_enums(document)
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
        problems = self._path_problems(op, path)
        problems += self._query_problems(op, query)
        problems += self._body_problems(op, body)
        return [f"{method} {path} ({op.template}): {p}" for p in problems]

    def response_violations(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Everything wrong with a response the fake gives to `method path` (empty: valid)."""
        op = self.match(method, path)
        if op is None:
            return []  # the request itself is already a violation
        if str(status) not in op.raw.get("responses", {}):
            documented = ", ".join(sorted(op.raw.get("responses", {})))
            return [
                f"{method} {path} ({op.template}): status {status} is not documented "
                f"(documented: {documented})"
            ]
        pointer = self._response_schema_pointer(op, status)
        if pointer is None:
            return []  # nothing documented to check (a 204, say)
        validator = OAS30Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=self.registry)
        return [
            f"{method} {path} ({op.template}) answered {status}: "
            f"{e.message} at {list(e.absolute_path)}"
            for e in validator.iter_errors(body)
        ]

    def complete(self, method: str, path: str, status: int, body: Any) -> Any:
        """`body` with every property the documented response requires and the fake does not
        model (GitHub's repository object alone requires 80) filled with a placeholder of the
        declared type: `null` where the schema allows it, else "", 0, false, [] or a nested
        object filled the same way. What the fake does set is left alone and is still
        validated by `response_violations`, so a wrong type or value it sends is still caught."""
        op = self.match(method, path)
        if op is None or str(status) not in op.raw.get("responses", {}):
            return body
        pointer = self._response_schema_pointer(op, status)
        if pointer is None:
            return body
        return self._fill({"$ref": f"#{pointer}"}, body, 0)

    def _response_schema_pointer(self, op: Operation, status: int) -> str | None:
        declared = op.raw["responses"][str(status)]
        pointer = _pointer("paths", op.template, op.method.lower(), "responses", str(status))
        if "$ref" in declared:
            name = declared["$ref"].rsplit("/", 1)[-1]
            pointer = _pointer("components", "responses", name)
            declared = self.document["components"]["responses"][name]
        content = declared.get("content", {})
        media = "application/json" if "application/json" in content else None
        if media is None or "schema" not in content[media]:
            return None
        return pointer + _pointer("content", media, "schema")

    def _fill(self, schema: dict[str, Any], data: Any, depth: int) -> Any:
        schema = self._resolve(schema)
        if depth > FILL_DEPTH:
            return data
        for part in schema.get("allOf", []):
            data = self._fill(part, data, depth + 1)
        options = schema.get("oneOf") or schema.get("anyOf")
        if options:
            return self._fill(self._best_option(schema, options, data), data, depth + 1)
        if isinstance(data, dict) and (schema.get("type") == "object" or "properties" in schema):
            properties = schema.get("properties", {})
            for name in schema.get("required", []):
                if name not in data:
                    data[name] = self._placeholder(properties.get(name, {}), depth + 1)
            for name, value in data.items():
                if name in properties:
                    data[name] = self._fill(properties[name], value, depth + 1)
        elif isinstance(data, list) and "items" in schema:
            data = [self._fill(schema["items"], item, depth + 1) for item in data]
        return data

    def _best_option(
        self, schema: dict[str, Any], options: list[dict[str, Any]], data: Any
    ) -> dict[str, Any]:
        """The alternative of a oneOf/anyOf that `data` names with the schema's discriminator,
        else the first one that `data`, once filled, is valid under."""
        discriminator = schema.get("discriminator", {})
        name = discriminator.get("propertyName")
        if name and isinstance(data, dict) and data.get(name) in discriminator.get("mapping", {}):
            return {"$ref": discriminator["mapping"][data[name]]}
        for option in options:
            if "$ref" not in option:
                continue
            filled = self._fill(option, copy.deepcopy(data), FILL_DEPTH - 6)
            validator = OAS30Validator({"$ref": SPEC_URI + option["$ref"]}, registry=self.registry)
            if validator.is_valid(filled):
                return option
        return options[0]

    def _placeholder(self, schema: dict[str, Any], depth: int) -> Any:
        schema = self._resolve(schema)
        if schema.get("nullable"):
            return None
        if "allOf" in schema or "properties" in schema or schema.get("type") == "object":
            return self._fill(schema, {}, depth)
        options = schema.get("oneOf") or schema.get("anyOf")
        if options:
            return self._placeholder(options[0], depth + 1)
        if schema.get("enum"):
            return schema["enum"][0]
        kind = schema.get("type")
        if kind == "string":
            return PLACEHOLDER_STRINGS.get(schema.get("format", ""), "")
        if kind in ("integer", "number"):
            return max(0, schema.get("minimum", 0))
        if kind == "boolean":
            return False
        if kind == "array":
            return []
        return None

    def _path_problems(self, op: Operation, path: str) -> list[str]:
        found = op.regex.fullmatch(path)
        if found is None:
            return []
        names = re.findall(r"\{([^}]+)\}", op.template)
        params = {p["name"]: p for p in self._parameters(op) if p["in"] == "path"}
        problems = []
        for name, value in zip(names, found.groups(), strict=True):
            schema = params.get(name, {}).get("schema", {})
            problem = _scalar_problem(value, self._resolve(schema))
            if problem:
                problems.append(f"path parameter {name}={value!r} {problem}")
        return problems

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        """Follow `$ref`s (`#/json/pointer` into the description) to the schema itself."""
        while "$ref" in schema:
            target: Any = self.document
            for part in schema["$ref"].split("#", 1)[1].strip("/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            schema = target
        return schema

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
            elif name in query:
                problem = _scalar_problem(query[name], self._resolve(param.get("schema", {})))
                if problem:
                    problems.append(f"query {name}={query[name]!r} {problem}")
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


def _null_in_nullable_enums(node: Any) -> None:
    """Add `null` to the `enum` of every `nullable` schema that lacks it.

    GitHub's description marks some enums nullable without listing null (a check run's
    `conclusion` while it runs, a job's), and GitHub does send null there; a strict OAS 3.0
    validator reads the enum as forbidding it. The description's intent is what GitHub sends."""
    if isinstance(node, dict):
        enum = node.get("enum")
        if node.get("nullable") and isinstance(enum, list) and None not in enum:
            enum.append(None)
        for value in node.values():
            _null_in_nullable_enums(value)
    elif isinstance(node, list):
        for value in node:
            _null_in_nullable_enums(value)


def _scalar_problem(value: str, schema: dict[str, Any]) -> str | None:
    """Why the text of a path or query parameter does not fit its declared scalar type."""
    kind = schema.get("type")
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", value):
            return "is not an integer"
        number = int(value)
        if "minimum" in schema and number < schema["minimum"]:
            return f"is below the minimum {schema['minimum']}"
        if "maximum" in schema and number > schema["maximum"]:
            return f"is above the maximum {schema['maximum']}"
    elif kind == "number" and not re.fullmatch(r"-?\d+(\.\d+)?", value):
        return "is not a number"
    elif kind == "boolean" and value not in ("true", "false"):
        return "is not true or false"
    elif kind == "string" and schema.get("format") == "date-time" and not ISO_TIME.fullmatch(value):
        return "is not an ISO 8601 timestamp"
    return None


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
