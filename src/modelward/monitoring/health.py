"""The health index: one 0–100 score per endpoint, a weighted mean of visible parts.

Parts (each 0–100, or n/a and left out, the other weights renormalised):

- freshness (weight 1): age of the newest logged prediction against the expected cadence
  (endpoint config ``health.cadence``, default 1d): 100 up to one cadence, falling linearly
  to 0 at three cadences; 0 when nothing was ever logged.
- feature_stability (2): 100 × (1 − drifted share) over the input features of the newest drift
  window, each feature weighted by |importance| of the version's newest explanation when one
  exists, equally otherwise.
- prediction_stability (1): 100 × (1 − share of __prediction__/__score__ drifted) in that window.
- performance (2): the newest realized value (estimated when no realized one) of the first of
  roc_auc, accuracy, f1, r2, rmse, mae, log_loss that the holdout evaluation also has,
  relative to it: 100 × current / holdout (holdout / current for errors), capped at 100.
- label_coverage (1): 100 × min(1, coverage / target): predictions of the last
  ``health.label_window`` (default 30d) that have a label; target ``health.label_coverage_target``
  (default 1.0); n/a when the endpoint never received a label.
- governance (1): 50 × card completeness + 50 when the version passes its production gate;
  100 × completeness for a model no policy guards.
- latency, errors (1 each): reserved for the serving gateway, n/a for now.

Weights can be changed per endpoint with ``health.weights``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from modelward.db.base import now_ms
from modelward.monitoring.alert_schemas import EndpointHealth, HealthPart, SystemHealth
from modelward.monitoring.tables import (
    Endpoint,
    LabelFact,
    MonitorResult,
    PredictionId,
    PredictionSegment,
)
from modelward.registry.tables import ModelVersion
from modelward.uow import UnitOfWork

DEFAULT_WEIGHTS = {
    "freshness": 1.0,
    "feature_stability": 2.0,
    "prediction_stability": 1.0,
    "performance": 2.0,
    "label_coverage": 1.0,
    "governance": 1.0,
    "latency": 1.0,
    "errors": 1.0,
}
PERFORMANCE_METRICS = ("roc_auc", "accuracy", "f1", "r2", "rmse", "mae", "log_loss")
LOWER_IS_BETTER = {"rmse", "mae", "log_loss", "mse", "brier"}
OUTPUTS = ("__prediction__", "__score__")


def _settings(endpoint: Endpoint) -> dict[str, Any]:
    found = (endpoint.config or {}).get("health")
    return found if isinstance(found, dict) else {}


def _duration(value: Any, default: str) -> int:
    from modelward.errors import InvalidInput
    from modelward.monitoring.alerts import parse_duration

    try:
        return parse_duration(value, "health")
    except InvalidInput:
        return parse_duration(default, "health")


def _positive(value: Any, default: float) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
    return float(value) if ok else default


def _part(name: str, score: float | None, detail: str, **values: Any) -> HealthPart:
    shown = None if score is None else round(min(100.0, max(0.0, score)), 2)
    return HealthPart(name=name, score=shown, weight=0.0, detail=detail, values=values)


# ------------------------------------------------------------------ parts


def freshness_part(session: Session, endpoint: Endpoint, now: int) -> HealthPart:
    newest = session.scalar(
        select(func.max(PredictionSegment.max_ts_ms)).where(
            PredictionSegment.endpoint_id == endpoint.id
        )
    )
    cadence = _duration(_settings(endpoint).get("cadence"), "1d")
    if newest is None:
        return _part("freshness", 0.0, "no predictions logged", cadence_ms=cadence)
    age = max(0, now - int(newest))
    score = 100.0 if age <= cadence else 100.0 * (3 * cadence - age) / (2 * cadence)
    hours = age / 3_600_000
    return _part(
        "freshness", score, f"newest prediction {hours:.1f} h old", age_ms=age, cadence_ms=cadence
    )


def newest_drift_window(session: Session, endpoint: Endpoint) -> list[MonitorResult]:
    """The drift rows of the newest window with data (the widest window when several end
    together, the newest monitor configuration)."""
    end = session.scalar(
        select(func.max(MonitorResult.window_end_ms)).where(
            MonitorResult.endpoint_id == endpoint.id,
            MonitorResult.kind == "drift",
            MonitorResult.rows > 0,
        )
    )
    if end is None:
        return []
    rows = list(
        session.scalars(
            select(MonitorResult).where(
                MonitorResult.endpoint_id == endpoint.id,
                MonitorResult.kind == "drift",
                MonitorResult.window_end_ms == end,
            )
        )
    )
    start = min(r.window_start_ms for r in rows)
    config = max(r.config_version for r in rows if r.window_start_ms == start)
    return [r for r in rows if r.window_start_ms == start and r.config_version == config]


def importance_of(session: Session, version_id: int) -> dict[str, float]:
    from modelward.governance.evidence import newest_explanation

    explanation = newest_explanation(session, version_id)
    found = (explanation.results or {}).get("importance") if explanation is not None else None
    if not isinstance(found, dict):
        return {}
    out = {str(k): abs(float(v)) for k, v in found.items() if isinstance(v, int | float)}
    return out


def drifted_share(flags: dict[str, bool], importance: dict[str, float]) -> tuple[float, bool]:
    """(share of drifted features, weighted?) — importance weights when they cover any feature."""
    weights = {f: importance.get(f, 0.0) for f in flags}
    weighted = sum(weights.values()) > 0
    if not weighted:
        weights = dict.fromkeys(flags, 1.0)
    total = sum(weights.values())
    return sum(w for f, w in weights.items() if flags[f]) / total, weighted


def stability_parts(session: Session, endpoint: Endpoint) -> list[HealthPart]:
    rows = newest_drift_window(session, endpoint)
    if not rows:
        na = "no drift results yet"
        return [_part("feature_stability", None, na), _part("prediction_stability", None, na)]
    window = {"window": rows[0].window, "window_start_ms": rows[0].window_start_ms}
    inputs = {r.feature: r.flagged for r in rows if not r.feature.startswith("__")}
    outputs = {r.feature: r.flagged for r in rows if r.feature in OUTPUTS}
    parts = []
    if inputs:
        share, weighted = drifted_share(inputs, importance_of(session, endpoint.version_id))
        how = "importance-weighted" if weighted else "unweighted"
        drifted = sorted(f for f, flag in inputs.items() if flag)
        detail = f"{len(drifted)} of {len(inputs)} features drifted ({how} share {share:.2f})"
        parts.append(
            _part(
                "feature_stability",
                100 * (1 - share),
                detail,
                share=share,
                drifted=drifted,
                **window,
            )
        )
    else:
        parts.append(_part("feature_stability", None, "no feature drift results"))
    if outputs:
        share = sum(outputs.values()) / len(outputs)
        detail = f"{sum(outputs.values())} of {len(outputs)} outputs drifted"
        parts.append(
            _part("prediction_stability", 100 * (1 - share), detail, share=share, **window)
        )
    else:
        parts.append(_part("prediction_stability", None, "no prediction drift results"))
    return parts


def holdout_metrics(session: Session, version_id: int) -> dict[str, float]:
    from modelward.governance.evidence import newest_evaluations

    holdout = newest_evaluations(session, version_id).get("holdout")
    metrics = (holdout.results or {}).get("metrics") if holdout is not None else None
    if not isinstance(metrics, dict):
        return {}
    return {
        k: float(v)
        for k, v in metrics.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def relative_score(metric: str, current: float, reference: float) -> float | None:
    if metric in LOWER_IS_BETTER:
        return 100.0 if current <= 0 else 100.0 * reference / current
    return None if reference <= 0 else 100.0 * current / reference


def _newest_performance(
    session: Session, endpoint: Endpoint, metric: str
) -> tuple[float, str, str] | None:
    from modelward.monitoring.alerts import observe

    rows = session.scalars(
        select(MonitorResult)
        .where(MonitorResult.endpoint_id == endpoint.id, MonitorResult.kind == "performance")
        .order_by(MonitorResult.window_end_ms.desc(), MonitorResult.id.desc())
    )
    estimated: tuple[float, str, str] | None = None
    for row in rows:
        realized = observe(f"performance.{metric}", row)
        if realized is not None and realized.value is not None:
            return realized.value, "realized", row.window
        guess = observe(f"performance.estimated.{metric}", row)
        if estimated is None and guess is not None and guess.value is not None:
            estimated = (guess.value, "estimated", row.window)
    return estimated


def performance_part(session: Session, endpoint: Endpoint) -> HealthPart:
    reference = holdout_metrics(session, endpoint.version_id)
    if not reference:
        return _part("performance", None, "no holdout evaluation of the deployed version")
    for metric in PERFORMANCE_METRICS:
        if metric not in reference:
            continue
        found = _newest_performance(session, endpoint, metric)
        if found is None:
            continue
        current, source, window = found
        score = relative_score(metric, current, reference[metric])
        if score is None:
            continue
        detail = f"{source} {metric} {current:.4g} vs holdout {reference[metric]:.4g}"
        return _part(
            "performance",
            score,
            detail,
            metric=metric,
            current=current,
            holdout=reference[metric],
            source=source,
            window=window,
        )
    return _part("performance", None, "no performance results for a holdout metric")


def label_coverage_part(session: Session, endpoint: Endpoint, now: int) -> HealthPart:
    settings = _settings(endpoint)
    any_label = session.scalar(
        select(LabelFact.id).where(LabelFact.endpoint_id == endpoint.id).limit(1)
    )
    if any_label is None:
        return _part("label_coverage", None, "no labels received")
    since = now - _duration(settings.get("label_window"), "30d")
    in_window = (PredictionId.endpoint_id == endpoint.id, PredictionId.ts_ms >= since)
    total = session.scalar(select(func.count()).select_from(PredictionId).where(*in_window)) or 0
    if total == 0:
        return _part("label_coverage", None, "no predictions in the label window")
    labeled = (
        session.scalar(
            select(func.count(distinct(LabelFact.prediction_id)))
            .join(
                PredictionId,
                (PredictionId.endpoint_id == LabelFact.endpoint_id)
                & (PredictionId.prediction_id == LabelFact.prediction_id),
            )
            .where(*in_window)
        )
        or 0
    )
    coverage = labeled / total
    target = min(1.0, _positive(settings.get("label_coverage_target"), 1.0))
    detail = f"{labeled} of {total} predictions labeled ({coverage:.1%}, target {target:.0%})"
    return _part(
        "label_coverage",
        100 * min(1.0, coverage / target),
        detail,
        coverage=coverage,
        labeled=labeled,
        predictions=total,
        target=target,
    )


def governance_part(uow: UnitOfWork, endpoint: Endpoint) -> HealthPart:
    """Read-only: the gate the deployed version would face at its production alias now."""
    from modelward.governance.gate import evaluate
    from modelward.governance.register import system_for_model

    version = uow.session.get_one(ModelVersion, endpoint.version_id)
    system = system_for_model(uow.session, version.model_id)
    alias = system.production_alias if system is not None else "champion"
    report = evaluate(uow, version, alias, with_context=True)
    completeness = float((report.context or {}).get("card", {}).get("completeness", 0.0))
    values = {
        "card_completeness": completeness,
        "governed": report.governed,
        "gate_passed": report.passed,
        "alias": alias,
    }
    if not report.governed:
        detail = f"card {completeness:.0%} complete; no policy guards @{alias}"
        return _part("governance", 100 * completeness, detail, **values)
    gate = "passes" if report.passed else "fails"
    detail = f"card {completeness:.0%} complete; {gate} the @{alias} gate"
    return _part("governance", 50 * completeness + (50 if report.passed else 0), detail, **values)


# ------------------------------------------------------------------ roll-up


def weighted_score(parts: list[HealthPart]) -> float | None:
    scored = [(p.weight, p.score) for p in parts if p.score is not None and p.weight > 0]
    total = sum(w for w, _ in scored)
    if total == 0:
        return None
    return round(sum(w * s for w, s in scored) / total, 2)


def _weights(endpoint: Endpoint) -> dict[str, float]:
    given = _settings(endpoint).get("weights")
    weights = dict(DEFAULT_WEIGHTS)
    if isinstance(given, dict):
        for name, value in given.items():
            ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
            if name in weights and ok:
                weights[name] = float(value)
    return weights


def health_parts(
    session: Session,
    endpoint: Endpoint,
    now: int,
    governance: Callable[[], HealthPart] | None = None,
) -> list[HealthPart]:
    reserved = "reserved for the serving gateway"
    parts = [
        freshness_part(session, endpoint, now),
        *stability_parts(session, endpoint),
        performance_part(session, endpoint),
        label_coverage_part(session, endpoint, now),
        governance() if governance is not None else _part("governance", None, "not computed"),
        _part("latency", None, reserved),
        _part("errors", None, reserved),
    ]
    weights = _weights(endpoint)
    for part in parts:
        part.weight = weights[part.name]
    return parts


def health_of(
    uow: UnitOfWork, endpoint: Endpoint, *, governance: bool = True, now: int | None = None
) -> EndpointHealth:
    session = uow.session
    now = now_ms() if now is None else now
    gov = (lambda: governance_part(uow, endpoint)) if governance else None
    parts = health_parts(session, endpoint, now, gov)
    version = session.get_one(ModelVersion, endpoint.version_id)
    return EndpointHealth(
        endpoint=endpoint.name,
        model=version.model.name,
        version=version.version,
        score=weighted_score(parts),
        parts=parts,
        computed_at_ms=now,
    )


def system_health_of(uow: UnitOfWork, system: Any, *, now: int | None = None) -> SystemHealth:
    from modelward.governance.tables import AISystemModel

    models = select(AISystemModel.model_id).where(AISystemModel.system_id == system.id)
    endpoints = uow.session.scalars(
        select(Endpoint)
        .where(Endpoint.model_id.in_(models), Endpoint.status == "active")
        .order_by(Endpoint.name)
    )
    found = [health_of(uow, e, now=now) for e in endpoints]
    scores = [h.score for h in found if h.score is not None]
    return SystemHealth(
        system=system.name,
        score=round(sum(scores) / len(scores), 2) if scores else None,
        min=min(scores) if scores else None,
        endpoints=found,
    )


def monitoring_context(session: Session, version_id: int) -> dict[str, Any]:
    """The ``monitoring`` evidence a policy sees for a version.

    ``drift_events``: open or acknowledged drift alerts of the active endpoints serving it;
    ``health``: their mean health index, absent when none is scored. The governance part is
    left out here: it evaluates the gate, which is what asks for this context.
    """
    from modelward.monitoring.tables import Alert

    endpoints = list(
        session.scalars(
            select(Endpoint).where(Endpoint.version_id == version_id, Endpoint.status == "active")
        )
    )
    if not endpoints:
        return {"drift_events": 0}
    drift = session.scalar(
        select(func.count())
        .select_from(Alert)
        .where(
            Alert.endpoint_id.in_([e.id for e in endpoints]),
            Alert.status.in_(("open", "acknowledged")),
            Alert.dedup_key.startswith("drift."),
        )
    )
    out: dict[str, Any] = {"drift_events": int(drift or 0)}
    now = now_ms()
    scores = [weighted_score(health_parts(session, e, now)) for e in endpoints]
    known = [s for s in scores if s is not None]
    if known:
        out["health"] = round(sum(known) / len(known), 2)
    return out
