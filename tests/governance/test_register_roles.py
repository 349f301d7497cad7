"""Who may change the register over HTTP: the risk tier is guarded by the approver role."""

from __future__ import annotations

import pytest

import modelward as mw
from modelward.client.transport import HttpTransport
from modelward.store import Store
from support import token_for


def _as(live_server, store: Store, role: str) -> mw.Client:
    return mw.Client.over(HttpTransport(live_server.url, token_for(store, role, f"t-{role}")))


def test_only_an_approver_changes_the_risk_tier(live_server, store: Store) -> None:
    developer = _as(live_server, store, "developer")
    developer.create_system(
        "credit-decisions", risk_tier="high", tier_rationale="Consumer credit decisions"
    )
    events = len(developer.list_audit_events(entity_type="ai_system"))

    with pytest.raises(mw.Forbidden) as refused:
        developer.update_system("credit-decisions", risk_tier="low", purpose="Score loans")
    assert "approver" in refused.value.message
    unchanged = developer.get_system("credit-decisions")
    assert (unchanged.risk_tier, unchanged.purpose) == ("high", "")
    assert len(developer.list_audit_events(entity_type="ai_system")) == events

    # Other fields, and restating the current tier, are a developer's to change.
    same = developer.update_system("credit-decisions", risk_tier="high", purpose="Score loans")
    assert (same.risk_tier, same.purpose) == ("high", "Score loans")

    approver = _as(live_server, store, "approver")
    lowered = approver.update_system("credit-decisions", risk_tier="low")
    assert (lowered.risk_tier, lowered.updated_by) == ("low", "t-approver")
    last = approver.list_audit_events(entity_type="ai_system", newest_first=True, limit=1)[0]
    assert (last.actor, last.summary) == (
        "t-approver",
        {"risk_tier": {"from": "high", "to": "low"}},
    )

    viewer = _as(live_server, store, "viewer")
    assert [s.name for s in viewer.list_systems()] == ["credit-decisions"]
    with pytest.raises(mw.Forbidden):
        viewer.create_system("other", risk_tier="low")
    with pytest.raises(mw.Forbidden):
        viewer.report_incident("credit-decisions", title="x", severity="low")
    for c in (developer, approver, viewer):
        c.close()
