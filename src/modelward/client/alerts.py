"""The SDK's alert verbs: rules on an endpoint's monitor results, the alert lifecycle, and the
health index of an endpoint or an AI system."""

from __future__ import annotations

from typing import Any

from modelward.client.base import ClientBase
from modelward.monitoring.alert_schemas import (
    AlertDetail,
    AlertPublic,
    AlertRuleCreate,
    AlertRulePublic,
    EndpointHealth,
    SystemHealth,
)


class AlertsAPI(ClientBase):
    def add_alert_rule(self, endpoint: str, name: str, spec: dict[str, Any]) -> AlertRulePublic:
        """Alert when ``spec["metric"]`` crosses ``spec["threshold"]`` (see docs/monitoring.md).

        ``spec`` keys: metric, op (>= or <=), threshold, window, severity, cooldown, sinks
        (webhook, command, audit) and an optional retraining trigger.
        """
        body = self._model(AlertRuleCreate, name=name, spec=spec)
        return self._call("add_alert_rule", name=endpoint, body=body)  # type: ignore[no-any-return]

    def list_alert_rules(self, endpoint: str) -> list[AlertRulePublic]:
        return self._call("list_alert_rules", name=endpoint)  # type: ignore[no-any-return]

    def disable_alert_rule(self, endpoint: str, rule: str) -> AlertRulePublic:
        return self._call("disable_alert_rule", name=endpoint, rule=rule)  # type: ignore[no-any-return]

    def enable_alert_rule(self, endpoint: str, rule: str) -> AlertRulePublic:
        return self._call("enable_alert_rule", name=endpoint, rule=rule)  # type: ignore[no-any-return]

    def list_alerts(
        self,
        endpoint: str | None = None,
        *,
        status: str | None = None,
        severity: str | None = None,
        limit: int = 100,
    ) -> list[AlertPublic]:
        """Newest first, optionally of one endpoint, status or severity."""
        return self._call(  # type: ignore[no-any-return]
            "list_alerts", endpoint=endpoint, status=status, severity=severity, limit=limit
        )

    def get_alert(self, alert_id: int) -> AlertDetail:
        return self._call("get_alert", alert_id=alert_id)  # type: ignore[no-any-return]

    def acknowledge_alert(self, alert_id: int) -> AlertPublic:
        return self._call("acknowledge_alert", alert_id=alert_id)  # type: ignore[no-any-return]

    def resolve_alert(self, alert_id: int) -> AlertPublic:
        return self._call("resolve_alert", alert_id=alert_id)  # type: ignore[no-any-return]

    def endpoint_health(self, endpoint: str) -> EndpointHealth:
        """The 0–100 health index of an endpoint and every part behind it."""
        return self._call("endpoint_health", name=endpoint)  # type: ignore[no-any-return]

    def system_health(self, system: str) -> SystemHealth:
        """Mean health over an AI system's active endpoints (the lowest shown as ``min``)."""
        return self._call("system_health", name=system)  # type: ignore[no-any-return]
