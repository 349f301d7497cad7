"""A unit of work: one transaction, the artifact store and the acting principal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from modelward.artifacts.store import ArtifactStore
from modelward.audit.writer import AppendedEvent, append_event
from modelward.auth.roles import Principal


@dataclass
class UnitOfWork:
    session: Session
    artifacts: ArtifactStore
    principal: Principal

    @property
    def actor(self) -> str:
        return self.principal.name

    def audit(
        self,
        action: str,
        entity_type: str,
        entity_id: str | int,
        state: Any,
        summary: dict[str, Any] | None = None,
    ) -> AppendedEvent:
        """Record ``action`` in the same transaction as the change it describes."""
        return append_event(
            self.session, self.actor, action, entity_type, str(entity_id), state, summary
        )
