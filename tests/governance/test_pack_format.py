"""The compliance pack: written atomically, and every kind of tampering caught offline."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from modelward.audit.chain import GENESIS, canonical_json, event_hash, state_digest
from modelward.audit.checkpoint import generate_private_key_pem, sign
from modelward.auth.roles import Principal, Role
from modelward.client import Client
from modelward.client.transport import LocalTransport
from modelward.config import StoreLocation
from modelward.errors import InvalidInput
from modelward.governance.pack_format import FORMAT, PackReport, verify_pack, write_pack
from modelward.store import Store

EVALUATION = {"id": "ab12", "name": "holdout", "metrics": {"roc_auc": 0.81}, "rows": 200}
CARD = {"model": "credit", "version": 3, "sections": {"overview": "Scores applicants."}}


def _key() -> tuple[Any, str]:
    from cryptography.hazmat.primitives import serialization

    pem, public = generate_private_key_pem()
    return serialization.load_pem_private_key(pem, password=None), public


def chain(start: int, states: list[tuple[str, str, Any]], prev: str) -> list[dict[str, Any]]:
    """Events ``start..`` chained onto ``prev``: (action, entity_id, state) each."""
    events = []
    for offset, (action, entity, state) in enumerate(states):
        seq = start + offset
        summary = canonical_json({"note": f"event {seq}"})
        digest = state_digest(state)
        fields = [seq, 1_700_000_000_000 + seq, "ana", action, "model", entity, digest, summary]
        h = event_hash(prev, *fields)  # type: ignore[arg-type]
        events.append(
            {
                "seq": seq,
                "time_ms": fields[1],
                "actor": "ana",
                "action": action,
                "entity_type": "model",
                "entity_id": entity,
                "state_digest": digest,
                "summary": summary,
                "prev_hash": prev,
                "hash": h,
            }
        )
        prev = h
    return events


def evidence_files() -> dict[str, bytes]:
    return {
        "card.md": b"# Model card: credit version 3\n",
        "card.json": json.dumps(CARD).encode(),
        "evaluations/ab12.json": json.dumps(EVALUATION, indent=2).encode(),
    }


def file_list() -> dict[str, Any]:
    """What the export event records: every evidence file's SHA-256."""
    hashes = {n: hashlib.sha256(d).hexdigest() for n, d in evidence_files().items()}
    return {"model": "credit", "version": 3, "files": hashes}


STATES = [
    ("model.version.create", "credit/3", {"model": "credit", "version": 3}),
    ("experiment.create", "other", {"name": "unrelated"}),  # another entity inside the range
    ("evaluation.create", "ab12", EVALUATION),
    ("card.update", "credit/3", CARD),
    ("compliance_pack.export", "credit/3", file_list()),
]


def checkpoint_for(events: list[dict[str, Any]], key: Any, public: str) -> dict[str, Any]:
    last = events[-1]
    return {
        "seq": last["seq"],
        "head_hash": last["hash"],
        "time_ms": last["time_ms"] + 1,
        "actor": "auditor",
        "public_key": public,
        "signature": sign(key, last["seq"], last["hash"]),
    }


def files() -> dict[str, bytes]:
    return {**evidence_files(), "pack_files.json": json.dumps(file_list()).encode()}


BINDINGS = [
    {"file": "evaluations/ab12.json", "seq": 12},
    {"file": "card.json", "seq": 13},
    {"file": "pack_files.json", "seq": 14},
]
META = {
    "model": "credit",
    "version": 3,
    "digest": "ab" * 32,
    "created_at": "2024-05-03T00:00:00+00:00",
    "created_by": "auditor",
}


@pytest.fixture
def signer() -> tuple[Any, str]:
    return _key()


