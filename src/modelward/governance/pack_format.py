"""The compliance pack: one zip that proves, offline, what was known about a model version.

Layout::

    manifest.json          {"format": "modelward-compliance-pack/1", "model", "version",
                            "digest", "created_at", "created_by", "files": {path: sha256}}
    <evidence files>       card.md, card.json, evaluations/<id>.json, policies/<name>-v<n>.yaml...
    audit/events.jsonl     one event per line: seq, time_ms, actor, action, entity_type,
                           entity_id, state_digest, summary, prev_hash, hash
    audit/checkpoint.json  {seq, head_hash, time_ms, actor, public_key, signature} (if any)
    audit/bindings.json    [{"file": "evaluations/ab12.json", "seq": 123}, ...]

``summary`` is stored as the exact text that was hashed (canonical JSON), so each event's
hash can be recomputed with any JSON library from the description in ``audit.chain``.

The events run over consecutive seqs, from the first event concerning the model up to the
checkpoint. A hash chain is only provable link by link, so events about other entities that
fall in that range are in the pack too. The checkpoint's Ed25519 signature over the last
event's hash commits to every event before it; each binding ties an evidence file to the
event that recorded it (the file's JSON, through ``audit.chain.state_digest``, must equal
the event's ``state_digest``). The manifest's hashes catch accidental damage; they are not
signed, so the chain, checkpoint and bindings are what detect a deliberate edit.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from modelward.audit.chain import GENESIS, canonical_json, event_hash, state_digest
from modelward.audit.checkpoint import parse_public_key, verify_signature
from modelward.errors import InvalidInput

FORMAT = "modelward-compliance-pack/1"
MANIFEST = "manifest.json"
EVENTS = "audit/events.jsonl"
CHECKPOINT = "audit/checkpoint.json"
BINDINGS = "audit/bindings.json"
# Every evidence file's SHA-256, recorded as an audit event when the pack was exported, so
# the signed chain covers the derived files (card, lineage, ...) too, not only the manifest.
FILE_LIST = "pack_files.json"
RESERVED = (MANIFEST, EVENTS, CHECKPOINT, BINDINGS)

EVENT_FIELDS = (
    "seq",
    "time_ms",
    "actor",
    "action",
    "entity_type",
    "entity_id",
    "state_digest",
    "summary",
    "prev_hash",
    "hash",
)
CHECKPOINT_FIELDS = ("seq", "head_hash", "time_ms", "actor", "public_key", "signature")
META_FIELDS = ("model", "version", "digest", "created_at", "created_by")
# Fixed member timestamps make the same pack contents give the same zip bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass
class PackCheck:
    name: str
    ok: bool
    detail: str


@dataclass
class PackReport:
    ok: bool
    checks: list[PackCheck] = field(default_factory=list)
    first_seq: int | None = None
    last_seq: int | None = None
    key_source: str | None = None  # whose key the signature was checked with: "given" or "pack"


# ----------------------------------------------------------------------------- writing


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_path(path: str) -> str:
    pure = PurePosixPath(path)
    bad = (
        not path
        or "\\" in path
        or pure.is_absolute()
        or any(part in ("", ".", "..") for part in path.split("/"))
    )
    if bad:
        raise InvalidInput(f"files: {path!r} is not a relative path inside the pack", field="files")
    if path in RESERVED:
        raise InvalidInput(f"files: {path!r} is reserved for the pack's own records", field="files")
    return path


def _event_record(event: dict[str, Any]) -> dict[str, Any]:
    missing = [f for f in EVENT_FIELDS if f not in event]
    if missing:
        raise InvalidInput(
            f"events: event {event.get('seq')!r} lacks {', '.join(missing)}", field="events"
        )
    record = {f: event[f] for f in EVENT_FIELDS}
    if not isinstance(record["summary"], str):
        record["summary"] = canonical_json(record["summary"])
    return record


def _checkpoint_record(checkpoint: dict[str, Any]) -> dict[str, Any]:
    missing = [f for f in CHECKPOINT_FIELDS if f not in checkpoint]
    if missing:
        raise InvalidInput(f"checkpoint: lacks {', '.join(missing)}", field="checkpoint")
    record = {f: checkpoint[f] for f in CHECKPOINT_FIELDS}
    if isinstance(record["signature"], bytes | bytearray | memoryview):
        record["signature"] = bytes(record["signature"]).hex()
    return record


def _check_bindings(
    bindings: list[dict[str, Any]], files: dict[str, bytes], seqs: set[Any]
) -> None:
    for i, b in enumerate(bindings):
        where = f"bindings[{i}]"
        if not isinstance(b, dict) or set(b) != {"file", "seq"}:
            raise InvalidInput(f"{where}: expected {{file, seq}}", field="bindings")
        if b["file"] not in files:
            raise InvalidInput(
                f"{where}: {b['file']!r} is not a file of the pack", field="bindings"
            )
        if b["seq"] not in seqs:
            raise InvalidInput(
                f"{where}: seq {b['seq']!r} is not among the events", field="bindings"
            )


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def write_pack(
    path: str | Path,
    *,
    meta: dict[str, Any],
    files: dict[str, bytes],
    events: list[dict[str, Any]],
    checkpoint: dict[str, Any] | None,
    bindings: list[dict[str, Any]],
) -> None:
    """Write the pack to ``path`` atomically: a temporary file beside it, then a rename."""
    missing = [f for f in META_FIELDS if f not in meta]
    if missing:
        raise InvalidInput(f"meta: lacks {', '.join(missing)}", field="meta")
    members = {_check_path(name): bytes(data) for name, data in files.items()}
    records = [_event_record(e) for e in events]
    _check_bindings(bindings, members, {r["seq"] for r in records})
    members[EVENTS] = "".join(
        json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records
    ).encode()
    if checkpoint is not None:
        members[CHECKPOINT] = _json_bytes(_checkpoint_record(checkpoint))
    members[BINDINGS] = _json_bytes([{"file": b["file"], "seq": b["seq"]} for b in bindings])
    manifest = {
        "format": FORMAT,
        **{k: meta[k] for k in META_FIELDS},
        "files": {name: _sha256(members[name]) for name in sorted(members)},
    }
    _atomic_zip(Path(path), [(MANIFEST, _json_bytes(manifest))] + sorted(members.items()))


def _atomic_zip(path: Path, members: list[tuple[str, bytes]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out, zipfile.ZipFile(out, "w") as zf:
            for name, data in members:
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ----------------------------------------------------------------------------- verifying


class _Pack:
    """The members of an opened zip, read once; unreadable members are remembered by name."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.names = [i.filename for i in zf.infolist()]
        self.data: dict[str, bytes] = {}
        self.unreadable: dict[str, str] = {}
        for name in dict.fromkeys(self.names):
            try:
                self.data[name] = zf.read(name)
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
                self.unreadable[name] = str(exc) or type(exc).__name__

    def json(self, name: str) -> Any:
        """The member parsed as JSON; ``ValueError`` naming it when absent or malformed."""
        if name in self.unreadable:
            raise ValueError(f"{name} cannot be read: {self.unreadable[name]}")
        if name not in self.data:
            raise ValueError(f"{name} is missing")
        try:
            return json.loads(self.data[name])
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{name} is not valid JSON: {exc}") from None


