"""Tracking tables: experiments, runs and what a run records.

Metrics keep their full history in ``run_metric_chunks`` (one packed row per key per
logged batch, see ``metric_chunks``) and the latest point per key in
``run_latest_metrics``, which is what search filters and sorts on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modelward.db.base import Base, Millis

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
BigId = BigInteger().with_variant(Integer(), "sqlite")

RUN_STATUSES = ("RUNNING", "FINISHED", "FAILED", "KILLED")
LIFECYCLES = ("active", "deleted")


class Experiment(Base):
    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Millis)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_experiment_lifecycle_start", "experiment_id", "lifecycle", "start_time"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"))
    name: Mapped[str] = mapped_column(String(250))
    status: Mapped[str] = mapped_column(String(16), default="RUNNING")
    lifecycle: Mapped[str] = mapped_column(String(16), default="active")
    start_time: Mapped[datetime] = mapped_column(Millis)
    end_time: Mapped[datetime | None] = mapped_column(Millis, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))

    experiment: Mapped[Experiment] = relationship(lazy="joined", innerjoin=True)


# Tables keyed by (run_id, key) are stored clustered on that key in SQLite (WITHOUT
# ROWID): reading a run's params or probing one metric is then one b-tree search, not two.
CLUSTERED = {"sqlite_with_rowid": False}


class RunParam(Base):
    __tablename__ = "run_params"
    __table_args__ = CLUSTERED

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RunTag(Base):
    __tablename__ = "run_tags"
    __table_args__ = CLUSTERED

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RunMetricChunk(Base):
    """Metric history: the points of one key logged in one batch, packed."""

    __tablename__ = "run_metric_chunks"
    # Chunks of a key are read in id order, which is logging order.
    __table_args__ = (Index("ix_run_metric_chunks_run_key", "run_id", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"))
    key: Mapped[str] = mapped_column(String(250))
    points: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RunLatestMetric(Base):
    """The point with the highest (step, timestamp) per run and key: what search reads."""

    __tablename__ = "run_latest_metrics"
    __table_args__ = (Index("ix_run_latest_metrics_key_value", "key", "value"), CLUSTERED)

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[float] = mapped_column(Float)
    is_nan: Mapped[bool] = mapped_column(Boolean, default=False)
    step: Mapped[int] = mapped_column(BigInteger, default=0)
    timestamp: Mapped[int] = mapped_column(BigInteger)


class RunArtifact(Base):
    """A logical path inside a run pointing at a content-addressed blob."""

    __tablename__ = "run_artifacts"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    path: Mapped[str] = mapped_column(String(1000), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(Millis)


class RunInput(Base):
    """A dataset version a run consumed, with its role ("training", "evaluation", …)."""

    __tablename__ = "run_inputs"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), primary_key=True)
    dataset_version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_versions.id"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(Millis)
