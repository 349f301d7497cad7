"""``modelward.Client``: the one SDK, embedded or remote."""

from __future__ import annotations

import os

from modelward.auth.roles import Principal, Role
from modelward.client.alerts import AlertsAPI
from modelward.client.audit import AuditAPI
from modelward.client.base import ClientBase
from modelward.client.datasets import DatasetsAPI
from modelward.client.endpoints import EndpointsAPI
from modelward.client.evaluation import EvaluationAPI
from modelward.client.governance import GovernanceAPI
from modelward.client.monitoring import MonitoringAPI
from modelward.client.predictions import PredictionsAPI
from modelward.client.register import RegisterAPI
from modelward.client.registry import RegistryAPI
from modelward.client.tokens import TokensAPI
from modelward.client.tracking import TrackingAPI
from modelward.client.transport import HttpTransport, LocalTransport, Transport
from modelward.config import is_http, local_user, resolve_location


class Client(
    TrackingAPI,
    DatasetsAPI,
    RegistryAPI,
    EvaluationAPI,
    GovernanceAPI,
    RegisterAPI,
    EndpointsAPI,
    PredictionsAPI,
    MonitoringAPI,
    AlertsAPI,
    AuditAPI,
    TokensAPI,
    ClientBase,
):
    """Talk to a modelward store.

    Parameters
    ----------
    uri:
        ``None`` for the embedded home (``$MODELWARD_HOME`` or ``~/.modelward``), a
        database URL (``sqlite:///…``, ``postgresql+psycopg://…``) or a server
        (``http://host:8080``). Defaults to ``$MODELWARD_URI``.
    token:
        API token for a server; defaults to ``$MODELWARD_TOKEN``.
    artifacts:
        Artifact root (folder or fsspec URL) for a database URI; defaults to
        ``$MODELWARD_ARTIFACTS`` or ``artifacts/`` under the home.
    """

    def __init__(
        self, uri: str | None = None, token: str | None = None, *, artifacts: str | None = None
    ) -> None:
        uri = uri or os.environ.get("MODELWARD_URI")
        self.uri = uri
        self._transport: Transport
        if is_http(uri):
            self._transport = HttpTransport(uri, token or os.environ.get("MODELWARD_TOKEN"))  # type: ignore[arg-type]
        else:
            from modelward.store import Store

            store = Store(resolve_location(uri, artifacts))
            self._transport = LocalTransport(store, Principal(local_user(), Role.admin))

    @classmethod
    def over(cls, transport: Transport) -> Client:
        """A client over an existing transport (used by the server's tools and tests)."""
        self = cls.__new__(cls)
        self.uri = None
        self._transport = transport
        return self

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
