"""SDK verbs: registry."""

from __future__ import annotations

from modelward.client.base import ClientBase


class RegistryAPI(ClientBase):
    pass
