"""Registry test helpers: a small fitted model and a reader for the audit trail."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from modelward.audit.tables import AuditEvent
from modelward.store import Store


@dataclass
class Fitted:
    model: Any
    X: Any
    y: Any


@pytest.fixture
def fitted() -> Fitted:
    """A logistic regression fitted on a small, seeded credit-like table."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(7)
    X = pd.DataFrame(
        {
            "amount": rng.normal(3000, 900, 200),
            "months": rng.integers(6, 60, 200),
            "age": rng.integers(19, 75, 200),
        }
    )
    y = pd.Series(
        (X["amount"] / 1000 + X["months"] / 12 + rng.normal(0, 1, 200) > 7).astype(int), name="bad"
    )
    return Fitted(LogisticRegression(max_iter=500).fit(X, y), X, y)


AuditReader = Callable[[str], list[tuple[str, str, dict[str, Any]]]]


@pytest.fixture
def audit_events(store: Store) -> AuditReader:
    """(actor, entity_id, summary) of every audit event with an action, oldest first."""

    def read(action: str) -> list[tuple[str, str, dict[str, Any]]]:
        with Session(store.engine) as session:
            rows = session.scalars(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            )
            return [(r.actor, r.entity_id, json.loads(r.summary)) for r in rows]

    return read
