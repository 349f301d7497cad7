"""Traffic plan schemas: what a user asks for, what is stored, and a deployment's status."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from modelward.validation import Key, Text

PlanKind = Literal["single", "canary", "shadow", "ab"]
DEFAULT_STEPS = [5.0, 25.0, 50.0, 100.0]
DEFAULT_STEP_EVERY = "5m"
MAX_STEPS = 20


class PlanRequest(BaseModel):
    """A new traffic plan for an endpoint. Fields left out take the defaults below."""

    kind: PlanKind
    primary: Text | None = Field(
        default=None, description="the version answering by default; default: the current one"
    )
    challenger: Text | None = Field(
        default=None, description="the version under trial (canary, shadow, ab)"
    )
    share: float | None = Field(
        default=None,
        ge=0,
        le=100,
        description="percent of requests: to the challenger (ab), copied to it (shadow); "
        "canary: the only step when steps are not given",
    )
    steps: list[float] | None = Field(
        default=None, max_length=MAX_STEPS, description="canary shares in percent, rising"
    )
    step_every: str | None = Field(
        default=None, description="shortest time on each step, e.g. 30s, 5m, 1h"
    )
    key: Key | None = Field(
        default=None, description="ab: the request field that keeps a caller on one arm"
    )
    auto: bool = Field(
        default=True, description="let canary analysis step up, complete and roll back"
    )
    analysis: dict[str, Any] | None = Field(
        default=None, description="canary analysis thresholds (see docs/canary-analysis.md)"
    )
    reason: Text | None = Field(default=None, max_length=2000)


class RollbackRequest(BaseModel):
    reason: Text | None = Field(default=None, max_length=2000)


class PlanPublic(BaseModel):
    seq: int
    endpoint: str
    kind: PlanKind
    primary: str
    challenger: str | None
    share: float
    steps: list[float]
    step_index: int
    step_every_s: int
    step_started_at: datetime
    key: str | None
    auto: bool
    thresholds: dict[str, Any]
    state: str
    verdict: dict[str, Any] | None
    reason: str | None
    created_by: str
    created_at: datetime
    ended_at: datetime | None


class ArmSummary(BaseModel):
    arm: str
    version: str
    requests: int
    errors: int
    error_rate: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None


class DeploymentStatus(BaseModel):
    endpoint: str
    mode: str
    status: str
    plan: PlanPublic
    arms: list[ArmSummary]
    analysis: dict[str, Any] | None = Field(
        default=None, description="the current step's verdict, computed now"
    )
    history: list[PlanPublic]
