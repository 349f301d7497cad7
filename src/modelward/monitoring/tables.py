"""Monitoring tables: endpoints, prediction segments and their id index, label facts,
monitor configuration, computed results, alert rules, alerts and trigger runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from modelward.db.base import Base, JSONType, Millis


class Endpoint(Base):
    """A named deployment of a model version (batch now; the gateway serves it online later)."""

    __tablename__ = "endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("registered_models.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    mode: Mapped[str] = mapped_column(String(16), default="batch")
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Monitoring settings: windows, per-feature method overrides, thresholds, persistence.
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    config_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Millis)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(Millis)


class PredictionSegment(Base):
    """One Parquet file of logged predictions (one endpoint, version and hour) and its profile."""

    __tablename__ = "prediction_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    hour_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    digest: Mapped[str] = mapped_column(String(64))
    rows: Mapped[int] = mapped_column(BigInteger)
    min_ts_ms: Mapped[int] = mapped_column(BigInteger)
    max_ts_ms: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16), default="batch")
    # The mergeable profile against the version's baseline bins (see monitoring/profiles.py).
    profile: Mapped[dict[str, Any]] = mapped_column(JSONType)
    baseline_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Millis)


class PredictionId(Base):
    """Every logged prediction id: makes logging idempotent and joins labels exactly.

    On SQLite the rows live in the primary key's B-tree (WITHOUT ROWID) and ``segment_id``
    has no index of its own: logging writes one B-tree per id instead of three, and nothing
    looks ids up by segment (segments are never deleted).
    """

    __tablename__ = "prediction_ids"
    __table_args__ = {"sqlite_with_rowid": False}

    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id"), primary_key=True)
    prediction_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("prediction_segments.id"))
    ts_ms: Mapped[int] = mapped_column(BigInteger)


class LabelFact(Base):
    """A ground-truth label for a prediction; a relabel is a new fact, never an overwrite."""

    __tablename__ = "label_facts"
    # Labels are looked up by endpoint and prediction id together: with one index for each,
    # SQLite probed the endpoint's and scanned all its labels for every id.
    __table_args__ = (
        Index("ix_label_facts_endpoint_id_prediction_id", "endpoint_id", "prediction_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id"))
    prediction_id: Mapped[str] = mapped_column(String(128))
    label: Mapped[str] = mapped_column(Text)
    label_time_ms: Mapped[int] = mapped_column(BigInteger)
    received_at_ms: Mapped[int] = mapped_column(BigInteger)


class MonitorResult(Base):
    """One computed verdict for one window and feature (drift, quality or performance)."""

    __tablename__ = "monitor_results"
    __table_args__ = (
        UniqueConstraint(
            "endpoint_id",
            "kind",
            "window",
            "window_start_ms",
            "feature",
            "config_version",
            name="uq_monitor_results_window_feature",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # drift | quality | performance
    window: Mapped[str] = mapped_column(String(16))
    window_start_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    window_end_ms: Mapped[int] = mapped_column(BigInteger)
    feature: Mapped[str] = mapped_column(String(300))
    method: Mapped[str] = mapped_column(String(32))
    statistic: Mapped[float | None] = mapped_column(Float, nullable=True)
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    p_value: Mapped[float | None] = mapped_column(Float, nullable=True)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    baseline_digest: Mapped[str] = mapped_column(String(64))
    config_version: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(Millis)


class AlertRule(Base):
    __tablename__ = "alert_rules"
    __table_args__ = (UniqueConstraint("endpoint_id", "name", name="uq_alert_rules_endpoint_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Millis)


class Alert(Base):
    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id"), index=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id"), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    # Deduplication: one open alert per rule and subject (e.g. the feature that drifted).
    dedup_key: Mapped[str] = mapped_column(String(300), index=True)
    title: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime] = mapped_column(Millis)
    last_seen_at: Mapped[datetime] = mapped_column(Millis)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(Millis, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(Millis, nullable=True)


class TriggerRun(Base):
    """One run of a retraining trigger (a command or a webhook) started by an alert."""

    __tablename__ = "trigger_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    output: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(Millis)
    finished_at: Mapped[datetime | None] = mapped_column(Millis, nullable=True)
