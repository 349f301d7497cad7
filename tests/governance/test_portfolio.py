"""The portfolio read: per AI system its production version, the governance evidence that
exists for it (and what is missing), open promotion requests, and the models outside the
register; with the overview's filters. Over each transport."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import modelward as mw
from modelward.demo.scenario import MODEL

SYSTEM = "credit-risk"


def portfolio(client: mw.Client, **filters: Any) -> Any:
    return client._transport.call("portfolio", **filters)


def evidence(row: Any) -> dict[str, bool]:
    (production,) = row.production
    return {i.name: i.present for i in production.evidence}


def test_a_version_promoted_before_the_register_has_no_evidence_yet(
    client: mw.Client, governed: Any, tmp_path: Path
) -> None:
    artifact = tmp_path / "weights.txt"
    artifact.write_text("w", encoding="utf-8")
    client.create_model_version("fraud-detector", artifact)
    client.set_alias("fraud-detector", "champion", 1)

    out = portfolio(client)
    (row,) = out.systems
    assert (row.name, row.risk_tier, row.production_alias) == (SYSTEM, "high", "champion")
    (production,) = row.production
    assert (production.model, production.version) == (MODEL, 1)
    assert evidence(row) == dict.fromkeys(
        ("evaluation", "explanation", "model card", "approval", "policy check"), False
    )
    assert (production.complete, production.total) == (0, 5)
    details = {i.name: i.detail for i in production.evidence}
    assert details["policy check"] == "no gate decision recorded"
    assert row.pending == [] and row.endpoints == [] and row.open_alerts == 0
    assert row.trend.points == [] and row.trend.direction == "unknown"
    (outside,) = out.unregistered
    assert (outside.name, outside.versions, outside.aliases) == (
        "fraud-detector",
        1,
        {"champion": 1},
    )
    assert out.owners == ["Head of Retail Credit", "ml-platform"]


def test_filters_by_tier_owner_and_status(client: mw.Client, governed: Any) -> None:
    assert [s.name for s in portfolio(client, risk_tier="high").systems] == [SYSTEM]
    assert portfolio(client, risk_tier="low").systems == []
    assert [s.name for s in portfolio(client, owner="ml-platform").systems] == [SYSTEM]
    assert portfolio(client, owner="someone else").systems == []
    assert portfolio(client, status="retired").systems == []
    with pytest.raises(mw.InvalidInput) as refused:
        portfolio(client, risk_tier="extreme")
    assert refused.value.field == "risk_tier"


def test_an_approved_promotion_completes_the_evidence(
    client: mw.Client, governed: Any, kit: Any, as_user: Callable[[str, str], mw.Client]
) -> None:
    kit.add_evidence(client, governed.candidate)
    opened = client.request_promotion(governed.candidate, "champion", comment="better")
    (pending,) = portfolio(client).systems[0].pending
    assert (pending.id, pending.model, pending.version) == (opened.id, MODEL, 2)
    assert (pending.target_alias, pending.approvals) == ("champion", 0)

    as_user("alice", "approver").approve(opened.id, "evidence reviewed")
    assert portfolio(client).systems[0].pending[0].approvals == 1
    as_user("bob", "approver").approve(opened.id, "card reviewed")
    client.set_alias(MODEL, "champion", 2)

    (row,) = portfolio(client).systems
    assert row.pending == []
    (production,) = row.production
    assert production.version == 2
    assert (production.complete, production.total) == (5, 5), production.evidence
    details = {i.name: i.detail for i in production.evidence}
    assert details["approval"] == f"promotion request {opened.id} completed"
    assert details["policy check"].startswith("passed ")
