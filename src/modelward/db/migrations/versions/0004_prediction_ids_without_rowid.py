"""prediction ids without rowid

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 06:27:05.735339

The id index of the prediction log is written once per logged prediction. On SQLite the
table is rebuilt WITHOUT ROWID (the rows live in the primary key's B-tree), and the index on
``segment_id``, which no query uses, is dropped on both databases.
"""

from __future__ import annotations

from typing import Literal

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _rebuild_on_sqlite() -> Literal["always", "auto"]:
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade() -> None:
    with op.batch_alter_table(
        "prediction_ids",
        schema=None,
        recreate=_rebuild_on_sqlite(),
        table_kwargs={"sqlite_with_rowid": False},
    ) as batch_op:
        batch_op.drop_index(batch_op.f("ix_prediction_ids_segment_id"))


def downgrade() -> None:
    with op.batch_alter_table(
        "prediction_ids", schema=None, recreate=_rebuild_on_sqlite()
    ) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_prediction_ids_segment_id"), ["segment_id"], unique=False
        )
