"""Schemas of monitor results (drift, quality, performance) and of a monitor run."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field


@dataclass
class ResultRow:
    """One computed verdict for one window and feature, before it is stored or shown."""

    kind: str
    window_start_ms: int
    window_end_ms: int
    feature: str
    method: str
    statistic: float | None
    threshold: float | None
    p_value: float | None
    flagged: bool
    rows: int
    details: dict[str, Any] = field(default_factory=dict)

    def public(self, endpoint: str, window: str, baseline_digest: str) -> MonitorResultPublic:
        return MonitorResultPublic(
            endpoint=endpoint,
            kind=self.kind,
            window=window,
            window_start=instant(self.window_start_ms),
            window_end=instant(self.window_end_ms),
            feature=self.feature,
            method=self.method,
            statistic=self.statistic,
            threshold=self.threshold,
            p_value=self.p_value,
            flagged=self.flagged,
            rows=self.rows,
            details=self.details,
            baseline_digest=baseline_digest,
        )


def instant(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class MonitorResultPublic(BaseModel):
    endpoint: str
    kind: str = Field(description="drift, quality or performance")
    window: str
    window_start: datetime
    window_end: datetime
    feature: str = Field(description="a feature, __prediction__, __score__, __dataset__ …")
    method: str
    statistic: float | None
    threshold: float | None
    p_value: float | None
    flagged: bool = Field(description="drifted, out of bounds or degraded")
    rows: int
    details: dict[str, Any]
    baseline_digest: str


class EndpointRunSummary(BaseModel):
    endpoint: str
    window: str
    since: datetime | None
    until: datetime
    windows: int
    drifted_windows: int = Field(description="windows whose dataset verdict is drifted")
    drifted_features: list[str]
    quality_flags: int
    performance_rows: int
    results: int = Field(description="result rows stored (inserted or updated)")
    alerts: int
    skipped: str | None = Field(default=None, description="why nothing was computed")


class MonitorRunSummary(BaseModel):
    endpoints: list[EndpointRunSummary]
