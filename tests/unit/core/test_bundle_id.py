"""The bundle id covers the fix and its evidence, never how long the run took (issue 25)."""

from __future__ import annotations

from app.patches import PatchBundle, content_hash, verify_bundle

DIFF = "--- a/m.py\n+++ b/m.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"


def _bundle(**changes: object) -> PatchBundle:
    values: dict[str, object] = {
        "base_commit": "abc",
        "diff": DIFF,
        "files": ("m.py",),
        "evidence": {"before": [{"test": "t", "outcome": "failed"}]},
        "localization": [],
        "source": "template:x",
        **changes,
    }
    return PatchBundle(**values)  # type: ignore[arg-type]


def test_timings_and_search_counts_do_not_change_the_id_but_the_evidence_does() -> None:
    first = _bundle(timings={"patch": 1.0}, search={"candidates_tried": 3})
    second = _bundle(timings={"patch": 9.5}, search={"candidates_tried": 4})
    assert first.hash == second.hash
    assert _bundle(evidence={"before": []}).hash != first.hash
    assert _bundle(base_commit="def").hash != first.hash


def test_a_saved_bundle_verifies_and_loads_with_its_timings() -> None:
    data = _bundle(timings={"patch": 2.0}).to_json()
    assert verify_bundle(data).ok
    assert PatchBundle.from_json(data).timings == {"patch": 2.0}


def test_a_version_1_bundle_keeps_its_id() -> None:
    """Version 1 hashed every field, timings included: its saved id still checks."""
    body = {**_bundle(timings={"patch": 2.0}).body(), "version": 1}
    del body["search"]
    data = {**body, "hash": content_hash(body)}
    assert verify_bundle(data).ok
    assert PatchBundle.from_json(data).hash == data["hash"]