def verify_pack(path: str | Path, public_key: str | None = None) -> PackReport:
    """Check a pack offline; a bad pack gives a failing report, never an exception.

    ``InvalidInput`` only when ``path`` cannot be read as a zip or ``public_key`` is malformed.
    """
    key = parse_public_key(public_key) if public_key is not None else None
    try:
        with zipfile.ZipFile(path) as zf:
            pack = _Pack(zf)
    except FileNotFoundError:
        raise InvalidInput(f"path: {path} does not exist", field="path") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise InvalidInput(
            f"path: {path} is not a readable zip file ({exc})", field="path"
        ) from None

    events, chain = _check_chain(pack)
    checkpoint, key_source = _check_checkpoint(pack, events, key)
    checks = [
        _check_manifest(pack),
        chain,
        checkpoint,
        _check_bindings_of(pack, events),
        _check_file_list(pack, events),
    ]
    return PackReport(
        ok=all(c.ok for c in checks),
        checks=checks,
        first_seq=events[0]["seq"] if events else None,
        last_seq=events[-1]["seq"] if events else None,
        key_source=key_source,
    )


def _check_file_list(pack: _Pack, events: list[dict[str, Any]]) -> PackCheck:
    """Every evidence file is the one whose hash the export event recorded.

    The file list is itself bound to its event (see bindings), and that event lies under the
    signed checkpoint, so no file can be changed without breaking a signature.
    """

    def fail(detail: str) -> PackCheck:
        return PackCheck("files", False, detail)

    try:
        recorded = pack.json(FILE_LIST)
        bindings = pack.json(BINDINGS)
    except ValueError as exc:
        return fail(str(exc))
    listed = recorded.get("files") if isinstance(recorded, dict) else None
    if not isinstance(listed, dict):
        return fail(f"{FILE_LIST} has no files table")
    bound = [b for b in bindings if isinstance(b, dict)] if isinstance(bindings, list) else []
    seqs = {b.get("seq") for b in bound if b.get("file") == FILE_LIST}
    exports = {e["seq"] for e in events if e.get("action") == "compliance_pack.export"}
    if not seqs & exports:
        return fail(f"{FILE_LIST} is not bound to a compliance_pack.export event")
    manifest = pack.json(MANIFEST) if MANIFEST in pack.data else {}
    for key in ("model", "version"):
        if isinstance(manifest, dict) and recorded.get(key) != manifest.get(key):
            return fail(f"{FILE_LIST} records {key} {recorded.get(key)!r}, the manifest says "
                        f"{manifest.get(key)!r}")  # fmt: skip
    present = set(pack.data) - set(RESERVED) - {FILE_LIST}
    for name in sorted(present | set(listed)):
        if name not in listed:
            return fail(f"{name} is in the pack but not in the exported file list")
        if name not in pack.data:
            return fail(f"{name} is in the exported file list but missing from the pack")
        if _sha256(pack.data[name]) != listed[name]:
            return fail(f"{name} differs from the file recorded at export (edited)")
    return PackCheck("files", True, f"{len(listed)} files are the ones recorded at export")