@pytest.fixture
def pack(tmp_path: Path, signer: tuple[Any, str]) -> Path:
    """A pack over events 10..14, which continue a trail that began before them."""
    key, public = signer
    events = chain(10, STATES, prev="f0" * 32)
    path = tmp_path / "credit-v3.zip"
    write_pack(
        path,
        meta=META,
        files=files(),
        events=events,
        checkpoint=checkpoint_for(events, key, public),
        bindings=BINDINGS,
    )
    return path


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def rewrite(path: Path, changes: dict[str, bytes | None], rehash: bool = True) -> None:
    """Replace (or with None delete) members, optionally re-hashing the manifest as a forger
    would, so the check under test is not merely the manifest."""
    content = members(path)
    for name, data in changes.items():
        if data is None:
            content.pop(name, None)
        else:
            content[name] = data
    if rehash:
        manifest = json.loads(content["manifest.json"])
        manifest["files"] = {
            n: hashlib.sha256(d).hexdigest() for n, d in content.items() if n != "manifest.json"
        }
        content["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in content.items():
            zf.writestr(name, data)


def events_of(path: Path) -> list[dict[str, Any]]:
    lines = members(path)["audit/events.jsonl"].decode().splitlines()
    return [json.loads(line) for line in lines]


def jsonl(events: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(e) + "\n" for e in events).encode()


def check(report: PackReport, name: str) -> tuple[bool, str]:
    [found] = [c for c in report.checks if c.name == name]
    return found.ok, found.detail


def failed(report: PackReport) -> list[str]:
    return [c.name for c in report.checks if not c.ok]


def test_a_good_pack_verifies_under_the_auditors_key(pack: Path, signer: tuple[Any, str]) -> None:
    report = verify_pack(pack, public_key=signer[1])
    assert report.ok, report.checks
    assert [c.name for c in report.checks] == [
        "manifest",
        "chain",
        "checkpoint",
        "bindings",
        "files",
    ]
    assert (report.first_seq, report.last_seq, report.key_source) == (10, 14, "given")
    assert check(report, "files") == (True, "3 files are the ones recorded at export")
    manifest = json.loads(members(pack)["manifest.json"])
    assert manifest["format"] == FORMAT and manifest["model"] == "credit"
    assert set(manifest["files"]) == set(members(pack)) - {"manifest.json"}


def test_without_a_key_the_packs_own_key_is_used_and_said_to_be_weaker(pack: Path) -> None:
    report = verify_pack(pack)
    assert report.ok and report.key_source == "pack"
    assert "independently" in check(report, "checkpoint")[1]


def test_an_edited_event_summary_fails_the_chain_at_its_seq(pack: Path) -> None:
    events = events_of(pack)
    events[1]["summary"] = canonical_json({"note": "nothing happened"})
    rewrite(pack, {"audit/events.jsonl": jsonl(events)})
    report = verify_pack(pack)
    assert failed(report) == ["chain"]
    assert check(report, "chain")[1].startswith("seq 11:")


def test_a_deleted_event_fails_the_chain_naming_the_gap(pack: Path) -> None:
    events = events_of(pack)
    del events[1]
    rewrite(pack, {"audit/events.jsonl": jsonl(events)})
    ok, detail = check(verify_pack(pack), "chain")
    assert not ok and "seq 11 missing" in detail


def test_dropping_the_last_events_fails_the_checkpoint(pack: Path) -> None:
    events = events_of(pack)[:-1]
    rewrite(pack, {"audit/events.jsonl": jsonl(events)})
    report = verify_pack(pack)
    assert "checkpoint" in failed(report)
    assert "seq 13" in check(report, "checkpoint")[1]


def test_a_rewritten_and_rehashed_chain_no_longer_reaches_the_signed_head(pack: Path) -> None:
    events = events_of(pack)
    events[0]["actor"] = "mallory"
    prev = events[0]["prev_hash"]
    for e in events:
        fields = [e[k] for k in ("seq", "time_ms", "actor", "action", "entity_type")]
        fields += [e[k] for k in ("entity_id", "state_digest", "summary")]
        e["prev_hash"], e["hash"] = prev, event_hash(prev, *fields)
        prev = e["hash"]
    rewrite(pack, {"audit/events.jsonl": jsonl(events)})
    report = verify_pack(pack)
    assert failed(report) == ["checkpoint"]
    assert "head_hash" in check(report, "checkpoint")[1]


def test_an_edited_evidence_file_fails_the_manifest_then_its_binding(pack: Path) -> None:
    forged = json.dumps({**EVALUATION, "metrics": {"roc_auc": 0.95}}).encode()
    rewrite(pack, {"evaluations/ab12.json": forged}, rehash=False)
    report = verify_pack(pack)
    assert failed(report) == ["manifest", "bindings", "files"]
    assert "evaluations/ab12.json" in check(report, "manifest")[1]

    rewrite(pack, {}, rehash=True)
    report = verify_pack(pack)
    assert failed(report) == ["bindings", "files"]
    ok, detail = check(report, "bindings")
    assert "evaluations/ab12.json" in detail and "event 12" in detail
    assert "evaluations/ab12.json" in check(report, "files")[1]


def test_reformatting_an_evidence_file_keeps_its_binding_but_not_its_exported_bytes(
    pack: Path,
) -> None:
    # A binding is over the JSON value, not its bytes: whitespace and key order do not matter.
    # The file list recorded at export is over the bytes, so the reformatted file is still
    # not the one that was exported.
    value = dict(reversed(list(EVALUATION.items())))
    rewrite(pack, {"evaluations/ab12.json": json.dumps(value, indent=4).encode()})
    report = verify_pack(pack)
    assert check(report, "bindings")[0]
    assert failed(report) == ["files"]
    assert "evaluations/ab12.json differs" in check(report, "files")[1]


def test_an_edited_derived_file_fails_the_exported_file_list(pack: Path) -> None:
    # card.md is rendered, not recorded by an event of its own: only the export event's file
    # list, under the signed checkpoint, holds it to what was exported.
    forged = b"# Model card: credit version 3\nNo known limitations.\n"
    rewrite(pack, {"card.md": forged})
    report = verify_pack(pack)
    assert failed(report) == ["files"]
    assert check(report, "files")[1].startswith("card.md differs")

    # Re-listing the forged hash breaks the file list's binding to the export event instead.
    listed = file_list()
    listed["files"]["card.md"] = hashlib.sha256(forged).hexdigest()
    rewrite(pack, {"pack_files.json": json.dumps(listed).encode()})
    report = verify_pack(pack)
    assert failed(report) == ["bindings"]
    ok, detail = check(report, "bindings")
    assert "pack_files.json" in detail and "event 14" in detail


def test_an_added_file_in_a_rehashed_manifest_fails_the_file_list(pack: Path) -> None:
    rewrite(pack, {"evaluations/zz99.json": json.dumps(EVALUATION).encode()})
    report = verify_pack(pack)
    assert failed(report) == ["files"]
    detail = check(report, "files")[1]
    assert "evaluations/zz99.json" in detail and "not in the exported file list" in detail


def test_a_missing_evidence_file_fails_the_file_list(pack: Path) -> None:
    rewrite(pack, {"card.md": None})
    report = verify_pack(pack)
    assert failed(report) == ["files"]
    assert "card.md" in check(report, "files")[1] and "missing" in check(report, "files")[1]


def test_an_unbound_file_list_fails(tmp_path: Path, pack: Path, signer: tuple[Any, str]) -> None:
    events = chain(10, STATES, prev="f0" * 32)
    path = tmp_path / "unbound.zip"
    unbound = [b for b in BINDINGS if b["file"] != "pack_files.json"]
    cp = checkpoint_for(events, *signer)
    write_pack(path, meta=META, files=files(), events=events, checkpoint=cp, bindings=unbound)
    report = verify_pack(path, public_key=signer[1])
    assert failed(report) == ["files"]
    assert (
        check(report, "files")[1]
        == "pack_files.json is not bound to a compliance_pack.export event"
    )

    # Nor can a forger drop the binding from a good pack and re-hash the manifest.
    rewrite(pack, {"audit/bindings.json": json.dumps(unbound).encode()})
    report = verify_pack(pack, public_key=signer[1])
    assert failed(report) == ["files"]
    assert "not bound" in check(report, "files")[1]


def test_an_added_file_is_caught_by_the_manifest(pack: Path) -> None:
    rewrite(pack, {"extra.txt": b"hello"}, rehash=False)
    ok, detail = check(verify_pack(pack), "manifest")
    assert not ok and "extra.txt" in detail


def test_a_forged_signature_fails(pack: Path, signer: tuple[Any, str]) -> None:
    cp = json.loads(members(pack)["audit/checkpoint.json"])
    cp["signature"] = ("00" if cp["signature"][:2] != "00" else "11") + cp["signature"][2:]
    rewrite(pack, {"audit/checkpoint.json": json.dumps(cp).encode()})
    for key in (None, signer[1]):
        report = verify_pack(pack, public_key=key)
        assert failed(report) == ["checkpoint"]
        assert "not valid" in check(report, "checkpoint")[1]


def test_a_resigned_pack_passes_its_own_key_but_not_the_auditors(
    pack: Path, signer: tuple[Any, str]
) -> None:
    # Whoever rewrites the pack can sign with a key of their own and ship its public half;
    # only a key held apart from the pack catches that.
    events = events_of(pack)
    mallory, mallory_public = _key()
    cp = checkpoint_for(events, mallory, mallory_public)
    rewrite(pack, {"audit/checkpoint.json": json.dumps(cp).encode()})
    assert verify_pack(pack).ok
    report = verify_pack(pack, public_key=signer[1])
    assert failed(report) == ["checkpoint"]
    assert "given public key" in check(report, "checkpoint")[1]


def test_a_wrong_public_key_fails(pack: Path) -> None:
    _, other = _key()
    report = verify_pack(pack, public_key=other)
    assert not report.ok and failed(report) == ["checkpoint"]


def test_a_pack_without_checkpoint_is_not_verified(tmp_path: Path) -> None:
    events = chain(1, STATES, prev=GENESIS)
    path = tmp_path / "p.zip"
    bindings = [{"file": "evaluations/ab12.json", "seq": 3}, {"file": "pack_files.json", "seq": 5}]
    write_pack(path, meta=META, files=files(), events=events, checkpoint=None, bindings=bindings)
    report = verify_pack(path)
    assert failed(report) == ["checkpoint"]
    assert check(report, "checkpoint")[1] == "no signed checkpoint"
    assert "audit/checkpoint.json" not in members(path)


def test_a_trail_from_seq_1_must_start_at_genesis(tmp_path: Path, signer: tuple[Any, str]) -> None:
    events = chain(1, STATES, prev="ff" * 32)
    path = tmp_path / "p.zip"
    cp = checkpoint_for(events, *signer)
    write_pack(path, meta=META, files={}, events=events, checkpoint=cp, bindings=[])
    ok, detail = check(verify_pack(path), "chain")
    assert not ok and "genesis" in detail


def test_a_damaged_pack_gives_a_report_not_an_exception(tmp_path: Path) -> None:
    path = tmp_path / "junk.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("audit/events.jsonl", b"not json\n")
        zf.writestr("audit/bindings.json", b"{")
    report = verify_pack(path)
    assert not report.ok
    assert failed(report) == ["manifest", "chain", "checkpoint", "bindings", "files"]
    assert "manifest.json is missing" in check(report, "manifest")[1]
    assert "line 1" in check(report, "chain")[1]
    assert "pack_files.json is missing" in check(report, "files")[1]


def test_unreadable_inputs_are_invalid_input(tmp_path: Path, pack: Path) -> None:
    with pytest.raises(InvalidInput) as err:
        verify_pack(tmp_path / "absent.zip")
    assert err.value.field == "path"
    (tmp_path / "plain.txt").write_text("not a zip")
    with pytest.raises(InvalidInput) as err:
        verify_pack(tmp_path / "plain.txt")
    assert err.value.field == "path"
    with pytest.raises(InvalidInput) as err:
        verify_pack(pack, public_key="not-a-key")
    assert err.value.field == "public_key"


def test_writing_is_deterministic_and_leaves_no_temporary_files(
    tmp_path: Path, signer: tuple[Any, str]
) -> None:
    events = chain(10, STATES, prev="f0" * 32)
    cp = checkpoint_for(events, *signer)
    a, b = tmp_path / "a" / "pack.zip", tmp_path / "b" / "pack.zip"
    for path in (a, b):
        write_pack(path, meta=META, files=files(), events=events, checkpoint=cp, bindings=BINDINGS)
    assert a.read_bytes() == b.read_bytes()
    assert sorted(p.name for p in a.parent.iterdir()) == ["pack.zip"]


@pytest.mark.parametrize(
    ("name", "bindings", "field"),
    [
        ("../escape.json", [], "files"),
        ("/abs.json", [], "files"),
        ("manifest.json", [], "files"),
        ("audit/events.jsonl", [], "files"),
        ("ok.json", [{"file": "missing.json", "seq": 10}], "bindings"),
        ("ok.json", [{"file": "ok.json", "seq": 99}], "bindings"),
    ],
)
def test_write_refuses_bad_paths_and_dangling_bindings(
    tmp_path: Path, name: str, bindings: list[dict[str, Any]], field: str
) -> None:
    path = tmp_path / "p.zip"
    events = chain(10, STATES, prev="f0" * 32)
    with pytest.raises(InvalidInput) as err:
        write_pack(
            path, meta=META, files={name: b"{}"}, events=events, checkpoint=None, bindings=bindings
        )
    assert err.value.field == field
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_events_read_from_a_real_store_verify(tmp_path: Path, sqlite_url: str) -> None:
    store = Store(StoreLocation(sqlite_url, str(tmp_path / "artifacts")))
    pem, public = generate_private_key_pem()
    (tmp_path / "signing.pem").write_bytes(pem)
    (tmp_path / "weights.bin").write_bytes(b"\x00\x01")
    exported = tmp_path / "exported.zip"
    try:
        client = Client.over(LocalTransport(store, Principal("test-admin", Role.admin)))
        version = client.create_model_version("credit", tmp_path / "weights.bin", flavor="files")
        for i in range(3):  # other entities' events inside the pack's range
            client.create_experiment(f"exp-{i}", description=f"experiment {i}")
        client.export_pack(version, exported, sign_with=tmp_path / "signing.pem")
        first = events_of(exported)[0]["seq"]
        with store.engine.connect() as conn:
            query = text("SELECT * FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
            cp = dict(conn.execute(query).one()._mapping)  # the signature as bytes
            query = text("SELECT * FROM audit_events WHERE seq BETWEEN :a AND :b ORDER BY seq")
            rows = conn.execute(query, {"a": first, "b": cp["seq"]})
            events = [dict(r._mapping) for r in rows]
    finally:
        store.close()
    report = verify_pack(exported, public_key=public)
    assert report.ok, report.checks
    assert events[-1]["action"] == "compliance_pack.export"
    assert report.last_seq == events[-1]["seq"] == cp["seq"]

    # The same pack rebuilt straight from the store's rows verifies too.
    content = members(exported)
    reserved = {"manifest.json", "audit/events.jsonl", "audit/checkpoint.json"}
    path = tmp_path / "store.zip"
    write_pack(
        path,
        meta=json.loads(content["manifest.json"]),
        files={n: d for n, d in content.items() if n not in reserved | {"audit/bindings.json"}},
        events=events,
        checkpoint=cp,
        bindings=json.loads(content["audit/bindings.json"]),
    )
    report = verify_pack(path, public_key=public)
    assert report.ok, report.checks
    assert (report.first_seq, report.last_seq) == (first, events[-1]["seq"])
    assert content["pack_files.json"] == members(path)["pack_files.json"]
