"""A unit of work: one transaction, the artifact store and the acting principal."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
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
    # Set for long operations: they read and compute in a read transaction, then record
    # the result in a short write transaction, so other writers never wait on the compute.
    writer: Callable[[], AbstractContextManager[UnitOfWork]] | None = None
    # Work that must not hold this transaction's locks (a retraining command that writes to
    # the store itself): run once the transaction has committed, never if it rolls back.
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def write_phase(self) -> AbstractContextManager[UnitOfWork]:
        """A new write transaction for the same principal."""
        if self.writer is None:
            raise RuntimeError("this unit of work was opened without a store")
        return self.writer()

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
