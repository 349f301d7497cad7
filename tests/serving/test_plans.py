"""Traffic plans through the SDK (in process and over HTTP, SQLite and PostgreSQL):
validation naming the field, gating, rollback, audit and history."""

from __future__ import annotations

import pytest

from conftest import ENDPOINT, Served
from modelward.errors import Conflict, InvalidInput, NotFound, PolicyDenied


def test_every_plan_change_is_audited_and_kept_in_history(served: Served) -> None:
    client = served.client
    canary = client.set_plan(
        ENDPOINT, "canary", challenger=served.better, steps=[10, 50, 100], step_every="10m"
    )
    assert (canary.seq, canary.share, canary.step_every_s) == (2, 10.0, 600)
    assert canary.thresholds["min_requests"] > 0
    status = client.deployment_status(ENDPOINT)
    assert [p.seq for p in status.history] == [2, 1]
    assert [p.state for p in status.history] == ["active", "superseded"]
    assert status.plan.challenger == served.better
    assert [a.arm for a in status.arms] == ["primary", "challenger"]
    back = client.rollback_endpoint(ENDPOINT, reason="customer complaints")
    assert (back.seq, back.kind, back.primary, back.reason) == (
        3,
        "single",
        served.good,
        "customer complaints",
    )
    assert client.deployment_status(ENDPOINT).history[1].state == "rolled_back"
    actions = [e.action for e in client.list_audit_events(entity_type="endpoint")]
    assert actions.count("endpoint.plan") == 1 and actions.count("endpoint.rollback") == 1


def test_switching_the_version_records_a_single_plan(served: Served) -> None:
    client = served.client
    client.update_endpoint(ENDPOINT, model=served.better)
    status = client.deployment_status(ENDPOINT)
    assert status.plan.kind == "single" and status.plan.primary == served.better
    assert client.get_endpoint(ENDPOINT).ref == served.better


@pytest.mark.parametrize(
    ("kind", "fields", "field"),
    [
        ("single", {"challenger": "scorer/2"}, "challenger"),
        ("canary", {}, "challenger"),
        ("canary", {"challenger": "scorer/2", "steps": [50, 20]}, "steps"),
        ("canary", {"challenger": "scorer/2", "steps": [0, 20]}, "steps"),
        ("canary", {"challenger": "scorer/2", "steps": [100]}, "steps"),
        ("canary", {"challenger": "scorer/2", "step_every": "soon"}, "step_every"),
        ("canary", {"challenger": "scorer/1"}, "challenger"),
        ("ab", {"challenger": "scorer/2"}, "key"),
        ("shadow", {"challenger": "scorer/2", "key": "customer"}, "key"),
        ("canary", {"challenger": "scorer/2", "analysis": {"min_requests": -1}}, None),
        ("canary", {"challenger": "scorer/2", "analysis": {"bogus": 1}}, None),
    ],
)
def test_a_malformed_plan_is_refused_naming_the_field(
    served: Served, kind: str, fields: dict[str, object], field: str | None
) -> None:
    with pytest.raises(InvalidInput) as caught:
        served.client.set_plan(ENDPOINT, kind, **fields)
    if field is not None:
        assert caught.value.field == field
    else:
        assert str(caught.value.field).startswith("analysis")
    assert served.client.deployment_status(ENDPOINT).plan.seq == 1


def test_unknown_versions_endpoints_and_batch_endpoints(served: Served) -> None:
    client = served.client
    with pytest.raises(NotFound):
        client.set_plan(ENDPOINT, "canary", challenger="scorer/99")
    with pytest.raises(NotFound):
        client.set_plan("no-such", "single")
    client.create_endpoint("batch-scoring", served.good)
    with pytest.raises(Conflict) as caught:
        client.set_plan("batch-scoring", "canary", challenger=served.better)
    assert caught.value.field == "kind"
    with pytest.raises(Conflict):
        client.rollback_endpoint("batch-scoring")


def test_a_governed_challenger_must_pass_the_gate_but_a_shadow_need_not(served: Served) -> None:
    client = served.client
    client.create_system(
        "credit-decisions",
        purpose="Score loan applications",
        business_owner="risk@example.com",
        technical_owner="ml@example.com",
        risk_tier="high",
        tier_rationale="Decides on credit for people",
        decision_type="automated",
        models=["scorer"],
    )
    with pytest.raises(PolicyDenied):
        client.set_plan(ENDPOINT, "canary", challenger=served.better)
    shadow = client.set_plan(ENDPOINT, "shadow", challenger=served.better, share=25)
    assert shadow.kind == "shadow" and shadow.share == 25


def test_a_version_a_plan_routes_to_cannot_be_deleted(served: Served) -> None:
    client = served.client
    client.set_plan(ENDPOINT, "shadow", challenger=served.flipped)
    with pytest.raises(Conflict) as caught:
        client.delete_version(served.good)
    assert "credit-api serves it" in caught.value.message
    with pytest.raises(Conflict) as caught:
        client.delete_version(served.flipped)
    assert "plan 2 routed traffic to it" in caught.value.message
    client.delete_version(served.better)  # never routed: it may go
