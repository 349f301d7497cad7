"""Monitor verbs: drift, quality and performance of a period (computed on the fly), and the
monitor run that computes every complete window since the last run and stores the results.

The run is a long operation: profiles are merged and statistics computed in a read
transaction; results are upserted (by endpoint, kind, window, window start, feature and
config version, so running twice changes nothing), audited once per endpoint and handed to
the alerts hook in one short write transaction per endpoint.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from modelward.auth.roles import Role
from modelward.errors import InvalidInput
from modelward.evaluation.tables import Explanation
from modelward.monitoring.baseline import baseline_for
from modelward.monitoring.endpoints import get_endpoint_row
from modelward.monitoring.monitor_schemas import (
    EndpointRunSummary,
    MonitorResultPublic,
    MonitorRunSummary,
    ResultRow,
    instant,
)
from modelward.monitoring.tables import Endpoint, MonitorResult, PredictionSegment
from modelward.monitoring.windows import (
    Span,
    complete,
    hourly_window,
    to_ms,
    window_profiles,
    windows,
)
from modelward.operations import operation
from modelward.registry.tables import ModelVersion
from modelward.registry.writing import lock_writes, stored_now
from modelward.uow import UnitOfWork

BASE = "/api/v1/endpoints/{endpoint}"
DEFAULT_WINDOW = "1d"
DEFAULT_PERIOD_WINDOWS = 7
PERFORMANCE_LOOKBACK = "7d"


@dataclass
class Monitored:
    """An endpoint with what every monitor needs: its version, baseline and settings."""

    endpoint: Endpoint
    version: ModelVersion
    baseline: dict[str, Any]

    @property
    def config(self) -> dict[str, Any]:
        return self.endpoint.config or {}

    @property
    def digest(self) -> str:
        return str(self.baseline["digest"])


def monitored(uow: UnitOfWork, endpoint: Endpoint) -> Monitored:
    version = uow.session.get_one(ModelVersion, endpoint.version_id)
    return Monitored(endpoint, version, baseline_for(uow, version))


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _extend(spans: list[Span], before: int) -> list[Span]:
    """``spans`` with ``before`` more windows of the same size in front."""
    start, end = spans[0]
    size = end - start
    return [(start - k * size, start - (k - 1) * size) for k in range(before, 0, -1)] + spans


def newest_importance(uow: UnitOfWork, version_id: int) -> dict[str, Any] | None:
    row = uow.session.scalar(
        select(Explanation)
        .where(Explanation.version_id == version_id)
        .order_by(Explanation.created_at.desc(), Explanation.id)
        .limit(1)
    )
    importance = (row.results or {}).get("importance") if row is not None else None
    return importance if isinstance(importance, dict) else None


# The monitors import numpy, scipy and scikit-learn: loaded on first use, so importing the
# operation table (every CLI command, the server's start) does not pay for them.
def drift_rows(uow: UnitOfWork, m: Monitored, spans: list[Span]) -> list[ResultRow]:
    from modelward.monitoring.drift import compute_drift, drift_settings

    if not spans:
        return []
    settings = drift_settings(m.config, m.baseline)
    extended = _extend(spans, settings.lookback)
    profiles = window_profiles(uow.session, m.endpoint.id, m.baseline, extended)
    importance = newest_importance(uow, m.version.id)
    return compute_drift(
        m.baseline, profiles, extended, settings, first=settings.lookback, importance=importance
    )


def quality_rows(uow: UnitOfWork, m: Monitored, spans: list[Span]) -> list[ResultRow]:
    from modelward.monitoring.quality import compute_quality, quality_settings

    if not spans:
        return []
    settings = quality_settings(m.config, m.baseline)
    extended = _extend(spans, settings.lookback)
    profiles = window_profiles(uow.session, m.endpoint.id, m.baseline, extended)
    return compute_quality(m.baseline, profiles, extended, settings, first=settings.lookback)


def performance_rows(uow: UnitOfWork, m: Monitored, spans: list[Span]) -> list[ResultRow]:
    from modelward.monitoring.performance import compute_performance, performance_settings

    settings = performance_settings(m.config)
    return compute_performance(uow, m.endpoint, m.version, m.baseline, spans, settings)


def _period(since: str | None, until: str | None, window: str) -> list[Span]:
    size = hourly_window(window)
    end = to_ms(until, "until") or now_ms()
    start = to_ms(since, "since")
    if start is None:
        start = end - DEFAULT_PERIOD_WINDOWS * size
    if start >= end:
        raise InvalidInput("since: must be before until", field="since")
    return windows(start, end, size)


def _report(
    uow: UnitOfWork, endpoint: str, since: str | None, until: str | None, window: str, kind: str
) -> list[MonitorResultPublic]:
    row = get_endpoint_row(uow.session, endpoint, "endpoint")
    spans = _period(since, until, window)
    m = monitored(uow, row)
    compute = {"drift": drift_rows, "quality": quality_rows, "performance": performance_rows}
    rows = compute[kind](uow, m, spans)
    return [r.public(row.name, window, m.digest) for r in rows]


@operation("GET", BASE + "/drift", tag="monitoring")
def drift_report(
    uow: UnitOfWork,
    endpoint: str,
    since: str | None = None,
    until: str | None = None,
    window: str = DEFAULT_WINDOW,
) -> list[MonitorResultPublic]:
    """Drift of every feature per window of ``[since, until)``, computed from the profiles."""
    return _report(uow, endpoint, since, until, window, "drift")


@operation("GET", BASE + "/quality", tag="monitoring")
def quality_report(
    uow: UnitOfWork,
    endpoint: str,
    since: str | None = None,
    until: str | None = None,
    window: str = DEFAULT_WINDOW,
) -> list[MonitorResultPublic]:
    """Null rates, out-of-range and unseen shares, type errors and volume per window."""
    return _report(uow, endpoint, since, until, window, "quality")


@operation("GET", BASE + "/performance", tag="monitoring")
def performance_report(
    uow: UnitOfWork,
    endpoint: str,
    since: str | None = None,
    until: str | None = None,
    window: str = DEFAULT_WINDOW,
) -> list[MonitorResultPublic]:
    """Realized metrics and label coverage per window, estimated ones before labels arrive."""
    return _report(uow, endpoint, since, until, window, "performance")


@operation("POST", "/api/v1/monitor/run", role=Role.developer, long=True, tag="monitoring")
def monitor_run(
    uow: UnitOfWork,
    endpoint: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> MonitorRunSummary:
    """Compute and store drift, quality and performance of every complete window since the
    last run (or ``since``: a backfill), for one endpoint or every active one."""
    since_ms, until_ms = to_ms(since, "since"), to_ms(until, "until") or now_ms()
    if since_ms is not None and since_ms >= until_ms:
        raise InvalidInput("since: must be before until", field="since")
    if endpoint is not None:
        targets = [get_endpoint_row(uow.session, endpoint, "endpoint")]
    else:
        query = select(Endpoint).where(Endpoint.status == "active").order_by(Endpoint.name)
        targets = list(uow.session.scalars(query))
    return MonitorRunSummary(endpoints=[_run_one(uow, row, since_ms, until_ms) for row in targets])


def _last_end(uow: UnitOfWork, row: Endpoint, window: str) -> int | None:
    return uow.session.scalar(
        select(func.max(MonitorResult.window_end_ms)).where(
            MonitorResult.endpoint_id == row.id,
            MonitorResult.kind == "drift",
            MonitorResult.window == window,
            MonitorResult.config_version == row.config_version,
        )
    )


def _first_hour(uow: UnitOfWork, row: Endpoint, digest: str) -> int | None:
    return uow.session.scalar(
        select(func.min(PredictionSegment.hour_ms)).where(
            PredictionSegment.endpoint_id == row.id, PredictionSegment.baseline_digest == digest
        )
    )


def _run_one(
    uow: UnitOfWork, row: Endpoint, since_ms: int | None, until_ms: int
) -> EndpointRunSummary:
    window = str((row.config or {}).get("window", DEFAULT_WINDOW))
    size = hourly_window(window, "config.window")
    m = monitored(uow, row)
    start = since_ms if since_ms is not None else _last_end(uow, row, window)
    start = start if start is not None else _first_hour(uow, row, m.digest)
    summary = EndpointRunSummary(
        endpoint=row.name, window=window, since=None if start is None else instant(start),
        until=instant(until_ms), windows=0, drifted_windows=0, drifted_features=[],
        quality_flags=0, performance_rows=0, results=0, alerts=0,
    )  # fmt: skip
    spans = complete(windows(start, until_ms, size), until_ms) if start is not None else []
    if not spans:
        summary.skipped = "no predictions logged" if start is None else "no complete window"
        return summary
    lookback = hourly_window(
        str((row.config or {}).get("performance", {}).get("lookback", PERFORMANCE_LOOKBACK)),
        "config.performance.lookback",
    )
    perf_spans = complete(windows(min(spans[0][0], until_ms - lookback), until_ms, size), until_ms)
    results = drift_rows(uow, m, spans) + quality_rows(uow, m, spans)
    results += performance_rows(uow, m, perf_spans)
    _summarise(summary, spans, results)
    with uow.write_phase() as w:
        lock_writes(w)
        endpoint = w.session.get_one(Endpoint, row.id)
        stored = store_results(w, endpoint, window, m.digest, results)
        summary.results = len(stored)
        brief = summary.model_dump(mode="json", exclude={"drifted_features"})
        w.audit("monitor.run", "endpoint", endpoint.name, summary.model_dump(mode="json"), brief)
        summary.alerts = len(raise_alerts(w, endpoint, stored))
    return summary


def _summarise(summary: EndpointRunSummary, spans: list[Span], rows: list[ResultRow]) -> None:
    summary.windows = len(spans)
    datasets = [r for r in rows if r.kind == "drift" and r.feature == "__dataset__"]
    summary.drifted_windows = sum(r.flagged for r in datasets)
    summary.drifted_features = sorted(
        {r.feature for r in rows if r.kind == "drift" and r.flagged and r.feature != "__dataset__"}
    )
    summary.quality_flags = sum(r.flagged for r in rows if r.kind == "quality")
    summary.performance_rows = sum(r.kind == "performance" for r in rows)


def store_results(
    uow: UnitOfWork, endpoint: Endpoint, window: str, digest: str, rows: list[ResultRow]
) -> list[MonitorResult]:
    """Insert or update each row by the results' unique key: re-running is idempotent."""
    if not rows:
        return []
    low = min(r.window_start_ms for r in rows)
    high = max(r.window_start_ms for r in rows)
    existing = {
        (r.kind, r.window_start_ms, r.feature): r
        for r in uow.session.scalars(
            select(MonitorResult).where(
                MonitorResult.endpoint_id == endpoint.id,
                MonitorResult.window == window,
                MonitorResult.config_version == endpoint.config_version,
                MonitorResult.window_start_ms >= low,
                MonitorResult.window_start_ms <= high,
            )
        )
    }
    now = stored_now()
    stored = []
    for r in rows:
        found = existing.get((r.kind, r.window_start_ms, r.feature))
        if found is None:
            found = MonitorResult(
                endpoint_id=endpoint.id,
                kind=r.kind,
                window=window,
                window_start_ms=r.window_start_ms,
                feature=r.feature,
                config_version=endpoint.config_version,
            )
            uow.session.add(found)
            existing[(r.kind, r.window_start_ms, r.feature)] = found
        found.window_end_ms = r.window_end_ms
        found.method, found.statistic, found.threshold = r.method, r.statistic, r.threshold
        found.p_value, found.flagged, found.rows = r.p_value, r.flagged, r.rows
        found.details, found.baseline_digest, found.computed_at = r.details, digest, now
        stored.append(found)
    uow.session.flush()
    return stored


def raise_alerts(uow: UnitOfWork, endpoint: Endpoint, results: list[MonitorResult]) -> list[Any]:
    """Hand the stored results to the alert rules, when the alerts module is installed."""
    try:
        from modelward.monitoring.alerts import evaluate_alerts
    except ModuleNotFoundError as exc:
        if exc.name != "modelward.monitoring.alerts":
            raise
        return []
    return list(evaluate_alerts(uow, endpoint, results))
