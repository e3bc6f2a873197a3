"""Real GitHub webhook payloads, the variants GitHub's examples lack, and signed deliveries.

Payloads come from `@octokit/webhooks-examples` (the examples GitHub's own docs are built from),
so tests exercise the shapes GitHub actually sends. The examples lack some cases FixWurx routes on
(a merged pull request, a comment on a pull request, a `/fixwurx` command, a failing check suite
or workflow run) and mostly lack an `installation`; the builders here derive those from real
examples, and every payload handed out is validated against `@octokit/webhooks-schemas` so a
variant can never drift into a shape GitHub would not send.

Stable API (other test suites import it):

- `example(event, action=None, *, installed=True, index=None, **overrides) -> dict`
- `sign(body, secret) -> str` and `delivery_headers(event, body, secret, delivery_id=None)`
- `delivery(event, payload, secret, delivery_id=None) -> Delivery` (body bytes + headers)
- `post(url, delivery) -> (status, body)`: send it over real HTTP (loopback)
- variant builders: `labeled_issue`, `command_comment`, `merged_pull_request`,
  `failing_check_suite`, `failing_workflow_run`
"""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES_DIR = ROOT / "node_modules" / "@octokit" / "webhooks-examples" / "api.github.com"
SCHEMA_PATH = ROOT / "node_modules" / "@octokit" / "webhooks-schemas" / "schema.json"

