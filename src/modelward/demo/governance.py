"""The governance half of ``modelward demo``: a high-risk system, a refused promotion, the
evidence and sign-offs that make it pass, and a compliance pack verified offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import modelward as mw
from modelward.errors import Conflict, Forbidden, NotFound, PolicyDenied

SYSTEM = "credit-risk-scoring"
SENSITIVE = "personal_status_and_sex"
SLICE = "age_in_years"
APPROVERS = ("risk-officer-anna", "model-validator-ben")
KEY_FILE = "audit-signing-key.pem"
PACK_FILE = "credit-scorer-champion-pack.zip"

CARD = {
    "overview": "Scores the probability that a consumer loan goes bad, from the applicant's "
    "account history, loan terms and personal situation.",
    "intended_use": "Decision support for credit officers pricing consumer loans; a person "
    "makes every final credit decision.",
    "out_of_scope_uses": "Employment, housing or insurance decisions; applicants outside the "
    "consumer-credit population the data describes.",
    "users": "Credit officers and the retail-credit risk team.",
    "limitations": "Trained on 1,000 historical German applicants; the population, currency "
    "(DM) and lending practice differ from today's.",
    "ethical_considerations": [
        {
            "name": "Sex is encoded in personal status",
            "mitigation_strategy": "Demographic parity across personal status is measured on "
            "every evaluation; the gate refuses a ratio below 0.8.",
        }
    ],
    "tradeoffs": "A simpler, monotone model is preferred over a slightly more accurate one.",
    "caveats_and_recommendations": "Re-evaluate quarterly and after any change of policy.",
    "contact": "retail-credit-risk@example.com",
}


@dataclass
class GovernanceResult:
    system: Any
    refused: Any
    evaluation: Any
    explanation: Any
    card: Any
    self_approval: str
    one_approval: Any
    request: Any
    promoted: Any
    pack: dict[str, Any]
    pack_report: Any
    public_key: str


def register_system(client: mw.Client, model: str, datasets: list[str]) -> Any:
    """The credit model's AI-register entry, at high risk (creditworthiness of people)."""
    try:
        return client.get_system(SYSTEM)
    except NotFound:
        pass
    return client.create_system(
        SYSTEM,
        risk_tier="high",
        tier_rationale="Evaluates the creditworthiness of natural persons "
        "(EU AI Act Annex III, point 5(b)).",
        purpose="Price consumer loans by their probability of default.",
        business_owner="Head of Retail Credit",
        technical_owner="ML platform team",
        decision_type="advisory",
        human_in_the_loop=True,
        affected_people="Consumer-loan applicants",
        regulatory_tags=["EU-AI-Act:Annex-III", "SR-11-7", "GDPR:Art-22"],
        limitations="Historical German data; not validated on other populations.",
        status="in_production",
        models=[model],
        datasets=datasets,
    )


def try_promotion(client: mw.Client, model: str, version: int) -> Any:
    """Move champion onto ``version``: the gate's report when refused, None when it passed."""
    try:
        client.set_alias(model, "champion", version)
    except PolicyDenied as exc:
        return exc.details["gate"]
    return None


def acting_as(client: mw.Client, name: str) -> mw.Client:
    """A client for another person: in process for an embedded store, a token for a server."""
    from modelward.auth.roles import Principal, Role
    from modelward.client.transport import LocalTransport

    transport = client._transport
    if isinstance(transport, LocalTransport):
        return mw.Client.over(LocalTransport(transport.store, Principal(name, Role.approver)))
    token = client.create_token(name, role="approver").token
    return mw.Client(client.uri, token)


def self_approval(client: mw.Client, request_id: int) -> str:
    try:
        client.approve(request_id, "looks fine to me")
    except Forbidden as exc:
        return exc.message
    raise AssertionError("the version's creator was allowed to approve it")


def signing_key(home: Path) -> tuple[Path, str]:
    """The auditor's Ed25519 key for checkpoints: made once, kept beside the store."""
    from modelward.audit.checkpoint import (
        generate_private_key_pem,
        load_private_key,
        public_key_hex,
    )

    path = home / KEY_FILE
    if not path.exists():
        pem, _ = generate_private_key_pem()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pem)
        path.chmod(0o600)
    return path, public_key_hex(load_private_key(path))


