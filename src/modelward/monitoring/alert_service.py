"""Alert service verbs: rules per endpoint, the alert lifecycle, the health index.

Lifecycle: open → acknowledged → resolved (a developer may do either step; who and when is
recorded and audited). A resolved alert stays resolved: when its condition recurs, a new
alert opens.
"""

from __future__ import annotations

from sqlalchemy import select

from modelward.auth.roles import Role
from modelward.errors import Conflict, InvalidInput, NotFound
from modelward.monitoring.alert_schemas import (
    AlertDetail,
    AlertPublic,
    AlertRuleCreate,
    AlertRulePublic,
    EndpointHealth,
    SystemHealth,
)
from modelward.monitoring.alerts import SEVERITIES, alert_payload, alert_public, validate_spec
from modelward.monitoring.endpoints import get_endpoint_row
from modelward.monitoring.health import health_of, system_health_of
from modelward.monitoring.tables import Alert, AlertRule, Endpoint
from modelward.monitoring.triggers import runs_of
from modelward.operations import operation
from modelward.registry.writing import lock_writes, stored_now
from modelward.uow import UnitOfWork
from modelward.validation import check_name

RULES = "/api/v1/endpoints/{name}/alert-rules"
ALERTS = "/api/v1/alerts"
ALERT_STATES = ("open", "acknowledged", "resolved")
MAX_ID = 2**31 - 1
MAX_LIMIT = 1000


