"""SDK verbs: audit."""

from __future__ import annotations

from modelward.client.base import ClientBase


class AuditAPI(ClientBase):
    pass
