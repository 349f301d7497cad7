"""What goes into a compliance pack: the evidence about one version, the audit events that
recorded it, the chain between them and a signed checkpoint.

The server gathers the contents (``pack_contents``); the SDK writes the zip, so packs work the
same embedded and over HTTP. Each evidence file whose JSON is exactly the state an audit event
recorded is bound to that event; ``audit verify --pack`` then proves it offline.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import and_, or_, select

from modelward.audit.chain import state_digest
from modelward.audit.tables import EVENT_COLUMNS, AuditCheckpoint, AuditEvent
from modelward.errors import InvalidInput, NotFound
from modelward.evaluation.service import evaluation_public, explanation_public
from modelward.evaluation.tables import Evaluation, Explanation
from modelward.governance.approvals import promotion_public
from modelward.governance.card_service import card_public
from modelward.governance.evidence import latest_card
from modelward.governance.gate import decision_public, evaluate
from modelward.governance.pack_format import FILE_LIST
from modelward.governance.policies import policy_public
from modelward.governance.register import system_for_model, system_public
from modelward.governance.tables import GateDecision, Policy, PromotionRequest
from modelward.operations import operation
from modelward.registry.references import resolve_version
from modelward.registry.tables import ModelVersion
from modelward.registry.writing import stored_now
from modelward.uow import UnitOfWork


class PackContents(BaseModel):
    meta: dict[str, Any]
    files: dict[str, str] = Field(description="path in the pack -> UTF-8 text")
    events: list[dict[str, Any]]
    checkpoint: dict[str, Any] | None
    bindings: list[dict[str, Any]]


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


class _Gather:
    """Evidence files, and for each the audit entity whose event recorded exactly it."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.bound: dict[str, tuple[str, str, Any]] = {}  # file -> (entity_type, id, state)

    def add(self, path: str, value: Any, entity: tuple[str, str] | None = None) -> None:
        self.files[path] = value if isinstance(value, str) else _json(value)
        if entity is not None:
            self.bound[path] = (*entity, value)


def _evidence(uow: UnitOfWork, version: ModelVersion, g: _Gather) -> set[tuple[str, str]]:
    session, ref = uow.session, f"{version.model.name}/{version.version}"
    for ev in session.scalars(select(Evaluation).where(Evaluation.version_id == version.id)):
        g.add(
            f"evaluations/{ev.id}.json",
            evaluation_public(ev, uow).model_dump(mode="json"),
            ("evaluation", ev.id),
        )
    for ex in session.scalars(select(Explanation).where(Explanation.version_id == version.id)):
        g.add(
            f"explanations/{ex.id}.json",
            explanation_public(ex, uow).model_dump(mode="json"),
            ("explanation", ex.id),
        )
    decisions = list(
        session.scalars(select(GateDecision).where(GateDecision.version_id == version.id))
    )
    policy_keys: set[tuple[str, int]] = set()
    for d in decisions:
        g.add(
            f"gate/{d.id}.json",
            decision_public(d, version).model_dump(mode="json"),
            ("gate_decision", str(d.id)),
        )
        policy_keys |= set(d.policy_versions.items())
    requests = session.scalars(
        select(PromotionRequest).where(PromotionRequest.version_id == version.id)
    )
    for r in requests:
        g.add(
            f"promotions/{r.id}.json",
            promotion_public(session, r).model_dump(mode="json"),
            ("promotion_request", str(r.id)),
        )
        policy_keys |= set(r.policy_versions.items())
    for alias in {d.target_alias for d in decisions} | {"champion"}:
        report = evaluate(uow, version, alias)
        policy_keys |= set(report.policies.items())
        if report.governed:
            g.add(f"policy_check/{alias}.json", report.model_dump(mode="json"))
    for name, number in sorted(policy_keys):
        row = session.scalar(select(Policy).where(Policy.name == name, Policy.version == number))
        if row is not None:
            g.add(f"policies/{name}-v{number}.yaml", row.document)
            g.add(
                f"policies/{name}-v{number}.json",
                policy_public(row).model_dump(mode="json"),
                ("policy", f"{name}/{number}"),
            )
    card_row = latest_card(session, version.id)
    card = card_public(uow, version, card_row)
    if card_row is not None:
        state = {
            "model": card.model,
            "version": card.version,
            "card_version": card.card_version,
            "sections": card.sections,
        }
        g.add("card_sections.json", state, ("model_card", ref))
    from modelward.governance.cards import render_html, render_markdown

    g.add("card.json", card.card)
    g.add("card.md", render_markdown(card.card))
    g.add("card.html", render_html(card.card))
    g.add("completeness.json", card.completeness)
    g.add("lineage.json", card.card.get("lineage", {}))
    system = system_for_model(session, version.model_id)
    if system is not None:
        g.add("system.json", system_public(session, system).model_dump(mode="json"))
    entities = {(t, i) for t, i, _ in g.bound.values()}
    entities |= {("model", version.model.name), ("model_version", ref)}
    if system is not None:
        entities.add(("ai_system", system.name))
    return entities


def _event_dict(e: AuditEvent) -> dict[str, Any]:
    return {c: getattr(e, c) for c in EVENT_COLUMNS}


