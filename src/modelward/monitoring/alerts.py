"""Alert rules over monitor results: validation, evaluation, deduplication, notification.

``evaluate_alerts`` is the monitor run's hook: it reads the result rows a run just persisted and,
for every enabled rule of the endpoint, opens an alert per breaching subject or updates the
open one (one open or acknowledged alert per rule and subject). A new alert notifies the rule's
sinks and starts its retraining trigger unless the same rule and subject notified within the
cooldown; a repeat only counts, and notifies again once the cooldown has passed.

Which result rows a metric reads (``kind`` / ``feature`` / ``method`` of ``monitor_results``):

- ``drift.share``: the drift row of feature ``__dataset__``; value ``details.share`` or the
  statistic (the drifted share of the window).
- ``drift.feature``: every other drift row whose ``flagged`` is true (subject = the feature);
  ``op``/``threshold``, when given, also apply to its statistic.
- ``quality.<name>``: quality rows whose method (or ``details.metric``) is ``<name>``, or whose
  details hold a number under ``<name>``; subject = the feature (``__volume__`` for volume,
  whose value is rows / median of the previous windows).
- ``performance.<metric>`` / ``performance.estimated.<metric>``: performance rows whose feature,
  method or ``details.metric`` names the metric; estimated rows say so by a method or feature
  starting with ``estimated`` or ``details.estimated``.
- ``health``: the endpoint's health index now (monitoring.health).

Rows without data (``rows == 0`` or no statistic) never breach.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from modelward.errors import InvalidInput
from modelward.monitoring.alert_schemas import AlertPublic
from modelward.monitoring.sinks import check_sink, notify
from modelward.monitoring.tables import Alert, AlertRule, Endpoint, MonitorResult
from modelward.registry.writing import stored_now
from modelward.uow import UnitOfWork

FIXED_METRICS = (
    "drift.share",
    "drift.feature",
    "quality.null_rate",
    "quality.out_of_range",
    "quality.unseen",
    "quality.type_errors",
    "quality.volume",
    "health",
)
SEVERITIES = ("info", "warning", "critical")
OPS = (">=", "<=")
SPEC_KEYS = {"metric", "op", "threshold", "window", "severity", "cooldown", "sinks", "trigger"}
OPEN_STATES = ("open", "acknowledged")
DEFAULT_COOLDOWN = "6h"
MAX_SINKS = 10
MAX_SPEC_BYTES = 16_000
KEPT_NOTIFICATIONS = 10
_METRIC_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_DURATION = re.compile(r"^([1-9][0-9]{0,5})(m|h|d|w)$")
_UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


# ------------------------------------------------------------------ rule validation


def parse_duration(value: Any, field: str) -> int:
    """``"30m"``, ``"6h"``, ``"1d"``, ``"1w"`` in milliseconds."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidInput(
            f"{field}: must be a duration like 30m, 6h, 1d or 1w, got {value!r}", field=field
        )
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


ERROR_METRICS = ("rmse", "mae", "mape", "log_loss", "brier", "ece")


def check_metric(value: Any) -> str:
    field = "spec.metric"
    if isinstance(value, str) and value in FIXED_METRICS:
        return value
    if isinstance(value, str) and value.startswith("performance."):
        name = value.removeprefix("performance.").removeprefix("estimated.")
        if _METRIC_NAME.match(name):
            return value
    raise InvalidInput(
        f"{field}: must be one of {', '.join(FIXED_METRICS)}, performance.<metric> or "
        f"performance.estimated.<metric>, got {value!r}",
        field=field,
    )


def _threshold(value: Any, required: bool) -> float | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput("spec.threshold: must be a finite number", field="spec.threshold")
    return float(value)