def _check_manifest(pack: _Pack) -> PackCheck:
    def fail(detail: str) -> PackCheck:
        return PackCheck("manifest", False, detail)

    duplicated = sorted({n for n in pack.names if pack.names.count(n) > 1})
    if duplicated:
        return fail(f"{duplicated[0]} appears more than once in the zip")
    try:
        manifest = pack.json(MANIFEST)
    except ValueError as exc:
        return fail(str(exc))
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return fail(f"{MANIFEST} does not declare format {FORMAT}")
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        return fail(f"{MANIFEST} has no files table")
    for name, digest in sorted(listed.items()):
        if name in pack.unreadable:
            return fail(f"{name} cannot be read: {pack.unreadable[name]}")
        if name not in pack.data:
            return fail(f"{name} is listed in the manifest but missing from the pack")
        if _sha256(pack.data[name]) != digest:
            return fail(f"{name} does not match its SHA-256 in the manifest")
    unlisted = sorted(set(pack.names) - set(listed) - {MANIFEST})
    if unlisted:
        return fail(f"{unlisted[0]} is in the pack but not listed in the manifest")
    return PackCheck("manifest", True, f"{len(listed)} files match their SHA-256")


def _parse_events(pack: _Pack) -> tuple[list[dict[str, Any]], str | None]:
    """The well-formed events in file order, and what stopped the parse if anything did."""
    if EVENTS in pack.unreadable:
        return [], f"{EVENTS} cannot be read: {pack.unreadable[EVENTS]}"
    if EVENTS not in pack.data:
        return [], f"{EVENTS} is missing"
    events: list[dict[str, Any]] = []
    try:
        lines = pack.data[EVENTS].decode().splitlines()
    except UnicodeDecodeError:
        return [], f"{EVENTS} is not UTF-8 text"
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            return events, f"line {number} of {EVENTS} is not valid JSON"
        if not isinstance(event, dict) or any(f not in event for f in EVENT_FIELDS):
            return events, f"line {number} of {EVENTS} lacks event fields"
        if not isinstance(event["seq"], int) or isinstance(event["seq"], bool):
            return events, f"line {number} of {EVENTS} has a non-integer seq"
        events.append(event)
    return events, None


def _recomputed(event: dict[str, Any]) -> str | None:
    summary = event["summary"]
    if not isinstance(summary, str):
        summary = canonical_json(summary)
    try:
        return event_hash(
            event["prev_hash"],
            event["seq"],
            event["time_ms"],
            event["actor"],
            event["action"],
            event["entity_type"],
            event["entity_id"],
            event["state_digest"],
            summary,
        )
    except TypeError:
        return None


