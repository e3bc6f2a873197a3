"""repositories.full_name is no longer unique: a repository's id is its identity

A repository deleted and created again under the same name, or renamed while another took its old
name, arrives with a new id and a name another row still holds. With the unique constraint the
new repository's row could not be inserted, its runs broke the foreign key, and every delivery for
it was answered 503 until an operator intervened. Nothing looks repositories up by name.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 04:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("repositories") as batch:
        batch.drop_constraint("uq_repositories_full_name", type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("repositories") as batch:
        batch.create_unique_constraint("uq_repositories_full_name", ["full_name"])