def run_story(
    client: mw.Client, steps: Any, model: str, version: int, holdout: str, target: str
) -> GovernanceResult:
    """Each step of the governance story, through the public SDK, reported on ``steps``."""
    from modelward.config import home_dir

    ref = f"{model}/{version}"
    with steps.step("Registering the AI system") as note:
        system = register_system(client, model, [holdout])
        policies = [p.name for p in client.list_policies()]
        note(f"{system.name}: tier {system.risk_tier}; policies {', '.join(policies)}")
    with steps.step(f"Promoting {ref} to champion without evidence") as note:
        refused = try_promotion(client, model, version)
        failed = [r["rule"] for r in (refused or {}).get("results", []) if r["outcome"] != "pass"]
        note(f"refused by the gate: {len(failed)} rules fail" if refused else "passed")
    with steps.step(f"Evaluating {ref} against the champion on {holdout}") as note:
        evaluation = client.evaluate(
            ref,
            dataset=holdout,
            target=target,
            against="champion",
            sensitive=[SENSITIVE],
            slice_by=[SLICE],
            bootstrap=500,
        )
        note(_evaluation_note(evaluation))
    with steps.step(f"Explaining {ref}") as note:
        explanation = client.explain(ref, dataset=holdout, target=target, sample=250, n_repeats=3)
        note(f"{explanation.method}: top {', '.join(explanation.results['features'][:3])}")
    with steps.step("Writing the model card") as note:
        card = client.update_card(ref, CARD)
        note(f"card v{card.card_version}, completeness {card.completeness['score']:.0%}")
    with steps.step("Requesting promotion; the author tries to approve it") as note:
        request = client.request_promotion(ref, "champion", comment="best AUC of this round")
        denied = self_approval(client, request.id)
        note(f"request {request.id}; self-approval refused")
    with steps.step(f"{APPROVERS[0]} approves; one approval is not enough") as note:
        acting_as(client, APPROVERS[0]).approve(request.id, "evidence reviewed")
        one = try_promotion(client, model, version)
        note("still refused (two approvals needed)" if one else "passed")
    with steps.step(f"{APPROVERS[1]} approves; promoting to champion") as note:
        acting_as(client, APPROVERS[1]).approve(request.id, "validation report signed")
        if try_promotion(client, model, version) is not None:
            raise Conflict(f"{ref} still fails the gate after evidence and two approvals")
        note(f"{model}@champion → v{version}")
    with steps.step("Writing and verifying the compliance pack") as note:
        key, public_key = signing_key(home_dir())
        pack_path = home_dir() / PACK_FILE
        pack = client.export_pack(f"{model}@champion", pack_path, sign_with=key)
        report = mw.verify_pack(pack_path, public_key)
        note(f"{pack_path.name}: {'verified offline' if report.ok else 'FAILED'}")
    return GovernanceResult(
        system=system,
        refused=refused,
        evaluation=evaluation,
        explanation=explanation,
        card=card,
        self_approval=denied,
        one_approval=one,
        request=client.get_promotion(request.id),
        promoted=client.get_version(f"{model}@champion"),
        pack=pack,
        pack_report=report,
        public_key=public_key,
    )


def _evaluation_note(evaluation: Any) -> str:
    results = evaluation.results
    auc = results["metrics"].get("roc_auc", float("nan"))
    delta = (results.get("deltas") or {}).get("roc_auc")
    vs = (
        f", Δ {delta['delta']:+.3f} [{delta['ci_low']:+.3f}, {delta['ci_high']:+.3f}]"
        if delta
        else ""
    )
    ratio = (results.get("fairness") or {}).get(SENSITIVE, {}).get("demographic_parity_ratio")
    fair = f"; parity ratio {ratio:.2f} by {SENSITIVE}" if ratio is not None else ""
    return f"AUC {auc:.3f}{vs}{fair}"
