"""Alert schemas: rules watching monitor results, the alerts they raise, retraining trigger runs
and the health index."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from modelward.validation import Name


class AlertRuleCreate(BaseModel):
    name: Name
    spec: dict[str, Any] = Field(description="metric, op, threshold, window, severity, sinks…")


class AlertRulePublic(BaseModel):
    id: int
    endpoint: str
    name: str
    spec: dict[str, Any]
    enabled: bool
    created_by: str
    created_at: datetime


class TriggerRunPublic(BaseModel):
    id: int
    alert_id: int
    kind: str
    target: str
    status: str
    exit_code: int | None
    output: str
    started_at: datetime
    finished_at: datetime | None


class AlertPublic(BaseModel):
    id: int
    endpoint: str
    rule: str
    metric: str
    subject: str
    severity: str
    status: str
    title: str
    value: float | None
    threshold: float | None
    details: dict[str, Any]
    occurrences: int
    first_seen_at: datetime
    last_seen_at: datetime
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_by: str | None
    resolved_at: datetime | None
    # Set by the evaluation that touched the alert: was it opened now, were sinks notified.
    opened: bool = False
    notified: bool = False


class AlertDetail(AlertPublic):
    trigger_runs: list[TriggerRunPublic] = []


class HealthPart(BaseModel):
    name: str
    score: float | None = Field(description="0–100; None when the part cannot be computed (n/a)")
    weight: float
    detail: str
    values: dict[str, Any] = {}


class EndpointHealth(BaseModel):
    endpoint: str
    model: str
    version: int
    score: float | None
    parts: list[HealthPart]
    computed_at_ms: int


class SystemHealth(BaseModel):
    system: str
    score: float | None = Field(description="mean over the system's scored endpoints")
    min: float | None
    endpoints: list[EndpointHealth]
