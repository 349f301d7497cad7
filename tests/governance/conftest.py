"""A governed credit model, set up the way a team would: data, two versions, a high-tier system.

Training happens once per session; every test registers its own versions in its own store.
Test modules reach the helpers through the ``kit`` fixture: conftest modules share one module
name, so importing from them is unreliable.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import modelward as mw
from modelward.auth.roles import Principal, Role
from modelward.client.transport import HttpTransport, LocalTransport
from modelward.demo import scenario as sc
from modelward.store import Store
from support import token_for

MODEL = sc.MODEL
TARGET = sc.TARGET
SYSTEM = "credit-risk"
SENSITIVE = "personal_status_and_sex"
# Enough resamples for a stable interval on 250 rows, few enough to keep the tests quick.
BOOTSTRAP = 200

CARD_SECTIONS = {
    "overview": "Scores consumer credit applicants by their probability of default.",
    "intended_use": "Support credit officers when pricing consumer loans.",
    "users": "Credit officers of the retail bank.",
    "limitations": "Trained on German applicants from the 1970s; not recalibrated since.",
    "ethical_considerations": "Sex is inferred from personal status; monitored for parity.",
    "out_of_scope_uses": "Employment, insurance or tenancy decisions.",
}


@dataclass(frozen=True)
class CreditModels:
    """The German credit split and two fitted logistic regressions (C=1.0 and C=0.1)."""

    train: pd.DataFrame
    holdout: pd.DataFrame
    champion: Any
    candidate: Any
    signature: Any


@dataclass(frozen=True)
class Governed:
    """What ``register_credit`` created in a store."""

    champion: str  # credit-scorer/1, at @champion
    candidate: str  # credit-scorer/2, not yet promoted
    train: str
    holdout: str


@pytest.fixture(scope="session")
def credit_models() -> CreditModels:
    train, holdout = sc.split(sc.load_credit_data())
    x, y = sc.features(train), train[TARGET]
    c1, c01 = sc.CANDIDATES[0], sc.CANDIDATES[2]
    assert (c1.family, c01.family) == ("logistic_regression", "logistic_regression")
    return CreditModels(
        train=train,
        holdout=holdout,
        champion=sc.build_model(c1, x).fit(x, y),
        candidate=sc.build_model(c01, x).fit(x, y),
        signature=mw.infer_signature(x),
    )


def _train_run(client: mw.Client, model: Any, train: Any, signature: Any) -> Any:
    """A tracked run on the training data, so the card knows what the model learnt from."""
    with client.start_run(sc.EXPERIMENT) as run:
        run.log_input(train, role="training")
        return run.log_model(model, MODEL, signature=signature)


def register_credit(client: mw.Client, models: CreditModels) -> Governed:
    """Datasets, v1 serving as champion, v2 the candidate, and the high-tier system that
    brings the default policies (so from here on @champion is guarded)."""
    train = client.register_dataset(sc.TRAIN_DATASET, models.train)
    holdout = client.register_dataset(sc.HOLDOUT_DATASET, models.holdout)
    v1, v2 = (
        _train_run(client, model, train, models.signature)
        for model in (models.champion, models.candidate)
    )
    client.set_alias(MODEL, "champion", v1.version)
    client.create_system(
        SYSTEM,
        risk_tier="high",
        tier_rationale="Creditworthiness of natural persons (EU AI Act Annex III 5(b))",
        purpose="Price consumer credit",
        business_owner="Head of Retail Credit",
        technical_owner="ml-platform",
        regulatory_tags=["EU-AI-Act:Annex-III"],
        models=[MODEL],
    )
    return Governed(
        champion=f"{MODEL}/{v1.version}",
        candidate=f"{MODEL}/{v2.version}",
        train=train.ref,
        holdout=holdout.ref,
    )


def add_evidence(client: mw.Client, ref: str) -> None:
    """Everything default-high asks of a candidate except the approvals."""
    client.evaluate(
        ref,
        dataset=sc.HOLDOUT_DATASET,
        target=TARGET,
        against="champion",
        sensitive=[SENSITIVE],
        bootstrap=BOOTSTRAP,
    )
    client.explain(ref, dataset=sc.HOLDOUT_DATASET, target=TARGET, n_repeats=2, sample=250)
    client.update_card(ref, CARD_SECTIONS)


def is_http(client: mw.Client) -> bool:
    return isinstance(client._transport, HttpTransport)


@pytest.fixture
def as_user(
    client: mw.Client, store: Store, request: pytest.FixtureRequest
) -> Iterator[Callable[[str, str], mw.Client]]:
    """Another principal on the same transport as ``client``: ``as_user("alice", "approver")``."""
    opened: list[mw.Client] = []

    def make(name: str, role: str) -> mw.Client:
        if not is_http(client):
            # Not closed afterwards: closing a local client closes the shared store.
            return mw.Client.over(LocalTransport(store, Principal(name, Role[role])))
        server = request.getfixturevalue("live_server")
        opened.append(mw.Client.over(HttpTransport(server.url, token_for(store, role, name))))
        return opened[-1]

    yield make
    for other in opened:
        other.close()


def stored_state(client: mw.Client) -> dict[str, Any]:
    """What a refused request must leave exactly as it was."""
    return {
        "policies": [(p.name, p.version, p.digest) for p in client.list_policies()],
        "promotions": [
            (p.id, p.status, [(a.approver, a.decision) for a in p.approvals])
            for p in client.list_promotions()
        ],
        "aliases": [(a.alias, a.version) for a in client.list_aliases(MODEL)],
        "audit_head": client.get_audit_head().seq,
    }


def tamper_event(pack: Path, out: Path, seq: int, **changes: Any) -> None:
    """Copy ``pack`` to ``out`` with event ``seq`` rewritten and the manifest re-hashed, as
    someone covering their tracks would: only the hash chain can still tell."""
    with zipfile.ZipFile(pack) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    lines = members["audit/events.jsonl"].decode().splitlines(keepends=True)
    for i, line in enumerate(lines):
        event = json.loads(line)
        if event["seq"] == seq:
            lines[i] = json.dumps({**event, **changes}, separators=(",", ":")) + "\n"
            break
    else:
        raise AssertionError(f"seq {seq} is not in the pack")
    members["audit/events.jsonl"] = "".join(lines).encode()
    manifest = json.loads(members["manifest.json"])
    manifest["files"]["audit/events.jsonl"] = hashlib.sha256(
        members["audit/events.jsonl"]
    ).hexdigest()
    members["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


class GovernanceKit:
    """The shared setup and checks, bound to the session's trained models."""

    model = MODEL
    target = TARGET
    system = SYSTEM
    sensitive = SENSITIVE
    card_sections = CARD_SECTIONS

    def __init__(self, models: CreditModels) -> None:
        self.models = models

    def register(self, client: mw.Client) -> Governed:
        return register_credit(client, self.models)

    add_evidence = staticmethod(add_evidence)
    state = staticmethod(stored_state)
    tamper_event = staticmethod(tamper_event)
    is_http = staticmethod(is_http)


@pytest.fixture
def kit(credit_models: CreditModels) -> GovernanceKit:
    return GovernanceKit(credit_models)


@pytest.fixture
def governed(client: mw.Client, kit: GovernanceKit) -> Governed:
    return kit.register(client)