#: The installation added to payloads whose example has none; tests record it as installed.
INSTALLATION = {"id": 424242, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI0MjQy"}

#: A bot sender, as GitHub sends it for an App's own actions.
BOT_SENDER_LOGIN = "fixwurx[bot]"


@functools.cache
def _examples() -> dict[str, list[dict[str, Any]]]:
    # The package ships one index.json (a list of {name, examples}); older releases shipped one
    # file per event. Accept both so an npm update does not break every test.
    index = EXAMPLES_DIR / "index.json"
    if not index.exists():
        raise FileNotFoundError(f"{index} is missing; run `npm install` (see package.json)")
    found: dict[str, list[dict[str, Any]]] = {}
    for entry in json.loads(index.read_text()):
        found.setdefault(entry["name"], []).extend(entry["examples"])
    for path in sorted(EXAMPLES_DIR.glob("*.json")):
        if path.name != "index.json":
            found.setdefault(path.stem, []).extend(_as_list(json.loads(path.read_text())))
    return found


def _as_list(value: Any) -> list[dict[str, Any]]:
    return value if isinstance(value, list) else [value]


def events() -> list[str]:
    """Every event name that has at least one real example."""
    return sorted(_examples())


def examples(event: str, action: str | None = None) -> list[dict[str, Any]]:
    """Deep copies of every real example for `event` (and `action`, when given)."""
    pool = _examples().get(event)
    if not pool:
        raise KeyError(f"no example for event {event!r}; known: {', '.join(events())}")
    found = [e for e in pool if action is None or e.get("action") == action]
    if not found:
        actions = sorted({str(e.get("action")) for e in pool})
        raise KeyError(f"no {event!r} example with action {action!r}; have {actions}")
    return copy.deepcopy(found)


def example(
    event: str,
    action: str | None = None,
    *,
    installed: bool = True,
    index: int | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A real example, deep-merged with `overrides`, validated against the schema.

    `installed=True` adds `INSTALLATION` when the example has no installation (most do not), so
    the payload looks like one delivered to an App. `index` picks among several examples; by
    default the first example that is valid against the schema and has a `repository` is used.
    """
    pool = examples(event, action)
    candidates = [pool[index]] if index is not None else pool
    prepared = [_with_installation(event, e, installed) for e in candidates]
    payload = _first_valid(event, prepared) if index is None else prepared[0]
    payload = merge(payload, overrides)
    validate(event, payload)
    return payload


def _with_installation(event: str, payload: dict[str, Any], installed: bool) -> dict[str, Any]:
    if not installed:
        payload.pop("installation", None)
    elif "installation" not in payload and _accepts_installation(event, payload):
        payload["installation"] = dict(INSTALLATION)
    return payload


def _accepts_installation(event: str, payload: dict[str, Any]) -> bool:
    # `ping` is sent to the hook, not on behalf of an installation; its schema forbids one.
    definition = _validator().schema["definitions"][_definition_name(event, payload)]
    return "installation" in definition.get("properties", {})


def _first_valid(event: str, pool: list[dict[str, Any]]) -> dict[str, Any]:
    # Some published examples predate schema changes (a field since made required); skip those,
    # and prefer an example that names a repository, since FixWurx routes on repositories.
    valid = [e for e in pool if _is_valid(event, e)]
    if not valid:
        raise ValueError(f"no {event!r} example validates against {SCHEMA_PATH}")
    return next((e for e in valid if "repository" in e), valid[0])


def _is_valid(event: str, payload: dict[str, Any]) -> bool:
    try:
        validate(event, payload)
    except Exception:
        return False
    return True


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`base` with `changes` deep-merged in: nested dicts merge, everything else replaces."""
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@functools.cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft7Validator(schema)


def _definition_name(event: str, payload: dict[str, Any]) -> str:
    definitions = _validator().schema["definitions"]
    action = payload.get("action")
    for name in (f"{event}${action}", f"{event}$event", f"{event}_event"):
        if name in definitions:
            return name
    raise KeyError(f"the webhook schema has no definition for {event!r} action {action!r}")


def validate(event: str, payload: dict[str, Any]) -> None:
    """Raise `jsonschema.ValidationError` unless `payload` fits the schema for event/action."""
    errors = sorted(_validator_for(_definition_name(event, payload)).iter_errors(payload), key=str)
    if errors:
        raise errors[0]


@functools.cache
def _validator_for(name: str) -> Any:
    import jsonschema

    definitions = _validator().schema["definitions"]
    return jsonschema.Draft7Validator({"$ref": f"#/definitions/{name}", "definitions": definitions})


# --- variants GitHub's examples lack -------------------------------------------------------


def labeled_issue(label: str = "fixwurx", **overrides: Any) -> dict[str, Any]:
    """issues.labeled with `label` (the real examples add `bug`)."""
    base = example("issues", "labeled", installed=False)
    label_obj = merge(base["label"], {"name": label})
    labels = [*base["issue"].get("labels", []), label_obj]
    changes = {"label": label_obj, "issue": {"labels": labels}}
    return example("issues", "labeled", **merge(changes, overrides))


def command_comment(
    body: str = "/fixwurx fix", *, on_pull_request: bool = False, **overrides: Any
) -> dict[str, Any]:
    """issue_comment.created whose body is `body`, on an issue or (optionally) a pull request."""
    changes: dict[str, Any] = {"comment": {"body": body}}
    if on_pull_request:
        repo = example("issue_comment", "created")["repository"]
        number = 1
        api = f"{repo['url']}/pulls/{number}"
        html = f"{repo['html_url']}/pull/{number}"
        changes["issue"] = {
            "pull_request": {
                "url": api,
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "merged_at": None,
            }
        }
    return example("issue_comment", "created", **merge(changes, overrides))


def merged_pull_request(**overrides: Any) -> dict[str, Any]:
    """pull_request.closed for a merged pull request (the examples are all closed unmerged)."""
    base = example("pull_request", "closed")
    closed_at = base["pull_request"].get("closed_at") or "2026-01-01T00:00:00Z"
    changes = {
        "pull_request": {
            "merged": True,
            "merged_at": closed_at,
            "merge_commit_sha": "c0ffee" + "0" * 34,
            "merged_by": copy.deepcopy(base["sender"]),
            "state": "closed",
        }
    }
    return example("pull_request", "closed", **merge(changes, overrides))


def failing_check_suite(conclusion: str = "failure", **overrides: Any) -> dict[str, Any]:
    """check_suite.completed with a failing `conclusion` (the examples all succeed)."""
    changes = {"check_suite": {"conclusion": conclusion, "status": "completed"}}
    return example("check_suite", "completed", **merge(changes, overrides))


def failing_workflow_run(conclusion: str = "failure", **overrides: Any) -> dict[str, Any]:
    """workflow_run.completed with a failing `conclusion`."""
    changes = {"workflow_run": {"conclusion": conclusion, "status": "completed"}}
    return example("workflow_run", "completed", **merge(changes, overrides))


def bot_sender(login: str = BOT_SENDER_LOGIN) -> dict[str, Any]:
    """A `sender` override that makes any payload come from a GitHub App bot."""
    return {"sender": {"login": login, "type": "Bot"}}


# --- signing and delivering ----------------------------------------------------------------


def sign(body: bytes, secret: str | bytes) -> str:
    """The `X-Hub-Signature-256` value GitHub sends for `body`."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def delivery_headers(
    event: str, body: bytes, secret: str | bytes, delivery_id: str | None = None
) -> dict[str, str]:
    """The headers of a real delivery: event, delivery id, signature, content type."""
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/fixwurx-tests",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id or str(uuid.uuid4()),
        "X-GitHub-Hook-ID": "1",
        "X-Hub-Signature-256": sign(body, secret),
    }


@dataclass(frozen=True)
class Delivery:
    """One signed webhook delivery, ready to POST."""

    event: str
    body: bytes
    headers: dict[str, str]

    @property
    def delivery_id(self) -> str:
        return self.headers["X-GitHub-Delivery"]


def delivery(
    event: str, payload: dict[str, Any], secret: str | bytes, delivery_id: str | None = None
) -> Delivery:
    """Serialise `payload` compactly (as GitHub does) and sign it."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Delivery(event, body, delivery_headers(event, body, secret, delivery_id))


def post(url: str, sent: Delivery, timeout: float = 10.0) -> tuple[int, bytes]:
    """POST a delivery to a real HTTP server; returns (status, response body), never raises."""
    request = urllib.request.Request(url, data=sent.body, headers=sent.headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()
