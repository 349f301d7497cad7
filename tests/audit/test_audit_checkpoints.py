"""Ed25519 checkpoints: signed where the key lives, checked by the server and by verify."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from audit_helpers import execute, local_client, populate, rehash_from, run_cli

import modelward as mw
from modelward.audit.checkpoint import generate_private_key_pem, sign
from modelward.audit.schemas import CheckpointCreate
from modelward.store import Store


def _keygen(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], uri: str, path: Path
) -> str:
    code, out, _ = run_cli(monkeypatch, capsys, uri, "audit", "keygen", "--out", str(path))
    assert code == 0
    public = path.with_name(path.name + ".pub").read_text().strip()
    assert f"public key: {public}" in out
    return public


def test_keygen_checkpoint_and_verify_with_the_public_key(
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    uri = store.location.db_url
    n = populate(store)
    key = tmp_path / "auditor.pem"
    public = _keygen(monkeypatch, capsys, uri, key)
    assert (
        stat.S_IMODE(key.stat().st_mode) == 0o600
    )  # the private key is readable by its owner only
    assert len(public) == 64

    code, out, _ = run_cli(monkeypatch, capsys, uri, "audit", "checkpoint", "--key", str(key))
    assert code == 0 and f"at seq {n}" in out
    [cp] = local_client(store).list_audit_checkpoints()
    assert (cp.seq, cp.public_key) == (n, public)
    # Creating a checkpoint is itself an audited change.
    assert local_client(store).list_audit_events(action="audit.checkpoint")[0].entity_id == str(
        cp.id
    )

    pub_file = str(key) + ".pub"
    code, out, _ = run_cli(
        monkeypatch, capsys, uri, "audit", "verify", "--public-key-file", pub_file
    )
    assert code == 0 and "1 of 1 signed by the given key" in out
    code, out, _ = run_cli(monkeypatch, capsys, uri, "audit", "verify", "--public-key", public)
    assert code == 0


def test_keygen_refuses_to_overwrite_a_key(
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = tmp_path / "k.pem"
    _keygen(monkeypatch, capsys, store.location.db_url, key)
    before = key.read_bytes()
    code, _, err = run_cli(
        monkeypatch, capsys, store.location.db_url, "audit", "keygen", "--out", str(key)
    )
    assert code == 2 and "--force" in err
    assert key.read_bytes() == before


def test_verify_with_another_key_fails_on_the_checkpoint(
    store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    populate(store)
    key = tmp_path / "k.pem"
    _keygen(monkeypatch, capsys, store.location.db_url, key)
    local_client(store).create_audit_checkpoint(key)
    _, stranger = generate_private_key_pem()
    report = local_client(store).verify_audit([stranger])
    assert not report.intact and report.reason == "checkpoint"
    code, out, _ = run_cli(
        monkeypatch, capsys, store.location.db_url, "audit", "verify", "--public-key", stranger
    )
    assert code == 1 and "(checkpoint)" in out


def test_a_rewritten_chain_is_caught_by_the_checkpoint(store: Store, tmp_path: Path) -> None:
    n = populate(store)
    pem, public = generate_private_key_pem()
    (tmp_path / "k.pem").write_bytes(pem)
    client = local_client(store)
    client.create_audit_checkpoint(tmp_path / "k.pem")
    # A forger edits event 3 and recomputes every later hash: the chain is self-consistent...
    execute(store, "UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    rehash_from(store, 3)
    # ...but no longer passes through the checkpointed hash.
    report = client.verify_audit([public])
    assert (report.first_broken_seq, report.reason) == (n, "edited")
    assert "checkpoint #1" in report.message


def test_a_forged_checkpoint_does_not_verify_with_the_auditors_key(
    store: Store, tmp_path: Path
) -> None:
    populate(store)
    _, auditor = generate_private_key_pem()
    forger_pem, _ = generate_private_key_pem()
    (tmp_path / "forger.pem").write_bytes(forger_pem)
    client = local_client(store)
    client.create_audit_checkpoint(tmp_path / "forger.pem")
    assert client.verify_audit().intact  # without the auditor's key nothing can tell
    report = client.verify_audit([auditor])
    assert not report.intact and report.reason == "checkpoint"


def test_truncating_the_tail_is_caught_by_the_checkpoint(store: Store, tmp_path: Path) -> None:
    n = populate(store)
    pem, public = generate_private_key_pem()
    (tmp_path / "k.pem").write_bytes(pem)
    client = local_client(store)
    client.create_audit_checkpoint(tmp_path / "k.pem")
    execute(store, "DELETE FROM audit_events WHERE seq >= :s", s=n - 1)
    report = client.verify_audit([public])
    assert (report.first_broken_seq, report.reason) == (n - 1, "deleted")


def test_the_server_checks_a_submitted_checkpoint(client: mw.Client, tmp_path: Path) -> None:
    from modelward.audit.checkpoint import load_private_key, public_key_hex

    pem, _ = generate_private_key_pem()
    (tmp_path / "k.pem").write_bytes(pem)
    key = load_private_key(tmp_path / "k.pem")
    client.create_experiment("credit-risk")
    head = client.get_audit_head()
    public = public_key_hex(key)

    def submit(seq: int, head_hash: str, signature: str) -> None:
        body = CheckpointCreate(
            seq=seq, head_hash=head_hash, public_key=public, signature=signature
        )
        client._call("create_audit_checkpoint", body=body)

    with pytest.raises(mw.InvalidInput) as bad_sig:
        submit(head.seq, head.hash, sign(key, head.seq, "a" * 64))
    assert bad_sig.value.field == "signature"
    with pytest.raises(mw.Conflict) as wrong_hash:
        submit(head.seq, "a" * 64, sign(key, head.seq, "a" * 64))
    assert wrong_hash.value.field == "head_hash"
    with pytest.raises(mw.NotFound) as no_seq:
        submit(head.seq + 5, head.hash, sign(key, head.seq + 5, head.hash))
    assert no_seq.value.field == "seq"
    assert client.list_audit_checkpoints() == []

    created = client.create_audit_checkpoint(key)
    assert (created.seq, created.head_hash, created.public_key) == (head.seq, head.hash, public)
    assert client.verify_audit([public]).signatures_verified == 1


def test_an_empty_trail_has_nothing_to_checkpoint(store: Store, tmp_path: Path) -> None:
    pem, _ = generate_private_key_pem()
    (tmp_path / "k.pem").write_bytes(pem)
    with pytest.raises(mw.Conflict) as empty:
        local_client(store).create_audit_checkpoint(tmp_path / "k.pem")
    assert empty.value.field == "seq"


def test_a_malformed_public_key_is_refused(client: mw.Client) -> None:
    with pytest.raises(mw.InvalidInput) as bad:
        client.verify_audit(["not-a-key"])
    assert bad.value.field == "public_key"


def test_a_pem_public_key_is_accepted(store: Store, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization

    from modelward.audit.checkpoint import load_private_key

    populate(store)
    pem, public = generate_private_key_pem()
    (tmp_path / "k.pem").write_bytes(pem)
    client = local_client(store)
    client.create_audit_checkpoint(tmp_path / "k.pem")
    public_pem = (
        load_private_key(tmp_path / "k.pem")
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    report = client.verify_audit([public_pem])
    assert report.intact and report.signatures_verified == 1
