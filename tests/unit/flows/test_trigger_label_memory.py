"""Jobs store the configured trigger label so the web tier can filter label events by it."""

from __future__ import annotations

from sqlalchemy import select

from app.db import session_scope
from app.flows.records import remember_trigger_label
from app.models import Installation, Repository


def test_the_label_read_by_a_job_is_stored(database_url: str) -> None:
    with session_scope(database_url) as session:
        session.add(Installation(id=1, account_login="octo"))
        session.flush()
        session.add(Repository(id=7, installation_id=1, full_name="octo/lib"))
    remember_trigger_label(database_url, 7, "autofix")
    remember_trigger_label(database_url, None, "ignored")
    remember_trigger_label(database_url, 999, "unknown repository: nothing to store")
    with session_scope(database_url) as session:
        assert session.get_one(Repository, 7).trigger_label == "autofix"
        # Neither the call without a repository nor the unknown one wrote anything.
        assert session.scalars(select(Repository.id)).all() == [7]
