"""Writing a compliance pack: the three steps (evidence, record, proof) and the zip.

The SDK and the web UI both export through :func:`export_pack`, each passing its own way of
calling an operation, so a pack downloaded from the UI is built exactly as the SDK builds it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

Call = Callable[..., Any]


def export_pack(
    call: Call,
    ref: str,
    path: str | Path,
    *,
    checkpoint_id: int | None = None,
    sign: Callable[[], int] | None = None,
) -> dict[str, Any]:
    """Write the compliance pack of ``ref`` to ``path`` (a zip) and say what went in.

    ``call(op_name, **kwargs)`` runs an operation; ``sign``, when given, signs a checkpoint
    after the export event (so the signature covers it) and returns the checkpoint's id.
    """
    from modelward.governance.pack import PackRecord
    from modelward.governance.pack_format import FILE_LIST, write_pack

    evidence = call("pack_evidence", ref=ref)
    files = {name: text.encode("utf-8") for name, text in evidence.files.items()}
    hashes = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    recorded = call("record_pack_export", ref=ref, body=PackRecord(files=hashes))
    files[FILE_LIST] = json.dumps(recorded.state, indent=2, sort_keys=True).encode()
    if sign is not None:
        checkpoint_id = sign()
    proof = call("pack_proof", ref=ref, export_seq=recorded.seq, checkpoint_id=checkpoint_id)
    write_pack(
        path,
        meta={**evidence.meta, **proof.meta},
        files=files,
        events=proof.events,
        checkpoint=proof.checkpoint,
        bindings=proof.bindings,
    )
    return {
        "path": str(path),
        "files": len(files),
        "events": len(proof.events),
        "bound": len(proof.bindings),
        "checkpoint_seq": proof.checkpoint["seq"] if proof.checkpoint else None,
    }
