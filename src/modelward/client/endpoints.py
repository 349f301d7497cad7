"""The SDK's endpoint verbs: deploy a version under a name, change it, list them."""

from __future__ import annotations

from typing import Any

from modelward.client.base import ClientBase
from modelward.monitoring.endpoint_schemas import EndpointCreate, EndpointPublic, EndpointUpdate
from modelward.serving.plan_schemas import (
    DeploymentStatus,
    PlanPublic,
    PlanRequest,
    RollbackRequest,
)


class EndpointsAPI(ClientBase):
    def create_endpoint(
        self,
        name: str,
        model: str,
        *,
        mode: str = "batch",
        config: dict[str, Any] | None = None,
    ) -> EndpointPublic:
        """Deploy ``model`` (``name@champion``, ``name/3``) as endpoint ``name``.

        A model in the AI register deploys only a version its production alias points at, or
        one that passes the policies guarding that alias (``PolicyDenied`` otherwise).
        """
        body = self._model(EndpointCreate, name=name, model=model, mode=mode, config=config or {})
        return self._call("create_endpoint", body=body)  # type: ignore[no-any-return]

    def update_endpoint(self, name: str, **fields: Any) -> EndpointPublic:
        """Change ``model`` (another version), ``mode``, ``status`` or ``config``."""
        body = self._model(EndpointUpdate, **fields)
        return self._call("update_endpoint", name=name, body=body)  # type: ignore[no-any-return]

    def get_endpoint(self, name: str) -> EndpointPublic:
        return self._call("get_endpoint", name=name)  # type: ignore[no-any-return]

    def list_endpoints(self) -> list[EndpointPublic]:
        return self._call("list_endpoints")  # type: ignore[no-any-return]

    def set_plan(self, name: str, kind: str, **fields: Any) -> PlanPublic:
        """Route endpoint ``name``'s online traffic by a new plan.

        ``kind`` is ``single`` (one version), ``canary`` (a rising share to ``challenger``
        by ``steps``, each held at least ``step_every``, stepped up, completed or rolled back
        by canary analysis when ``auto``), ``shadow`` (a copy of ``share`` percent of
        requests to ``challenger``, whose answers are logged, never returned) or ``ab``
        (``share`` percent of callers to ``challenger``, sticky by the request field ``key``).
        Versions that answer callers must pass the production gate (``PolicyDenied``).
        """
        body = self._model(PlanRequest, kind=kind, **fields)
        return self._call("set_plan", name=name, body=body)  # type: ignore[no-any-return]

    def rollback_endpoint(self, name: str, reason: str | None = None) -> PlanPublic:
        """Return endpoint ``name`` to the plan before its current one."""
        body = self._model(RollbackRequest, reason=reason)
        return self._call("rollback", name=name, body=body)  # type: ignore[no-any-return]

    def deployment_status(self, name: str) -> DeploymentStatus:
        """The plan, each arm's traffic in the current step, the analysis verdict, history."""
        return self._call("get_deployment", name=name)  # type: ignore[no-any-return]