def _choice(spec: dict[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = spec.get(key, default)
    if value not in allowed:
        raise InvalidInput(
            f"spec.{key}: must be one of {', '.join(allowed)}, got {value!r}", field=f"spec.{key}"
        )
    return str(value)


def _sinks(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return [{"kind": "audit"}]
    if not isinstance(value, list) or len(value) > MAX_SINKS:
        raise InvalidInput(f"spec.sinks: must be a list of at most {MAX_SINKS}", field="spec.sinks")
    return [check_sink(s, f"spec.sinks[{i}]") for i, s in enumerate(value)]


def validate_spec(spec: Any) -> dict[str, Any]:
    """The rule spec with defaults filled in; ``InvalidInput`` naming the first bad field."""
    from modelward.monitoring.triggers import check_trigger

    if not isinstance(spec, dict):
        raise InvalidInput("spec: must be an object", field="spec")
    if len(json.dumps(spec, default=str)) > MAX_SPEC_BYTES:
        raise InvalidInput(f"spec: larger than {MAX_SPEC_BYTES} bytes", field="spec")
    unknown = sorted(set(spec) - SPEC_KEYS)
    if unknown:
        raise InvalidInput(
            f"spec.{unknown[0]}: unknown key; expected {', '.join(sorted(SPEC_KEYS))}",
            field=f"spec.{unknown[0]}",
        )
    metric = check_metric(spec.get("metric"))
    # A score falling is bad (auc, accuracy, health); an error rising is bad (rmse, log loss).
    lower_is_worse = metric == "health" or (
        metric.startswith("performance.") and metric.rsplit(".", 1)[-1] not in ERROR_METRICS
    )
    default_op = "<=" if lower_is_worse else ">="
    out: dict[str, Any] = {
        "metric": metric,
        "op": _choice(spec, "op", OPS, default_op),
        "threshold": _threshold(spec.get("threshold"), required=metric != "drift.feature"),
        "severity": _choice(spec, "severity", SEVERITIES, "warning"),
        "cooldown": spec.get("cooldown", DEFAULT_COOLDOWN),
        "sinks": _sinks(spec.get("sinks")),
    }
    parse_duration(out["cooldown"], "spec.cooldown")
    if spec.get("window") is not None:
        parse_duration(spec["window"], "spec.window")
        out["window"] = spec["window"]
    if spec.get("trigger") is not None:
        out["trigger"] = check_trigger(spec["trigger"], "spec.trigger")
    return out


# ------------------------------------------------------------------ observations


@dataclass(frozen=True)
class Observation:
    """One value of a rule's metric: for a subject (feature or ""), in a window (or now)."""

    subject: str
    value: float | None
    window: str = ""
    start_ms: int = 0
    end_ms: int = 0


def _number(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def _observe(row: MonitorResult, subject: str, value: Any) -> Observation:
    return Observation(subject, _number(value), row.window, row.window_start_ms, row.window_end_ms)


def _drift(metric: str, row: MonitorResult) -> Observation | None:
    if metric == "drift.share" and row.feature == "__dataset__":
        share = _number((row.details or {}).get("share"))
        return _observe(row, "", share if share is not None else row.statistic)
    if metric == "drift.feature" and row.feature != "__dataset__" and row.flagged:
        return _observe(row, row.feature, row.statistic)
    return None


def _quality(name: str, row: MonitorResult) -> Observation | None:
    details = row.details or {}
    if row.method == name or details.get("metric") == name:
        return _observe(row, row.feature, row.statistic)
    if _number(details.get(name)) is not None:
        return _observe(row, row.feature, details[name])
    return None


def _performance(name: str, estimated: bool, row: MonitorResult) -> Observation | None:
    details = row.details or {}
    is_estimated = bool(details.get("estimated")) or any(
        str(v).startswith("estimated") for v in (row.method, row.feature)
    )
    if is_estimated != estimated:
        return None
    names = {row.feature, row.method, str(details.get("metric", ""))}
    names |= {n.removeprefix("estimated.").removeprefix("estimated_") for n in names}
    return _observe(row, "", row.statistic) if name in names else None


def observe(metric: str, row: MonitorResult) -> Observation | None:
    """The rule metric's value in one result row, when the row carries it."""
    if row.rows == 0:
        return None
    if metric.startswith("drift.") and row.kind == "drift":
        return _drift(metric, row)
    if metric.startswith("quality.") and row.kind == "quality":
        return _quality(metric.removeprefix("quality."), row)
    if metric.startswith("performance.") and row.kind == "performance":
        name = metric.removeprefix("performance.")
        estimated = name.startswith("estimated.")
        return _performance(name.removeprefix("estimated."), estimated, row)
    return None


def breaches(spec: dict[str, Any], obs: Observation) -> bool:
    if obs.value is None:
        # A flagged drift row breaches on its own when the rule sets no threshold.
        return spec["metric"] == "drift.feature" and spec.get("threshold") is None
    threshold = spec.get("threshold")
    if threshold is None:
        return True
    return obs.value >= threshold if spec["op"] == ">=" else obs.value <= threshold


def rule_observations(
    uow: UnitOfWork, endpoint: Endpoint, spec: dict[str, Any], results: list[MonitorResult]
) -> list[Observation]:
    """Breaching observations of one rule, oldest window first."""
    if spec["metric"] == "health":
        from modelward.monitoring.health import health_of

        found = [Observation("", health_of(uow, endpoint).score)]
    else:
        want = parse_duration(spec["window"], "spec.window") if spec.get("window") else None
        found = []
        for row in results:
            if want is not None and _duration_or_none(row.window) != want:
                continue
            obs = observe(spec["metric"], row)
            if obs is not None:
                found.append(obs)
    return sorted((o for o in found if breaches(spec, o)), key=lambda o: (o.end_ms, o.subject))


def _duration_or_none(text: str) -> int | None:
    try:
        return parse_duration(text, "window")
    except InvalidInput:
        return None


# ------------------------------------------------------------------ alerts


def dedup_key(metric: str, subject: str) -> str:
    return f"{metric}|{subject}"[:300]


def alert_public(
    session: Any, row: Alert, *, opened: bool = False, notified: bool = False
) -> AlertPublic:
    rule = session.get_one(AlertRule, row.rule_id)
    endpoint = session.get_one(Endpoint, row.endpoint_id)
    details = row.details or {}
    return AlertPublic(
        id=row.id,
        endpoint=endpoint.name,
        rule=rule.name,
        metric=str(details.get("metric", rule.spec.get("metric", ""))),
        subject=str(details.get("subject", "")),
        severity=row.severity,
        status=row.status,
        title=row.title,
        value=details.get("value"),
        threshold=details.get("threshold"),
        details=details,
        occurrences=row.occurrences,
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        acknowledged_by=row.acknowledged_by,
        acknowledged_at=row.acknowledged_at,
        resolved_by=row.resolved_by,
        resolved_at=row.resolved_at,
        opened=opened,
        notified=notified,
    )


def alert_payload(session: Any, row: Alert) -> dict[str, Any]:
    """What sinks and triggers receive: the alert as plain JSON."""
    data = alert_public(session, row).model_dump(mode="json", exclude={"opened", "notified"})
    data["details"] = {k: v for k, v in data["details"].items() if k != "notifications"}
    return data


def _title(spec: dict[str, Any], obs: Observation) -> str:
    what = spec["metric"] + (f" on {obs.subject!r}" if obs.subject else "")
    if obs.value is None:
        return f"{what}: flagged"[:300]
    limit = spec.get("threshold")
    cond = "" if limit is None else f" {spec['op']} {limit:g}"
    return f"{what}: {obs.value:.4g}{cond}"[:300]


def _facts(spec: dict[str, Any], obs: Observation) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "metric": spec["metric"],
        "subject": obs.subject,
        "value": obs.value,
        "threshold": spec.get("threshold"),
        "op": spec["op"],
    }
    if obs.window:
        facts.update(window=obs.window, window_start_ms=obs.start_ms, window_end_ms=obs.end_ms)
    return facts


def _last_notified_ms(uow: UnitOfWork, rule: AlertRule, key: str) -> int | None:
    rows = uow.session.scalars(
        select(Alert).where(Alert.rule_id == rule.id, Alert.dedup_key == key)
    )
    times = [r.details.get("notified_at_ms") for r in rows if r.details]
    return max((t for t in times if isinstance(t, int)), default=None)


def _notify(uow: UnitOfWork, endpoint: Endpoint, rule: AlertRule, row: Alert, opened: bool) -> None:
    from modelward.monitoring.triggers import run_trigger

    uow.session.flush()
    payload = alert_payload(uow.session, row)
    outcomes = notify(uow, payload, rule.spec.get("sinks", []))
    details = dict(row.details)
    details["notified_at_ms"] = int(stored_now().timestamp() * 1000)
    details["notifications"] = (details.get("notifications", []) + outcomes)[-KEPT_NOTIFICATIONS:]
    row.details = details
    if opened and rule.spec.get("trigger"):
        run_trigger(uow, endpoint, rule.spec["trigger"], row, payload)


def _in_cooldown(uow: UnitOfWork, rule: AlertRule, key: str) -> bool:
    last = _last_notified_ms(uow, rule, key)
    cooldown = parse_duration(rule.spec.get("cooldown", DEFAULT_COOLDOWN), "spec.cooldown")
    return last is not None and int(stored_now().timestamp() * 1000) - last < cooldown


def _repeat(row: Alert, spec: dict[str, Any], obs: Observation) -> bool:
    """Count a recurrence; False when this window was already counted (a re-run)."""
    seen = row.details.get("window_end_ms")
    if obs.window and isinstance(seen, int) and obs.end_ms <= seen:
        return False
    row.occurrences += 1
    row.last_seen_at = stored_now()
    row.title = _title(spec, obs)
    row.details = {**row.details, **_facts(spec, obs)}
    return True


def _open(uow: UnitOfWork, endpoint: Endpoint, rule: AlertRule, obs: Observation) -> Alert:
    now = stored_now()
    row = Alert(
        endpoint_id=endpoint.id,
        rule_id=rule.id,
        severity=rule.spec["severity"],
        status="open",
        dedup_key=dedup_key(rule.spec["metric"], obs.subject),
        title=_title(rule.spec, obs),
        details=_facts(rule.spec, obs),
        occurrences=1,
        first_seen_at=now,
        last_seen_at=now,
    )
    uow.session.add(row)
    uow.session.flush()
    payload = alert_payload(uow.session, row)
    summary = {"endpoint": endpoint.name, "rule": rule.name, "title": row.title}
    uow.audit("alert.open", "alert", row.id, payload, summary)
    return row


def record(
    uow: UnitOfWork, endpoint: Endpoint, rule: AlertRule, obs: Observation
) -> AlertPublic | None:
    """Open an alert for ``obs`` or update the open one; notify outside the cooldown."""
    key = dedup_key(rule.spec["metric"], obs.subject)
    current = uow.session.scalar(
        select(Alert).where(
            Alert.rule_id == rule.id, Alert.dedup_key == key, Alert.status.in_(OPEN_STATES)
        )
    )
    quiet = _in_cooldown(uow, rule, key)
    if current is not None:
        if not _repeat(current, rule.spec, obs):
            return None
        if not quiet:
            _notify(uow, endpoint, rule, current, opened=False)
        return alert_public(uow.session, current, notified=not quiet)
    row = _open(uow, endpoint, rule, obs)
    if not quiet:
        _notify(uow, endpoint, rule, row, opened=True)
    return alert_public(uow.session, row, opened=True, notified=not quiet)


def evaluate_alerts(
    uow: UnitOfWork, endpoint_row: Endpoint, results: list[MonitorResult]
) -> list[AlertPublic]:
    """The monitor run's hook: alerts opened or updated by the results just computed."""
    rules = uow.session.scalars(
        select(AlertRule)
        .where(AlertRule.endpoint_id == endpoint_row.id, AlertRule.enabled.is_(True))
        .order_by(AlertRule.name)
    )
    touched: dict[int, AlertPublic] = {}
    for rule in list(rules):
        for obs in rule_observations(uow, endpoint_row, rule.spec, results):
            out = record(uow, endpoint_row, rule, obs)
            if out is None:
                continue
            before = touched.get(out.id)
            if before is not None:  # keep what happened earlier in this evaluation
                out.opened, out.notified = before.opened, before.notified or out.notified
            touched[out.id] = out
    uow.session.flush()
    return list(touched.values())