def _check_chain(pack: _Pack) -> tuple[list[dict[str, Any]], PackCheck]:
    events, problem = _parse_events(pack)

    def fail(detail: str) -> tuple[list[dict[str, Any]], PackCheck]:
        return events, PackCheck("chain", False, detail)

    if problem:
        return fail(problem)
    if not events:
        return fail(f"{EVENTS} holds no events")
    prev: dict[str, Any] | None = None
    for event in events:
        seq = event["seq"]
        if prev is None and seq == 1 and event["prev_hash"] != GENESIS:
            return fail("event 1 does not start from the genesis hash")
        if prev is not None and seq != prev["seq"] + 1:
            if seq > prev["seq"] + 1:
                gap = (
                    f"{prev['seq'] + 1}"
                    if seq == prev["seq"] + 2
                    else f"{prev['seq'] + 1}..{seq - 1}"
                )
                return fail(f"seq {gap} missing: event {seq} follows event {prev['seq']}")
            return fail(f"seq {seq} is out of order: it follows event {prev['seq']}")
        if _recomputed(event) != event["hash"]:
            return fail(f"seq {seq}: the event's fields no longer give its hash (edited)")
        if prev is not None and event["prev_hash"] != prev["hash"]:
            return fail(f"seq {seq}: chained to a hash other than event {prev['seq']}'s")
        prev = event
    span = f"{events[0]['seq']}..{events[-1]['seq']}"
    return events, PackCheck("chain", True, f"{len(events)} events verified (seq {span})")


def _check_checkpoint(
    pack: _Pack, events: list[dict[str, Any]], key: str | None
) -> tuple[PackCheck, str | None]:
    def fail(detail: str) -> tuple[PackCheck, str | None]:
        return PackCheck("checkpoint", False, detail), None

    if CHECKPOINT not in pack.data and CHECKPOINT not in pack.unreadable:
        return fail("no signed checkpoint")
    try:
        cp = pack.json(CHECKPOINT)
    except ValueError as exc:
        return fail(str(exc))
    if not isinstance(cp, dict) or any(f not in cp for f in CHECKPOINT_FIELDS):
        return fail(f"{CHECKPOINT} lacks checkpoint fields")
    if not events:
        return fail("no events for the checkpoint to cover")
    last = events[-1]
    if cp["seq"] != last["seq"]:
        return fail(f"checkpoint is at seq {cp['seq']!r} but the last event is seq {last['seq']}")
    if cp["head_hash"] != last["hash"]:
        return fail(f"checkpoint head_hash differs from event {last['seq']}'s hash")
    source = "given" if key is not None else "pack"
    signer = key if key is not None else cp["public_key"]
    valid = (
        isinstance(signer, str)
        and isinstance(cp["signature"], str)
        and isinstance(cp["head_hash"], str)
        and verify_signature(signer, cp["seq"], cp["head_hash"], cp["signature"])
    )
    if not valid:
        whose = "the given public key" if key is not None else "the public key in the pack"
        detail = f"checkpoint signature at seq {cp['seq']} is not valid under {whose}"
        return PackCheck("checkpoint", False, detail), source
    if key is None:
        detail = (
            f"seq {cp['seq']} signed by the key stored in the pack; verifying with a public "
            "key held independently of the pack is stronger"
        )
    else:
        detail = f"seq {cp['seq']} signed by the given public key"
    return PackCheck("checkpoint", True, detail), source


def _check_bindings_of(pack: _Pack, events: list[dict[str, Any]]) -> PackCheck:
    def fail(detail: str) -> PackCheck:
        return PackCheck("bindings", False, detail)

    try:
        bindings = pack.json(BINDINGS)
    except ValueError as exc:
        return fail(str(exc))
    if not isinstance(bindings, list):
        return fail(f"{BINDINGS} is not a list")
    by_seq = {e["seq"]: e for e in events}
    for i, b in enumerate(bindings):
        if not isinstance(b, dict) or not isinstance(b.get("file"), str) or "seq" not in b:
            return fail(f"binding {i} is not {{file, seq}}")
        name, seq = b["file"], b["seq"]
        try:
            content = pack.json(name)
        except ValueError as exc:
            return fail(f"binding of {name}: {exc}")
        event = by_seq.get(seq)
        if event is None:
            return fail(f"{name} is bound to seq {seq!r}, which is not among the events")
        if state_digest(content) != event["state_digest"]:
            return fail(f"{name} does not match the state recorded by event {seq}")
    return PackCheck("bindings", True, f"{len(bindings)} evidence files match their events")
