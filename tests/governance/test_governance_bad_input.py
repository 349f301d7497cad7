"""Governance requests that must be refused with a readable reason and change nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import modelward as mw
from modelward.demo.scenario import HOLDOUT_DATASET, MODEL, TARGET

GOOD_RULE = "evaluations.holdout.roc_auc >= 0.70"
JUSTIFICATION = "Regulator-mandated hotfix; evidence follows in ticket RISK-1234."


def _policy(expr: str) -> str:
    return f"""name: holdout-floor
description: A minimum holdout ROC AUC.
applies_to:
  risk_tiers: [high]
  aliases: [champion]
rules:
  - name: has-card
    expr: card.card_version >= 1
    message: A card is needed.
  - name: holdout-auc
    expr: {expr}
    message: Holdout ROC AUC must be at least 0.70.
"""


def _over_http(actor: mw.Client, kit: Any, status: int, method: str, path: str, body: Any) -> None:
    """Send the same request raw when ``actor`` talks HTTP: the status code is the contract."""
    if not kit.is_http(actor):
        return
    raw = json.dumps(body).encode()
    code, answer = actor._transport._http.request(
        method, path, body=raw, content_type="application/json"
    )
    assert code == status, answer
    assert json.loads(answer)["error"]["message"]


def test_broken_policies_are_refused_where_they_are_wrong(client: mw.Client, kit: Any) -> None:
    kit.register(client)
    before = kit.state(client)

    with pytest.raises(mw.InvalidInput) as syntax:
        client.apply_policy(_policy("evaluations.holdout.roc_auc >= "))
    assert syntax.value.field == "rules[1].expr"
    assert syntax.value.message.startswith("rules[1].expr (line 11, column ")

    with pytest.raises(mw.InvalidInput) as unknown:
        client.apply_policy(_policy("evaluation.holdout.roc_auc >= 0.70"))
    assert unknown.value.field == "rules[1].expr"
    assert "(line 11, column 11)" in unknown.value.message
    assert "unknown identifier 'evaluation'" in unknown.value.message
    assert "did you mean 'evaluations'?" in unknown.value.message

    with pytest.raises(mw.InvalidInput) as yaml:
        client.apply_policy(
            _policy(GOOD_RULE).replace("  aliases: [champion]", "  aliases: [champ")
        )
    assert yaml.value.field == "document"
    assert yaml.value.message.startswith("invalid YAML at line ")

    _over_http(client, kit, 400, "POST", "/api/v1/policies", {"document": _policy("x >= 1")})
    assert kit.state(client) == before
    # The same document with a valid rule is accepted: the refusals were about the rule.
    assert client.apply_policy(_policy(GOOD_RULE)).version == 1


def test_approvals_refused_for_the_wrong_person_or_request(
    client: mw.Client, kit: Any, governed: Any, as_user: Callable[[str, str], mw.Client]
) -> None:
    alice, bob = as_user("alice", "approver"), as_user("bob", "approver")
    first = alice.request_promotion(governed.candidate, "champion")
    before = kit.state(client)

    with pytest.raises(mw.Forbidden) as own_request:
        alice.approve(first.id)
    assert own_request.value.message == (
        "four eyes: alice requested this promotion and cannot approve it"
    )
    with pytest.raises(mw.Forbidden) as creator:
        client.approve(first.id)
    assert creator.value.message == (
        f"four eyes: test-admin created {governed.candidate} and cannot approve its promotion"
    )
    _over_http(alice, kit, 403, "POST", f"/api/v1/promotions/{first.id}/approve", {})
    _over_http(client, kit, 403, "POST", f"/api/v1/promotions/{first.id}/approve", {})
    assert kit.state(client) == before

    # A newer request for the same alias supersedes the first: approving it is too late.
    second = client.request_promotion(governed.candidate, "champion", comment="re-opened")
    before = kit.state(client)
    with pytest.raises(mw.Conflict) as superseded:
        bob.approve(first.id)
    assert f"promotion request {first.id}" in superseded.value.message
    assert "is superseded" in superseded.value.message
    _over_http(bob, kit, 409, "POST", f"/api/v1/promotions/{first.id}/approve", {})
    assert kit.state(client) == before

    # Changing the guarding policy voids the request: approvals bind to policy versions.
    high = client.get_policy("default-high")
    client.apply_policy(high.document.replace("two approvals", "two approvals (reviewed)"))
    before = kit.state(client)
    with pytest.raises(mw.Conflict) as changed:
        bob.approve(second.id)
    assert "the policies changed since the request was opened" in changed.value.message
    assert "default-high v1 -> v2" in changed.value.message
    _over_http(bob, kit, 409, "POST", f"/api/v1/promotions/{second.id}/approve", {})
    assert kit.state(client) == before


def test_evaluation_data_that_does_not_fit_is_refused(
    client: mw.Client, kit: Any, governed: Any
) -> None:
    holdout = kit.models.holdout
    client.register_dataset(
        "credit-holdout-trimmed", holdout.drop(columns=["purpose", "telephone"])
    )
    before = kit.state(client)

    with pytest.raises(mw.InvalidInput) as columns:
        client.evaluate(governed.candidate, dataset="credit-holdout-trimmed", target=TARGET)
    assert columns.value.field == "dataset"
    assert "missing input column(s) purpose, telephone" in columns.value.message

    with pytest.raises(mw.InvalidInput) as target:
        client.evaluate(governed.candidate, dataset=HOLDOUT_DATASET, target="defaulted")
    assert target.value.field == "target"
    assert "has no column 'defaulted'" in target.value.message

    with pytest.raises(mw.InvalidInput) as sliced:
        client.evaluate(
            governed.candidate, dataset=HOLDOUT_DATASET, target=TARGET, slice_by=["region"]
        )
    assert sliced.value.field == "slice_by"
    assert "has no column 'region'" in sliced.value.message
    path = f"/api/v1/model-versions/{governed.candidate}/evaluations"
    body = {"dataset": "credit-holdout-trimmed", "target": TARGET}
    _over_http(client, kit, 400, "POST", path, body)

    assert client.list_evaluations(governed.candidate) == []
    assert kit.state(client) == before


def test_only_an_admin_overrides_the_gate_and_says_why(
    client: mw.Client, kit: Any, governed: Any, as_user: Callable[[str, str], mw.Client]
) -> None:
    alice = as_user("alice", "approver")
    before = kit.state(client)
    with pytest.raises(mw.Forbidden) as approver:
        alice.set_alias(MODEL, "champion", 2, override=JUSTIFICATION)
    assert approver.value.field == "override" and "only the admin" in approver.value.message
    path = f"/api/v1/models/{MODEL}/aliases/champion"
    _over_http(alice, kit, 403, "PUT", path, {"version": 2, "override": JUSTIFICATION})
    with pytest.raises(mw.InvalidInput) as short:
        client.set_alias(MODEL, "champion", 2, override="urgent")
    assert short.value.field == "override" and "at least 20 characters" in short.value.message
    _over_http(client, kit, 400, "PUT", path, {"version": 2, "override": "urgent"})
    assert kit.state(client) == before

    moved = client.set_alias(MODEL, "champion", 2, override=JUSTIFICATION)
    assert moved.version == 2
    event = client.list_audit_events(action="gate.*", newest_first=True, limit=1)[0]
    assert (event.action, event.actor) == ("gate.override", "test-admin")
    assert event.summary == {"ref": governed.candidate, "alias": "champion", "outcome": "override"}


def test_developers_cannot_change_the_rules_or_the_tier(
    client: mw.Client, kit: Any, governed: Any, as_user: Callable[[str, str], mw.Client]
) -> None:
    developer = as_user("dana", "developer")
    before = kit.state(client)
    with pytest.raises(mw.Forbidden) as policy:
        developer.apply_policy(_policy(GOOD_RULE))
    assert "apply policy needs approver" in policy.value.message
    _over_http(developer, kit, 403, "POST", "/api/v1/policies", {"document": _policy(GOOD_RULE)})
    with pytest.raises(mw.Forbidden) as tier:
        developer.update_system(kit.system, risk_tier="low")
    assert "approver" in tier.value.message
    path = f"/api/v1/systems/{kit.system}"
    _over_http(developer, kit, 403, "PATCH", path, {"risk_tier": "low"})
    assert client.get_system(kit.system).risk_tier == "high"
    assert kit.state(client) == before
