"""The AI register through the SDK, on every transport and database."""

from __future__ import annotations

import csv
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.orm import Session

import modelward as mw
from modelward.store import Store

CREDIT = {
    "risk_tier": "high",
    "tier_rationale": "Decides on consumer credit applications.",
    "purpose": "Score loan applications for default risk",
    "business_owner": "lending-ops",
    "technical_owner": "risk-ml",
    "decision_type": "automated",
    "human_in_the_loop": True,
    "affected_people": "Loan applicants",
    "regulatory_tags": ["EU-AI-Act:Annex-III", "SR-11-7"],
    "limitations": "Not validated for business loans",
}


# A policy already in the store keeps the shipped defaults out (the first AI system installs
# them only into a store without policies): these tests are about the register, and move
# ``champion`` freely; the gate has its own tests.
REGISTER_ONLY_POLICY = """
name: register-tests
applies_to: {risk_tiers: [critical], aliases: [never-used]}
rules:
  - name: nothing
    expr: "true"
    message: never evaluated
"""


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    path = tmp_path / "model.txt"
    path.write_text("weights", encoding="utf-8")
    return path


@pytest.fixture
def registered(client: mw.Client, artifact: Path) -> mw.Client:
    """credit-scorer v1, v2; fraud-detector v1; dataset credit-train/1."""
    client.create_model_version("credit-scorer", artifact)
    client.create_model_version("credit-scorer", artifact)
    client.create_model_version("fraud-detector", artifact)
    client.apply_policy(REGISTER_ONLY_POLICY)
    client.register_dataset("credit-train", pd.DataFrame({"amount": [1.0, 2.0], "bad": [0, 1]}))
    return client


def _snapshot(client: mw.Client) -> list[dict[str, object]]:
    return [s.model_dump(mode="json") for s in client.list_systems()]


def test_create_get_and_filter_systems(registered: mw.Client) -> None:
    client = registered
    made = client.create_system(
        "credit-decisions", **CREDIT, models=["credit-scorer"], datasets=["credit-train/1"]
    )
    assert (made.name, made.risk_tier, made.status, made.production_alias) == (
        "credit-decisions",
        "high",
        "proposed",
        "champion",
    )
    assert [(m.name, m.production_version) for m in made.models] == [("credit-scorer", None)]
    assert [d.ref for d in made.datasets] == ["credit-train/1"]
    assert made.regulatory_tags == ["EU-AI-Act:Annex-III", "SR-11-7"]
    assert made.created_by == "test-admin"
    assert client.get_system("credit-decisions") == made

    client.create_system(
        "fraud-screening",
        risk_tier="medium",
        business_owner="payments",
        technical_owner="risk-ml",
        status="in_production",
        regulatory_tags=["GDPR:Art-22"],
        models=["fraud-detector"],
    )
    client.create_system("chat-helpdesk", risk_tier="low", business_owner="support")

    def names(**filters: str) -> list[str]:
        return [s.name for s in client.list_systems(**filters)]

    assert names() == ["chat-helpdesk", "credit-decisions", "fraud-screening"]
    assert names(risk_tier="high") == ["credit-decisions"]
    assert names(status="in_production") == ["fraud-screening"]
    assert names(owner="risk-ml") == ["credit-decisions", "fraud-screening"]
    assert names(owner="support") == ["chat-helpdesk"]
    assert names(regulatory_tag="SR-11-7") == ["credit-decisions"]
    assert names(model="fraud-detector") == ["fraud-screening"]
    assert names(risk_tier="medium", owner="lending-ops") == []
    with pytest.raises(mw.InvalidInput) as bad_tier:
        client.list_systems(risk_tier="extreme")
    assert bad_tier.value.field == "risk_tier"
    with pytest.raises(mw.NotFound) as unknown:
        client.get_system("no-such-system")
    assert unknown.value.field == "name"


