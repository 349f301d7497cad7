"""What an online endpoint served lately: requests, errors and latency per arm and minute,
merged from every gateway replica's statistics, across plan changes."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import select

from modelward.durations import parse_duration_ms
from modelward.errors import InvalidInput
from modelward.monitoring.endpoints import get_endpoint_row
from modelward.operations import operation
from modelward.serving.arm_stats import ArmStats
from modelward.serving.tables import ServingStat, TrafficPlan
from modelward.uow import UnitOfWork

MINUTE_MS = 60_000
MAX_PERIOD_MS = 24 * 3600 * 1000


class TrafficPoint(BaseModel):
    minute: datetime
    arm: str
    requests: int
    errors: int
    error_rate: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None


class TrafficTotal(BaseModel):
    arm: str
    requests: int
    errors: int
    requests_per_minute: float
    error_rate: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None


class ServingTraffic(BaseModel):
    endpoint: str
    since: datetime
    until: datetime
    points: list[TrafficPoint]
    totals: list[TrafficTotal]


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@operation("GET", "/api/v1/endpoints/{name}/traffic", tag="serving")
def serving_traffic(uow: UnitOfWork, name: str, period: str = "30m") -> ServingTraffic:
    """Requests, errors and latency per arm and minute over the last ``period`` (at most
    1d), from the statistics every gateway replica stores; the totals are per arm."""
    endpoint = get_endpoint_row(uow.session, name)
    size = parse_duration_ms(period, "period", units="mhd")
    if size > MAX_PERIOD_MS:
        raise InvalidInput("period: at most 1d", field="period")
    until = (time.time_ns() // 1_000_000 // MINUTE_MS + 1) * MINUTE_MS
    since = until - size
    query = (
        select(ServingStat.minute_ms, ServingStat.arm, ServingStat.stats)
        .join(TrafficPlan, TrafficPlan.id == ServingStat.plan_id)
        .where(
            TrafficPlan.endpoint_id == endpoint.id,
            ServingStat.minute_ms >= since,
            ServingStat.minute_ms < until,
        )
    )
    per_minute: dict[tuple[int, str], ArmStats] = {}
    per_arm: dict[str, ArmStats] = {}
    for minute, arm, stats in uow.session.execute(query):
        s = ArmStats.from_json(stats)
        per_minute.setdefault((int(minute), arm), ArmStats()).merge(s)
        per_arm.setdefault(arm, ArmStats()).merge(s)
    points = [
        TrafficPoint(
            minute=_dt(minute),
            arm=arm,
            requests=s.requests,
            errors=s.errors,
            error_rate=s.error_rate(),
            latency_p50_ms=s.latency_quantile(0.5),
            latency_p95_ms=s.latency_quantile(0.95),
        )
        for (minute, arm), s in sorted(per_minute.items())
    ]
    minutes = size / MINUTE_MS
    totals = [
        TrafficTotal(
            arm=arm,
            requests=s.requests,
            errors=s.errors,
            requests_per_minute=s.requests / minutes,
            error_rate=s.error_rate(),
            latency_p50_ms=s.latency_quantile(0.5),
            latency_p95_ms=s.latency_quantile(0.95),
        )
        for arm, s in sorted(per_arm.items())
    ]
    return ServingTraffic(
        endpoint=endpoint.name, since=_dt(since), until=_dt(until), points=points, totals=totals
    )
