"""Serving tables: an endpoint's traffic plans (every change a new row) and the per-arm
statistics the gateways flush for canary analysis."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from modelward.db.base import Base, JSONType, Millis


class TrafficPlan(Base):
    """How an endpoint's online traffic is split between a primary and a challenger version.

    Plans are never edited in place except for their progress (step, state, verdict): a new
    plan is a new row with the next ``seq``, so the history is the table itself and a
    rollback reinstates an earlier row's routing as a new plan.
    """

    __tablename__ = "traffic_plans"
    __table_args__ = (UniqueConstraint("endpoint_id", "seq", name="uq_traffic_plans_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("endpoints.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # single | canary | shadow | ab
    primary_version_id: Mapped[int] = mapped_column(ForeignKey("model_versions.id"))
    challenger_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id"), nullable=True
    )
    steps: Mapped[list[float]] = mapped_column(JSONType, default=list)
    step_index: Mapped[int] = mapped_column(Integer, default=0)
    share: Mapped[float] = mapped_column(Float, default=0.0)  # challenger's percent now
    step_every_s: Mapped[int] = mapped_column(Integer, default=0)
    step_started_at: Mapped[datetime] = mapped_column(Millis)
    key_field: Mapped[str | None] = mapped_column(String(128), nullable=True)
    auto: Mapped[bool] = mapped_column(default=True)
    thresholds: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    state: Mapped[str] = mapped_column(String(16))  # active|superseded|rolled_back|completed
    verdict: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(Millis)
    ended_at: Mapped[datetime | None] = mapped_column(Millis, nullable=True)


class ServingStat(Base):
    """One gateway replica's statistics of one arm of a plan step, for one minute.

    Each replica rewrites its own row for the current minute on every flush, so the table
    grows by one row per replica, arm and minute, and analysis merges them all.
    """

    __tablename__ = "serving_stats"
    __table_args__ = (
        UniqueConstraint(
            "plan_id", "step_index", "arm", "replica", "minute_ms", name="uq_serving_stats_key"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("traffic_plans.id"), index=True)
    step_index: Mapped[int] = mapped_column(Integer)
    arm: Mapped[str] = mapped_column(String(16))
    replica: Mapped[str] = mapped_column(String(128))
    minute_ms: Mapped[int] = mapped_column(BigInteger)
    stats: Mapped[dict[str, Any]] = mapped_column(JSONType)