def test_updates_attachments_and_data_sources(registered: mw.Client) -> None:
    client = registered
    client.create_system("credit-decisions", **CREDIT)
    updated = client.update_system(
        "credit-decisions", status="in_development", regulatory_tags=["EU-AI-Act:Annex-III"]
    )
    assert updated.status == "in_development"
    assert updated.regulatory_tags == ["EU-AI-Act:Annex-III"]
    assert updated.purpose == CREDIT["purpose"]  # left out: unchanged

    attached = client.attach_model("credit-decisions", "credit-scorer")
    assert [m.name for m in attached.models] == ["credit-scorer"]
    assert client.attach_model("credit-decisions", "credit-scorer") == attached  # idempotent
    client.create_system("fraud-screening", risk_tier="low", models=["fraud-detector"])
    with pytest.raises(mw.Conflict) as taken:
        client.attach_model("credit-decisions", "fraud-detector")
    assert "fraud-screening" in taken.value.message and taken.value.field == "model"
    with pytest.raises(mw.Conflict):
        client.create_system("other", risk_tier="low", models=["credit-scorer"])
    assert [s.name for s in client.list_systems()] == ["credit-decisions", "fraud-screening"]

    linked = client.link_dataset("credit-decisions", "credit-train/1")
    assert [d.ref for d in linked.datasets] == ["credit-train/1"]
    assert client.unlink_dataset("credit-decisions", "credit-train", 1).datasets == []
    with pytest.raises(mw.NotFound) as not_linked:
        client.unlink_dataset("credit-decisions", "credit-train/1")
    assert not_linked.value.field == "dataset"
    with pytest.raises(mw.NotFound) as no_version:
        client.link_dataset("credit-decisions", "credit-train/9")
    assert no_version.value.field == "dataset"

    assert client.detach_model("credit-decisions", "credit-scorer").models == []
    with pytest.raises(mw.NotFound) as not_attached:
        client.detach_model("credit-decisions", "credit-scorer")
    assert not_attached.value.field == "model"


def _add_evaluation(store: Store, client: mw.Client, ref: str, name: str, auc: float) -> None:
    from modelward.db.base import stored_now
    from modelward.evaluation.tables import Evaluation

    version = client.get_version(ref)
    dataset = client.get_dataset("credit-train/1")
    with Session(store.engine) as session, session.begin():
        session.add(
            Evaluation(
                id=f"{name}{auc}".replace(".", "")[:32],
                version_id=version.info.id,
                model_digest=version.digest,
                dataset_version_id=dataset.id,
                dataset_digest=dataset.content_hash,
                name=name,
                task="classification",
                config={},
                results={"metrics": {"roc_auc": auc, "accuracy": 0.8, "brier": 0.1}},
                code_version={},
                created_by="test-admin",
                created_at=stored_now(),
            )
        )


def test_show_has_production_versions_latest_evaluation_and_incidents(
    registered: mw.Client, store: Store
) -> None:
    client = registered
    client.create_system("credit-decisions", **CREDIT, models=["credit-scorer"])
    client.set_alias("credit-scorer", "champion", 2)
    _add_evaluation(store, client, "credit-scorer/2", "holdout", 0.71)
    time.sleep(0.01)
    _add_evaluation(store, client, "credit-scorer/2", "holdout", 0.74)
    _add_evaluation(store, client, "credit-scorer/1", "holdout", 0.99)  # not in production

    occurred = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    incident = client.report_incident(
        "credit-decisions",
        title="Scores drifted for young applicants",
        severity="high",
        occurred_at=occurred,
        description="Approval rate fell by 12 points",
    )
    assert (incident.status, incident.occurred_at, incident.reported_by) == (
        "open",
        occurred,
        "test-admin",
    )

    shown = client.get_system("credit-decisions")
    assert [(m.name, m.production_version) for m in shown.models] == [("credit-scorer", 2)]
    [summary] = shown.evaluations
    assert (summary.model, summary.version, summary.name, summary.dataset) == (
        "credit-scorer",
        2,
        "holdout",
        "credit-train/1",
    )
    assert summary.metrics == {"roc_auc": 0.74, "accuracy": 0.8}
    assert [i.title for i in shown.incidents] == ["Scores drifted for young applicants"]
    assert shown.open_incidents == 1

    resolved = client.resolve_incident("credit-decisions", incident.id)
    assert resolved.status == "resolved" and resolved.resolved_at is not None
    assert client.get_system("credit-decisions").open_incidents == 0
    with pytest.raises(mw.Conflict):
        client.resolve_incident("credit-decisions", incident.id)
    with pytest.raises(mw.NotFound) as missing:
        client.resolve_incident("credit-decisions", incident.id + 100)
    assert missing.value.field == "incident_id"
    with pytest.raises(mw.InvalidInput) as future:
        client.report_incident(
            "credit-decisions",
            title="later",
            severity="low",
            occurred_at=datetime.now(UTC) + timedelta(days=2),
        )
    assert future.value.field == "occurred_at"


