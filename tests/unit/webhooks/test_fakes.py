"""The webhook fakes hand out real, schema-valid payloads and correctly signed deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json

import jsonschema
import pytest

from tests.fakes import webhooks as fake


def test_labeled_issue_carries_the_label_and_an_installation() -> None:
    payload = fake.labeled_issue("fixwurx")
    assert payload["label"]["name"] == "fixwurx"
    assert "fixwurx" in [label["name"] for label in payload["issue"]["labels"]]
    assert payload["installation"]["id"] == fake.INSTALLATION["id"]


def test_variants_have_the_shape_they_claim() -> None:
    assert fake.merged_pull_request()["pull_request"]["merged"] is True
    comment = fake.command_comment("/fixwurx status", on_pull_request=True)
    assert comment["comment"]["body"] == "/fixwurx status"
    assert "pull_request" in comment["issue"]
    assert "pull_request" not in fake.command_comment()["issue"]
    assert fake.failing_check_suite("timed_out")["check_suite"]["conclusion"] == "timed_out"
    assert fake.failing_workflow_run()["workflow_run"]["conclusion"] == "failure"


def test_an_override_that_breaks_the_schema_is_refused() -> None:
    with pytest.raises(jsonschema.ValidationError):
        fake.example("issues", "labeled", issue={"number": "not a number"})


def test_uninstalled_payload_has_no_installation_and_ping_never_gets_one() -> None:
    assert "installation" not in fake.example("issues", "labeled", installed=False)
    assert "installation" not in fake.example("ping")


def test_unknown_event_or_action_names_what_exists() -> None:
    with pytest.raises(KeyError, match="issues"):
        fake.example("no_such_event")
    with pytest.raises(KeyError, match="labeled"):
        fake.example("issues", "no_such_action")


def test_delivery_is_signed_over_the_exact_body() -> None:
    sent = fake.delivery("issues", fake.labeled_issue(), "s3cret", delivery_id="d-1")
    digest = hmac.new(b"s3cret", sent.body, hashlib.sha256).hexdigest()
    assert sent.headers["X-Hub-Signature-256"] == f"sha256={digest}"
    assert sent.headers["X-GitHub-Event"] == "issues"
    assert sent.delivery_id == "d-1"
    assert json.loads(sent.body)["action"] == "labeled"
    assert fake.sign(sent.body, "other") != sent.headers["X-Hub-Signature-256"]
