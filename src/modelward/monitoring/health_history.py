"""The health index over past monitor windows, recomputed from the stored monitor results.

Health is not stored as it changes; the monitor results it is made of are, one set per
window. For each of an endpoint's newest drift windows this recomputes the parts that belong
to a window, exactly as the live index computes them for its newest window:

- feature_stability and prediction_stability from that window's drift rows,
- performance from that window's performance rows against the holdout evaluation,

weighted with the endpoint's health weights. Freshness, label coverage and governance
describe the present moment (the age of the newest prediction, the labels received by now,
the gate the version faces today), so they are not part of a window's score. A window's
score is therefore comparable with the other windows of the trend, not with the live index.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from modelward.errors import InvalidInput
from modelward.monitoring.alerts import observe
from modelward.monitoring.endpoints import get_endpoint_row
from modelward.monitoring.health import (
    OUTPUTS,
    PERFORMANCE_METRICS,
    _weights,
    drifted_share,
    holdout_metrics,
    importance_of,
    relative_score,
)
from modelward.monitoring.tables import Endpoint, MonitorResult
from modelward.operations import operation
from modelward.uow import UnitOfWork

MAX_WINDOWS = 90
WINDOW_PARTS = ("feature_stability", "prediction_stability", "performance")
# Changes smaller than this (on the 0–100 scale) read as flat, not as a trend.
FLAT = 1.0


class HealthPoint(BaseModel):
    window: str
    window_start_ms: int
    window_end_ms: int
    score: float | None = Field(description="weighted mean of the window's parts, 0–100")
    parts: dict[str, float | None] = Field(
        description="feature_stability, prediction_stability, performance (None: not computable)"
    )


class HealthTrend(BaseModel):
    subject: str = Field(description="the endpoint or AI system")
    points: list[HealthPoint] = Field(description="oldest first")
    change: float | None = Field(description="newest scored window minus the oldest scored one")
    direction: str = Field(description="up, down, flat, or unknown (fewer than two scores)")


def _drift_rows(session: Session, endpoint: Endpoint, ends: list[int]) -> dict[int, list]:
    """Per window end: the widest window's rows of the newest configuration (as the live
    index picks its newest window)."""
    rows = session.scalars(
        select(MonitorResult).where(
            MonitorResult.endpoint_id == endpoint.id,
            MonitorResult.kind == "drift",
            MonitorResult.window_end_ms.in_(ends),
        )
    )
    by_end: dict[int, list[MonitorResult]] = defaultdict(list)
    for row in rows:
        by_end[row.window_end_ms].append(row)
    out = {}
    for end, found in by_end.items():
        start = min(r.window_start_ms for r in found)
        config = max(r.config_version for r in found if r.window_start_ms == start)
        out[end] = [r for r in found if r.window_start_ms == start and r.config_version == config]
    return out


def _performance(rows: list[MonitorResult], reference: dict[str, float]) -> float | None:
    """The first holdout metric the window reports, realized before estimated."""
    ordered = sorted(rows, key=lambda r: -r.id)
    for metric in PERFORMANCE_METRICS:
        if metric not in reference:
            continue
        for name in (f"performance.{metric}", f"performance.estimated.{metric}"):
            for row in ordered:
                seen = observe(name, row)
                if seen is not None and seen.value is not None:
                    return relative_score(metric, seen.value, reference[metric])
    return None


def _clip(score: float | None) -> float | None:
    return None if score is None else round(min(100.0, max(0.0, score)), 2)


def endpoint_trend(session: Session, endpoint: Endpoint, windows: int) -> list[HealthPoint]:
    ends = list(
        session.scalars(
            select(MonitorResult.window_end_ms)
            .where(
                MonitorResult.endpoint_id == endpoint.id,
                MonitorResult.kind == "drift",
                MonitorResult.rows > 0,
            )
            .group_by(MonitorResult.window_end_ms)
            .order_by(MonitorResult.window_end_ms.desc())
            .limit(windows)
        )
    )
    if not ends:
        return []
    drift = _drift_rows(session, endpoint, ends)
    perf_rows: dict[int, list[MonitorResult]] = defaultdict(list)
    for row in session.scalars(
        select(MonitorResult).where(
            MonitorResult.endpoint_id == endpoint.id,
            MonitorResult.kind == "performance",
            MonitorResult.window_end_ms.in_(ends),
        )
    ):
        perf_rows[row.window_end_ms].append(row)
    importance = importance_of(session, endpoint.version_id)
    reference = holdout_metrics(session, endpoint.version_id)
    weights = _weights(endpoint)
    points = []
    for end in sorted(ends):
        rows = drift.get(end, [])
        if not rows:
            continue
        inputs = {r.feature: bool(r.flagged) for r in rows if not r.feature.startswith("__")}
        outputs = {r.feature: bool(r.flagged) for r in rows if r.feature in OUTPUTS}
        start = rows[0].window_start_ms
        perf = [r for r in perf_rows.get(end, []) if r.window_start_ms == start]
        parts: dict[str, float | None] = {
            "feature_stability": _clip(100 * (1 - drifted_share(inputs, importance)[0]))
            if inputs
            else None,
            "prediction_stability": _clip(100 * (1 - sum(outputs.values()) / len(outputs)))
            if outputs
            else None,
            "performance": _clip(_performance(perf, reference)) if reference else None,
        }
        scored = [(weights[n], s) for n, s in parts.items() if s is not None and weights[n] > 0]
        total = sum(w for w, _ in scored)
        score = round(sum(w * s for w, s in scored) / total, 2) if total else None
        points.append(
            HealthPoint(
                window=rows[0].window,
                window_start_ms=start,
                window_end_ms=end,
                score=score,
                parts=parts,
            )
        )
    return points


def trend_of(subject: str, points: list[HealthPoint]) -> HealthTrend:
    scores = [p.score for p in points if p.score is not None]
    if len(scores) < 2:
        return HealthTrend(subject=subject, points=points, change=None, direction="unknown")
    change = round(scores[-1] - scores[0], 2)
    direction = "flat" if abs(change) < FLAT else ("up" if change > 0 else "down")
    return HealthTrend(subject=subject, points=points, change=change, direction=direction)


def system_trend(session: Session, system: Any, windows: int) -> HealthTrend:
    """The mean over the system's active endpoints of each window end's score."""
    from modelward.governance.tables import AISystemModel

    system_id = system.id
    models = select(AISystemModel.model_id).where(AISystemModel.system_id == system_id)
    endpoints = session.scalars(
        select(Endpoint)
        .where(Endpoint.model_id.in_(models), Endpoint.status == "active")
        .order_by(Endpoint.name)
    )
    by_end: dict[int, list[HealthPoint]] = defaultdict(list)
    for endpoint in endpoints:
        for point in endpoint_trend(session, endpoint, windows):
            by_end[point.window_end_ms].append(point)
    points = []
    for end in sorted(by_end)[-windows:]:
        found = by_end[end]
        scores = [p.score for p in found if p.score is not None]
        parts: dict[str, float | None] = {}
        for name in WINDOW_PARTS:
            values = [p.parts[name] for p in found if p.parts.get(name) is not None]
            parts[name] = (
                round(sum(v for v in values if v is not None) / len(values), 2)
                if (values)
                else None
            )
        points.append(
            HealthPoint(
                window=found[0].window,
                window_start_ms=min(p.window_start_ms for p in found),
                window_end_ms=end,
                score=round(sum(scores) / len(scores), 2) if scores else None,
                parts=parts,
            )
        )
    return trend_of(system.name, points)


def _check_windows(windows: int) -> int:
    if not 1 <= windows <= MAX_WINDOWS:
        raise InvalidInput(f"windows: must be in 1..{MAX_WINDOWS}", field="windows")
    return windows


@operation("GET", "/api/v1/endpoints/{name}/health/trend", tag="monitoring")
def endpoint_health_trend(uow: UnitOfWork, name: str, windows: int = 14) -> HealthTrend:
    """The endpoint's health over its newest ``windows`` drift windows, recomputed from the
    stored monitor results (stability and performance parts only; see the module notes)."""
    endpoint = get_endpoint_row(uow.session, name)
    points = endpoint_trend(uow.session, endpoint, _check_windows(windows))
    return trend_of(endpoint.name, points)


@operation("GET", "/api/v1/systems/{name}/health/trend", tag="monitoring")
def system_health_trend(uow: UnitOfWork, name: str, windows: int = 14) -> HealthTrend:
    """An AI system's window health over time: per window, the mean over its active endpoints."""
    from modelward.governance.register import get_system_row

    system = get_system_row(uow.session, name)
    return system_trend(uow.session, system, _check_windows(windows))