def test_history_answers_what_was_in_production_at_an_instant(registered: mw.Client) -> None:
    client = registered
    client.create_system("credit-decisions", **CREDIT, models=["credit-scorer", "fraud-detector"])
    client.set_alias("credit-scorer", "champion", 1)
    time.sleep(0.05)
    client.set_alias("credit-scorer", "champion", 2)
    time.sleep(0.05)
    client.delete_alias("credit-scorer", "champion")
    client.set_alias("credit-scorer", "candidate", 1)  # not the production alias

    timeline = client.system_history("credit-decisions")
    assert [(i.model, i.alias, i.version) for i in timeline] == [
        ("credit-scorer", "champion", 1),
        ("credit-scorer", "champion", 2),
        ("credit-scorer", "champion", None),
    ]
    first, second, unset = timeline
    assert first.until == second.from_ and second.until == unset.from_ and unset.until is None
    assert first.moved_by == "test-admin"
    assert timeline[0].model_dump(mode="json")["from"] == first.from_.isoformat().replace(
        "+00:00", "Z"
    )

    between = first.from_ + (second.from_ - first.from_) / 2
    at_between = client.system_history("credit-decisions", at=between)
    assert [(i.model, i.version) for i in at_between] == [
        ("credit-scorer", 1),
        ("fraud-detector", None),
    ]
    assert client.system_history("credit-decisions", at=second.from_.isoformat())[0].version == 2
    before = client.system_history("credit-decisions", at="2001-01-01")[0]
    assert (before.version, before.from_, before.until) == (None, None, first.from_)
    assert client.system_history("credit-decisions", at=datetime.now(UTC))[0].version is None
    with pytest.raises(mw.InvalidInput) as bad:
        client.system_history("credit-decisions", at="last tuesday")
    assert bad.value.field == "at"


