"""A high-risk credit model on its way to production, through the SDK over each transport
and store: refused, evidenced, approved by two others, promoted, and proven offline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import modelward as mw
from modelward.audit.checkpoint import generate_private_key_pem
from modelward.demo.scenario import MODEL
from modelward.errors import PolicyDenied

HIGH_RULES = {
    "model-card",
    "holdout-evaluation",
    "card-required-sections",
    "compared-with-champion",
    "no-regression",
    "approvals",
    "no-rejections",
    "fairness-evidence",
    "demographic-parity",
    "explainability",
}


def _refused(client: mw.Client, version: int) -> PolicyDenied:
    with pytest.raises(PolicyDenied) as refused:
        client.set_alias(MODEL, "champion", version)
    return refused.value


def _champion(client: mw.Client) -> int:
    return {a.alias: a.version for a in client.list_aliases(MODEL)}["champion"]


def _failed(denied: PolicyDenied) -> dict[str, str]:
    return {
        r["rule"]: r["outcome"] for r in denied.details["gate"]["results"] if r["outcome"] != "pass"
    }


def test_high_tier_model_needs_evidence_and_two_other_approvers(
    client: mw.Client,
    kit: Any,
    governed: Any,
    as_user: Callable[[str, str], mw.Client],
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    # No evidence yet: every rule but "no rejections" fails, and nothing moves.
    denied = _refused(client, 2)
    gate = denied.details["gate"]
    assert (gate["system"], gate["risk_tier"], gate["policies"]) == (
        "credit-risk",
        "high",
        {"default-high": 1},
    )
    assert {r["rule"] for r in gate["results"]} == HIGH_RULES
    assert set(_failed(denied)) == HIGH_RULES - {"no-rejections"}
    assert sorted(denied.details["failed"]) == sorted(_failed(denied))
    assert _failed(denied)["holdout-evaluation"] == "missing"
    assert _champion(client) == 1

    kit.add_evidence(client, governed.candidate)
    opened = client.request_promotion(governed.candidate, "champion", comment="C=0.1 is better")
    assert (opened.status, opened.policies) == ("open", {"default-high": 1})

    # Whoever registered the version may not approve it.
    with pytest.raises(mw.Forbidden) as own:
        client.approve(opened.id, "looks fine to me")
    assert "four eyes" in own.value.message and "cannot approve" in own.value.message
    if kit.is_http(client):
        server = request.getfixturevalue("live_server")
        token = request.getfixturevalue("admin_token")
        raw = httpx.post(
            f"{server.url}/api/v1/promotions/{opened.id}/approve",
            json={"comment": ""},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert raw.status_code == 403, raw.text
        assert "four eyes" in raw.json()["error"]["message"]

    alice, bob = as_user("alice", "approver"), as_user("bob", "approver")
    alice.approve(opened.id, "fairness and regression evidence reviewed")
    once = _refused(client, 2)
    assert _failed(once) == {"approvals": "fail"}
    approvals = next(r for r in once.details["gate"]["results"] if r["rule"] == "approvals")
    assert approvals["values"] == {"approvals.count": 1}
    assert _champion(client) == 1

    bob.approve(opened.id, "model card reviewed")
    report = client.check_policy(governed.candidate, "champion")
    assert report.passed, [(r.rule, r.outcome, r.detail) for r in report.results]
    moved = client.set_alias(MODEL, "champion", 2)
    assert (moved.alias, moved.version) == ("champion", 2)
    done = client.get_promotion(opened.id)
    assert done.status == "completed"
    assert [(a.approver, a.decision) for a in done.approvals] == [
        ("alice", "approve"),
        ("bob", "approve"),
    ]
    last_gate = client.list_audit_events(action="gate.*", newest_first=True, limit=1)[0]
    assert last_gate.action == "gate.pass"

    # The compliance pack proves all of it offline, and catches an edited approval.
    pem, public_key = generate_private_key_pem()
    key = tmp_path / "signing.pem"
    key.write_bytes(pem)
    pack = tmp_path / "credit-scorer-2.zip"
    summary = client.export_pack(f"{MODEL}@champion", pack, sign_with=key)
    verified = mw.verify_pack(pack, public_key)
    assert verified.ok, verified.checks
    # The signature is fresh: it covers the promotion's own gate decision.
    assert verified.last_seq == summary["checkpoint_seq"] >= last_gate.seq
    assert verified.first_seq is not None and verified.first_seq <= last_gate.seq

    approved_by_alice = client.list_audit_events(action="promotion.approve", actor="alice")
    seq = approved_by_alice[0].seq
    forged = tmp_path / "forged.zip"
    kit.tamper_event(pack, forged, seq, actor="mallory")
    report_forged = mw.verify_pack(forged, public_key)
    checks = {c.name: c for c in report_forged.checks}
    assert not report_forged.ok
    assert checks["manifest"].ok, checks["manifest"].detail
    assert not checks["chain"].ok
    assert checks["chain"].detail.startswith(f"seq {seq}:"), checks["chain"].detail
