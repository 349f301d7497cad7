"""The SDK's endpoint verbs: deploy a version under a name, change it, list them."""

from __future__ import annotations

from typing import Any

from modelward.client.base import ClientBase
from modelward.monitoring.endpoint_schemas import EndpointCreate, EndpointPublic, EndpointUpdate


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