def test_export_writes_one_row_per_system(registered: mw.Client, tmp_path: Path) -> None:
    client = registered
    client.create_system(
        "credit-decisions", **CREDIT, models=["credit-scorer"], datasets=["credit-train/1"]
    )
    client.create_system("chat-helpdesk", risk_tier="low", purpose="Answers — in ünïcode")
    client.set_alias("credit-scorer", "champion", 2)

    assert client.export_register(tmp_path / "register.csv") == 2
    with open(tmp_path / "register.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["name"] for r in rows] == ["chat-helpdesk", "credit-decisions"]
    credit = rows[1]
    assert credit["regulatory_tags"] == "EU-AI-Act:Annex-III;SR-11-7"
    assert (credit["models"], credit["in_production"], credit["datasets"]) == (
        "credit-scorer",
        "credit-scorer/2",
        "credit-train/1",
    )
    assert (credit["risk_tier"], credit["human_in_the_loop"]) == ("high", "true")
    assert rows[0]["purpose"] == "Answers — in ünïcode"

    assert client.export_register(tmp_path / "register.json", format="json") == 2
    exported = json.loads((tmp_path / "register.json").read_text(encoding="utf-8"))
    assert exported[1]["regulatory_tags"] == ["EU-AI-Act:Annex-III", "SR-11-7"]
    assert exported[1]["in_production"] == ["credit-scorer/2"]
    assert exported[0]["open_incidents"] == 0
    with pytest.raises(mw.InvalidInput) as bad:
        client.export_register(tmp_path / "register.xml", format="xml")
    assert bad.value.field == "format"
    assert not (tmp_path / "register.xml").exists()


def test_every_change_is_audited_with_what_changed(registered: mw.Client) -> None:
    client = registered
    client.create_system("credit-decisions", **CREDIT, models=["credit-scorer"])
    client.update_system("credit-decisions", risk_tier="critical", purpose="Decide on loans")
    client.update_system("credit-decisions", purpose="Decide on loans")  # no change, no event
    client.attach_model("credit-decisions", "fraud-detector")
    client.detach_model("credit-decisions", "fraud-detector")
    client.link_dataset("credit-decisions", "credit-train/1")
    client.unlink_dataset("credit-decisions", "credit-train/1")
    incident = client.report_incident("credit-decisions", title="Outage", severity="medium")
    client.resolve_incident("credit-decisions", incident.id)

    events = client.list_audit_events(entity_type="ai_system")
    assert [e.action for e in events] == [
        "ai_system.create",
        "ai_system.update",
        "ai_system.attach_model",
        "ai_system.detach_model",
        "ai_system.link_dataset",
        "ai_system.unlink_dataset",
        "ai_system.incident_report",
        "ai_system.incident_resolve",
    ]
    assert {e.entity_id for e in events} == {"credit-decisions"}
    assert events[1].summary == {
        "risk_tier": {"from": "high", "to": "critical"},
        "purpose": {"from": CREDIT["purpose"], "to": "Decide on loans"},
    }
    assert events[2].summary == {"model": "fraud-detector"}
    assert events[4].summary == {"dataset": "credit-train/1"}
    assert events[6].summary["incident"] == incident.id
    assert all(e.actor == "test-admin" for e in events)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"risk_tier": "extreme"}, "risk_tier"),
        ({"risk_tier": "high"}, "tier_rationale"),
        ({"risk_tier": "critical", "tier_rationale": "   "}, "tier_rationale"),
        ({"risk_tier": "low", "regulatory_tags": ["EU AI Act"]}, "regulatory_tags.0"),
        ({"risk_tier": "low", "regulatory_tags": ["SR-11-7;GDPR"]}, "regulatory_tags.0"),
        ({"risk_tier": "low", "decision_type": "sometimes"}, "decision_type"),
        ({"risk_tier": "low", "status": "live"}, "status"),
        ({"risk_tier": "low", "production_alias": "latest"}, "production_alias"),
    ],
)
def test_bad_create_input_names_the_field_and_stores_nothing(
    registered: mw.Client, fields: dict[str, object], field: str
) -> None:
    with pytest.raises(mw.InvalidInput) as refused:
        registered.create_system("credit-decisions", **fields)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert registered.list_systems() == []


def test_bad_references_and_updates_leave_the_register_unchanged(registered: mw.Client) -> None:
    client = registered
    client.create_system("credit-decisions", **CREDIT)
    before = _snapshot(client)
    events = len(client.list_audit_events())

    with pytest.raises(mw.NotFound) as no_model:
        client.create_system("fraud", risk_tier="low", models=["credit-scorer", "missing-model"])
    assert no_model.value.field == "model"  # the valid first attachment was rolled back
    with pytest.raises(mw.NotFound) as no_data:
        client.create_system("fraud", risk_tier="low", datasets=["missing-data/1"])
    assert no_data.value.field == "datasets"
    with pytest.raises(mw.Conflict) as dup:
        client.create_system("credit-decisions", risk_tier="low")
    assert dup.value.field == "name"
    with pytest.raises(mw.InvalidInput) as cleared:
        client.update_system("credit-decisions", tier_rationale="")
    assert cleared.value.field == "tier_rationale"
    with pytest.raises(mw.InvalidInput) as unknown_field:
        client.update_system("credit-decisions", colour="blue")
    assert unknown_field.value.field == "colour"
    with pytest.raises(mw.InvalidInput) as bad_tag:
        client.update_system("credit-decisions", regulatory_tags=["::"])
    assert bad_tag.value.field == "regulatory_tags.0"
    with pytest.raises(mw.NotFound):
        client.update_system("no-such-system", status="retired")

    assert _snapshot(client) == before
    assert len(client.list_audit_events()) == events
