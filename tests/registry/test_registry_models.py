"""Registered models through both transports on both stores."""

from __future__ import annotations

import pytest

import modelward as mw


def test_create_get_list_update_a_registered_model(client: mw.Client, audit_events) -> None:
    created = client.create_registered_model(
        "credit-scorer", description="PD model", owner="risk-team", tags={"domain": "credit"}
    )
    assert (created.name, created.owner, created.tags) == (
        "credit-scorer",
        "risk-team",
        {"domain": "credit"},
    )
    assert created.latest_version is None and created.aliases == {}
    client.create_registered_model("fraud-detector")

    assert [m.name for m in client.list_registered_models()] == ["credit-scorer", "fraud-detector"]
    assert (
        client.get_registered_model("fraud-detector").owner == "test-admin"
    )  # default: the creator

    updated = client.update_registered_model(
        "credit-scorer", description="Probability of default", tags={"tier": "high"}
    )
    assert updated.description == "Probability of default"
    assert updated.owner == "risk-team"  # not given, so unchanged
    assert updated.tags == {"domain": "credit", "tier": "high"}
    assert client.delete_model_tag("credit-scorer", "domain").tags == {"tier": "high"}
    assert client.get_registered_model("credit-scorer").tags == {"tier": "high"}

    assert [e[1] for e in audit_events("model.create")] == ["credit-scorer", "fraud-detector"]
    updates = audit_events("model.update")
    assert updates[0][2] == {"description": "Probability of default", "tags": {"tier": "high"}}
    assert audit_events("model.tag_delete")[0][2] == {"key": "domain"}


def test_duplicate_unknown_and_invalid_models_are_refused(client: mw.Client) -> None:
    client.create_registered_model("credit-scorer")
    with pytest.raises(mw.Conflict) as dup:
        client.create_registered_model("credit-scorer")
    assert dup.value.field == "name"
    with pytest.raises(mw.InvalidInput) as bad:
        client.create_registered_model("credit scorer")
    assert bad.value.field == "name"
    with pytest.raises(mw.NotFound) as missing:
        client.get_registered_model("missing")
    assert missing.value.field == "name"
    with pytest.raises(mw.NotFound) as no_tag:
        client.delete_model_tag("credit-scorer", "nope")
    assert no_tag.value.field == "key"
    with pytest.raises(mw.InvalidInput) as long_tag:
        client.update_registered_model("credit-scorer", tags={"k": "x" * 8001})
    assert long_tag.value.field == "tags"
    with pytest.raises(mw.InvalidInput) as nul:
        client.update_registered_model("credit-scorer", description="a\x00b")
    assert nul.value.field == "description"
    assert client.get_registered_model("credit-scorer").tags == {}
    assert [m.name for m in client.list_registered_models()] == ["credit-scorer"]


def test_first_version_creates_the_model(client: mw.Client, fitted, audit_events) -> None:
    version = client.create_model_version("credit-scorer", fitted.model)
    model = client.get_registered_model("credit-scorer")
    assert (version.version, model.latest_version) == (1, 1)
    assert [e[1] for e in audit_events("model.create")] == ["credit-scorer"]
