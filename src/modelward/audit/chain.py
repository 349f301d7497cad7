"""How an event's hash is computed: SHA-256 over the previous hash and the canonical event.

The canonical form is JSON with sorted keys, no whitespace and UTF-8, over exactly the
fields an auditor sees; ``verify`` recomputes it from the stored columns, so an edited
column, a deleted row or two swapped rows all break the chain at a named ``seq``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def state_digest(state: Any) -> str:
    return hashlib.sha256(canonical_json(state).encode()).hexdigest()


def event_hash(
    prev_hash: str,
    seq: int,
    time_ms: int,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    digest: str,
    summary: str,
) -> str:
    # A fixed-order array is canonical by construction and cheaper than a sorted dict,
    # which matters when verifying millions of events.
    payload = json.dumps(
        [seq, time_ms, actor, action, entity_type, entity_id, digest, summary],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(f"{prev_hash}{payload}".encode()).hexdigest()