def _relevant(session: Any, entities: set[tuple[str, str]], model: str) -> list[AuditEvent]:
    pairs = [and_(AuditEvent.entity_type == t, AuditEvent.entity_id == i) for t, i in entities]
    aliases = and_(AuditEvent.entity_type == "model_alias", AuditEvent.entity_id.like(f"{model}@%"))
    return list(
        session.scalars(select(AuditEvent).where(or_(aliases, *pairs)).order_by(AuditEvent.seq))
    )


class PackEvidence(BaseModel):
    meta: dict[str, Any]
    files: dict[str, str] = Field(description="path in the pack -> UTF-8 text")


class PackRecord(BaseModel):
    files: dict[str, str] = Field(
        max_length=10_000, description="path in the pack -> SHA-256 of its bytes"
    )


class PackRecorded(BaseModel):
    seq: int
    state: dict[str, Any] = Field(description="exactly what the export event recorded")


@operation("GET", "/api/v1/model-versions/{ref:path}/pack/evidence")
def pack_evidence(uow: UnitOfWork, ref: str) -> PackEvidence:
    """Step 1 of an export: the evidence files of a compliance pack of ``ref``."""
    version = resolve_version(uow.session, ref)
    g = _Gather()
    _evidence(uow, version, g)
    meta = {
        "model": version.model.name,
        "version": version.version,
        "digest": version.digest,
        "created_at": stored_now().isoformat(),
        "created_by": uow.actor,
    }
    return PackEvidence(meta=meta, files=g.files)


@operation("POST", "/api/v1/model-versions/{ref:path}/pack/record", status_code=201)
def record_pack_export(uow: UnitOfWork, ref: str, body: PackRecord) -> PackRecorded:
    """Step 2: record the exported files' hashes as an audit event, under the next checkpoint."""
    from modelward.registry.writing import lock_writes

    lock_writes(uow)
    version = resolve_version(uow.session, ref)
    bad = [p for p, h in body.files.items() if len(h) != 64 or not _is_hex(h)]
    if bad:
        raise InvalidInput(f"files.{bad[0]}: expected a SHA-256 as 64 hex digits", field="files")
    state = {
        "model": version.model.name,
        "version": version.version,
        "digest": version.digest,
        "files": dict(sorted(body.files.items())),
    }
    event = uow.audit(
        "compliance_pack.export",
        "compliance_pack",
        f"{version.model.name}/{version.version}",
        state,
        {"ref": f"{version.model.name}/{version.version}", "files": len(body.files)},
    )
    return PackRecorded(seq=event.seq, state=state)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


@operation("GET", "/api/v1/model-versions/{ref:path}/pack/proof")
def pack_proof(
    uow: UnitOfWork, ref: str, export_seq: int, checkpoint_id: int | None = None
) -> PackContents:
    """Step 3: the audit events from the first concerning ``ref`` through a checkpoint, the
    checkpoint, and which event recorded each bound evidence file."""
    session = uow.session
    version = resolve_version(session, ref)
    g = _Gather()
    entities = _evidence(uow, version, g)
    entities.add(("compliance_pack", f"{version.model.name}/{version.version}"))
    relevant = [e for e in _relevant(session, entities, version.model.name) if e.seq <= export_seq]
    if not relevant or relevant[-1].seq != export_seq:
        raise NotFound(f"no pack export of {ref} at seq {export_seq}", field="export_seq")
    checkpoint = _checkpoint(session, checkpoint_id, export_seq)
    through = checkpoint.seq if checkpoint is not None else export_seq
    first = relevant[0].seq
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.seq >= first, AuditEvent.seq <= through)
        .order_by(AuditEvent.seq)
    )
    bindings = _bindings(g, relevant, through)
    bindings.append({"file": FILE_LIST, "seq": export_seq})
    cp = None
    if checkpoint is not None:
        cp = {
            "seq": checkpoint.seq,
            "head_hash": checkpoint.head_hash,
            "time_ms": checkpoint.time_ms,
            "actor": checkpoint.actor,
            "public_key": checkpoint.public_key,
            "signature": checkpoint.signature.hex(),
        }
    meta = {"relevant_seqs": [e.seq for e in relevant]}
    return PackContents(
        meta=meta, files={}, events=[_event_dict(e) for e in events], checkpoint=cp,
        bindings=sorted(bindings, key=lambda b: b["file"]),
    )  # fmt: skip


def _checkpoint(
    session: Any, checkpoint_id: int | None, last_relevant: int
) -> AuditCheckpoint | None:
    if checkpoint_id is not None:
        row = session.get(AuditCheckpoint, checkpoint_id)
        if row is None:
            raise NotFound(f"no audit checkpoint {checkpoint_id}", field="checkpoint_id")
        return row
    # The newest checkpoint covering every relevant event proves them all.
    return session.scalar(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.seq >= last_relevant)
        .order_by(AuditCheckpoint.seq.desc())
        .limit(1)
    )


def _bindings(g: _Gather, relevant: list[AuditEvent], through: int) -> list[dict[str, Any]]:
    """Bind each file to the newest event of its entity whose recorded state it is."""
    newest: dict[tuple[str, str], AuditEvent] = {}
    for e in relevant:
        if e.seq <= through:
            newest[(e.entity_type, e.entity_id)] = e
    out = []
    for path, (etype, eid, state) in sorted(g.bound.items()):
        event = newest.get((etype, eid))
        if event is not None and event.state_digest == state_digest(state):
            out.append({"file": path, "seq": event.seq})
    return out
