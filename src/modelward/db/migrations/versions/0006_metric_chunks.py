"""metric history in chunks

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 20:45:00

Metric history moves from one row per point (``run_metrics``) to one row per key per
logged batch with the points packed (``run_metric_chunks``, format in
``modelward.tracking.metric_chunks``). Stored points are copied over, each key's history
in logging order, at most 10,000 points a chunk; the downgrade unpacks them again.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

from modelward.tracking import metric_chunks

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CHUNK_POINTS = 10_000
_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _points_table() -> sa.TableClause:
    return sa.table(
        "run_metrics",
        sa.column("id"), sa.column("run_id"), sa.column("key"), sa.column("value"),
        sa.column("is_nan"), sa.column("step"), sa.column("timestamp"),
    )  # fmt: skip


def _chunks_table() -> sa.TableClause:
    return sa.table(
        "run_metric_chunks",
        sa.column("id"), sa.column("run_id"), sa.column("key"), sa.column("points"),
        sa.column("data"),
    )  # fmt: skip


def _grouped(rows: Iterator[Any]) -> Iterator[tuple[str, str, list[Any]]]:
    """Consecutive rows of one run and key, at most CHUNK_POINTS at a time."""
    current: tuple[str, str] | None = None
    group: list[Any] = []
    for row in rows:
        here = (row.run_id, row.key)
        if group and (here != current or len(group) == CHUNK_POINTS):
            yield (*current, group)  # type: ignore[misc]
            group = []
        current = here
        group.append(row)
    if group and current is not None:
        yield (*current, group)


def upgrade() -> None:
    op.create_table(
        "run_metric_chunks",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_metric_chunks_run_id_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_metric_chunks")),
    )
    with op.batch_alter_table("run_metric_chunks", schema=None) as batch_op:
        batch_op.create_index("ix_run_metric_chunks_run_key", ["run_id", "key"], unique=False)
    _copy_points_to_chunks()
    with op.batch_alter_table("run_metrics", schema=None) as batch_op:
        batch_op.drop_index("ix_run_metrics_run_key")
    op.drop_table("run_metrics")


def _copy_points_to_chunks() -> None:
    conn = op.get_bind()
    points, chunks = _points_table(), _chunks_table()
    query = sa.select(points).order_by(points.c.run_id, points.c.key, points.c.id)
    # Options on the statement, not the connection: the DDL after must not be streamed.
    rows = conn.execute(query.execution_options(stream_results=True, yield_per=5000))
    batch: list[dict[str, Any]] = []
    for run_id, key, group in _grouped(iter(rows)):
        values = [math.nan if r.is_nan else r.value for r in group]
        data = metric_chunks.pack(values, [r.step for r in group], [r.timestamp for r in group])
        batch.append({"run_id": run_id, "key": key, "points": len(group), "data": data})
        if len(batch) >= 500:
            conn.execute(sa.insert(chunks), batch)
            batch = []
    if batch:
        conn.execute(sa.insert(chunks), batch)


def downgrade() -> None:
    op.create_table(
        "run_metrics",
        sa.Column("id", _BIG_ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_run_metrics_run_id_runs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_metrics")),
    )
    with op.batch_alter_table("run_metrics", schema=None) as batch_op:
        batch_op.create_index("ix_run_metrics_run_key", ["run_id", "key"], unique=False)
    conn = op.get_bind()
    points, chunks = _points_table(), _chunks_table()
    query = sa.select(chunks).order_by(chunks.c.id)
    for chunk in conn.execute(query.execution_options(stream_results=True, yield_per=500)):
        values, steps, stamps = metric_chunks.unpack(chunk.data)
        rows = [
            {"run_id": chunk.run_id, "key": chunk.key, "value": 0.0 if math.isnan(v) else v,
             "is_nan": math.isnan(v), "step": s, "timestamp": t}
            for v, s, t in zip(values, steps, stamps, strict=True)
        ]  # fmt: skip
        conn.execute(sa.insert(points), rows)
    with op.batch_alter_table("run_metric_chunks", schema=None) as batch_op:
        batch_op.drop_index("ix_run_metric_chunks_run_key")
    op.drop_table("run_metric_chunks")
