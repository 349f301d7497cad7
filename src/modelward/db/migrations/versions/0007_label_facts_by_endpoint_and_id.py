"""label facts indexed by endpoint and prediction id

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 02:40:00

Labels are read by endpoint and prediction id together. With an index on each column alone,
SQLite chose the endpoint's and read every label of the endpoint for each id looked up, so a
monitoring run slowed with the square of the labels stored. One index on both columns
replaces the two; queries by endpoint alone use its first column.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_label_facts_endpoint_id_prediction_id",
        "label_facts",
        ["endpoint_id", "prediction_id"],
        unique=False,
    )
    op.drop_index("ix_label_facts_endpoint_id", table_name="label_facts")
    op.drop_index("ix_label_facts_prediction_id", table_name="label_facts")


def downgrade() -> None:
    op.create_index("ix_label_facts_prediction_id", "label_facts", ["prediction_id"])
    op.create_index("ix_label_facts_endpoint_id", "label_facts", ["endpoint_id"])
    op.drop_index("ix_label_facts_endpoint_id_prediction_id", table_name="label_facts")