def rule_public(endpoint: Endpoint, row: AlertRule) -> AlertRulePublic:
    return AlertRulePublic(
        id=row.id,
        endpoint=endpoint.name,
        name=row.name,
        spec=row.spec,
        enabled=row.enabled,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def _rule_row(uow: UnitOfWork, endpoint: Endpoint, rule: str) -> AlertRule:
    check_name(rule, "rule")
    row = uow.session.scalar(
        select(AlertRule).where(AlertRule.endpoint_id == endpoint.id, AlertRule.name == rule)
    )
    if row is None:
        raise NotFound(f"endpoint {endpoint.name!r} has no alert rule {rule!r}", field="rule")
    return row


def _audit_rule(uow: UnitOfWork, action: str, endpoint: Endpoint, row: AlertRule) -> None:
    uow.session.flush()
    out = rule_public(endpoint, row)
    summary = {"endpoint": endpoint.name, "rule": row.name, "metric": row.spec["metric"]}
    uow.audit(
        action, "alert_rule", f"{endpoint.name}/{row.name}", out.model_dump(mode="json"), summary
    )


@operation("POST", RULES, role=Role.developer, status_code=201, tag="monitoring")
def add_alert_rule(uow: UnitOfWork, name: str, body: AlertRuleCreate) -> AlertRulePublic:
    """Watch an endpoint's monitor results: metric, op, threshold, severity, sinks, trigger."""
    lock_writes(uow)
    endpoint = get_endpoint_row(uow.session, name)
    spec = validate_spec(body.spec)
    taken = uow.session.scalar(
        select(AlertRule.id).where(
            AlertRule.endpoint_id == endpoint.id, AlertRule.name == body.name
        )
    )
    if taken is not None:
        raise Conflict(f"endpoint {name!r} already has an alert rule {body.name!r}", field="name")
    row = AlertRule(
        endpoint_id=endpoint.id,
        name=body.name,
        spec=spec,
        enabled=True,
        created_by=uow.actor,
        created_at=stored_now(),
    )
    uow.session.add(row)
    _audit_rule(uow, "alert_rule.create", endpoint, row)
    return rule_public(endpoint, row)


@operation("GET", RULES, tag="monitoring")
def list_alert_rules(uow: UnitOfWork, name: str) -> list[AlertRulePublic]:
    endpoint = get_endpoint_row(uow.session, name)
    rows = uow.session.scalars(
        select(AlertRule).where(AlertRule.endpoint_id == endpoint.id).order_by(AlertRule.name)
    )
    return [rule_public(endpoint, r) for r in rows]


def _set_enabled(uow: UnitOfWork, name: str, rule: str, enabled: bool) -> AlertRulePublic:
    lock_writes(uow)
    endpoint = get_endpoint_row(uow.session, name)
    row = _rule_row(uow, endpoint, rule)
    if row.enabled != enabled:
        row.enabled = enabled
        _audit_rule(uow, "alert_rule.enable" if enabled else "alert_rule.disable", endpoint, row)
    return rule_public(endpoint, row)


@operation("POST", RULES + "/{rule}/disable", role=Role.developer, tag="monitoring")
def disable_alert_rule(uow: UnitOfWork, name: str, rule: str) -> AlertRulePublic:
    """Stop evaluating a rule; its alerts stay as they are."""
    return _set_enabled(uow, name, rule, False)


@operation("POST", RULES + "/{rule}/enable", role=Role.developer, tag="monitoring")
def enable_alert_rule(uow: UnitOfWork, name: str, rule: str) -> AlertRulePublic:
    return _set_enabled(uow, name, rule, True)


def _alert_row(uow: UnitOfWork, alert_id: int) -> Alert:
    row = uow.session.get(Alert, alert_id) if 1 <= alert_id <= MAX_ID else None
    if row is None:
        raise NotFound(f"no alert {alert_id}", field="alert_id")
    return row


@operation("GET", ALERTS, tag="monitoring")
def list_alerts(
    uow: UnitOfWork,
    endpoint: str | None = None,
    status: str | None = None,
    severity: str | None = None,
    limit: int = 100,
) -> list[AlertPublic]:
    """Newest first; filter by endpoint, status (open, acknowledged, resolved) and severity."""
    query = select(Alert)
    if endpoint is not None:
        query = query.where(
            Alert.endpoint_id == get_endpoint_row(uow.session, endpoint, "endpoint").id
        )
    if status is not None:
        if status not in ALERT_STATES:
            raise InvalidInput(f"status: must be one of {', '.join(ALERT_STATES)}", field="status")
        query = query.where(Alert.status == status)
    if severity is not None:
        if severity not in SEVERITIES:
            raise InvalidInput(
                f"severity: must be one of {', '.join(SEVERITIES)}", field="severity"
            )
        query = query.where(Alert.severity == severity)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit: must be in 1..{MAX_LIMIT}", field="limit")
    rows = uow.session.scalars(query.order_by(Alert.id.desc()).limit(limit))
    return [alert_public(uow.session, r) for r in rows]


@operation("GET", ALERTS + "/{alert_id}", tag="monitoring")
def get_alert(uow: UnitOfWork, alert_id: int) -> AlertDetail:
    """One alert with its notification outcomes and the retraining runs it started."""
    row = _alert_row(uow, alert_id)
    out = alert_public(uow.session, row)
    return AlertDetail(**out.model_dump(), trigger_runs=runs_of(uow, row.id))


def _step(uow: UnitOfWork, alert_id: int, to: str) -> AlertPublic:
    lock_writes(uow)
    row = _alert_row(uow, alert_id)
    allowed = {"acknowledged": ("open",), "resolved": ("open", "acknowledged")}[to]
    if row.status not in allowed:
        raise Conflict(f"alert {alert_id} is {row.status}; it cannot become {to}", field="alert_id")
    before, now = row.status, stored_now()
    row.status = to
    if to == "acknowledged":
        row.acknowledged_by, row.acknowledged_at = uow.actor, now
    else:
        row.resolved_by, row.resolved_at = uow.actor, now
    uow.session.flush()
    action = "alert.acknowledge" if to == "acknowledged" else "alert.resolve"
    summary = {"from": before, "to": to, "title": row.title}
    uow.audit(action, "alert", row.id, alert_payload(uow.session, row), summary)
    return alert_public(uow.session, row)


@operation("POST", ALERTS + "/{alert_id}/acknowledge", role=Role.developer, tag="monitoring")
def acknowledge_alert(uow: UnitOfWork, alert_id: int) -> AlertPublic:
    """Someone is on it: repeats keep counting on this alert without re-opening it."""
    return _step(uow, alert_id, "acknowledged")


@operation("POST", ALERTS + "/{alert_id}/resolve", role=Role.developer, tag="monitoring")
def resolve_alert(uow: UnitOfWork, alert_id: int) -> AlertPublic:
    """Close the alert; if the condition recurs, a new alert opens."""
    return _step(uow, alert_id, "resolved")


@operation("GET", "/api/v1/endpoints/{name}/health", tag="monitoring")
def endpoint_health(uow: UnitOfWork, name: str) -> EndpointHealth:
    """The endpoint's 0–100 health index and every part behind it (n/a parts left out)."""
    return health_of(uow, get_endpoint_row(uow.session, name))


@operation("GET", "/api/v1/systems/{name}/health", tag="monitoring")
def system_health(uow: UnitOfWork, name: str) -> SystemHealth:
    """An AI system's health: the mean over its active endpoints, the worst one shown too."""
    from modelward.governance.register import get_system_row

    return system_health_of(uow, get_system_row(uow.session, name))
