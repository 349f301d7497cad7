"""How an event's hash is computed: SHA-256 over the previous hash and the canonical event.

The canonical event is a JSON array, without whitespace, of exactly the fields an auditor
sees, in a fixed order::

    [seq, time_ms, actor, action, entity_type, entity_id, state_digest, summary]

and the hash is ``sha256(prev_hash + that_array)`` over UTF-8, as lowercase hex. ``verify``
recomputes it from the stored columns, so an edited column, a deleted row or two swapped
rows all break the chain at a named ``seq``. An exported trail can be re-verified with
any JSON library from this description alone.
"""

from __future__ import annotations

import hashlib
import json
from json.encoder import encode_basestring
from typing import Any

GENESIS = "0" * 64

_sha256 = hashlib.sha256


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
    """The event's hash; raises ``TypeError`` when a text field is not a string."""
    # Byte for byte what json.dumps([...], separators=(",", ":"), ensure_ascii=False) gives
    # for two ints and six strings, built without the encoder's per-call overhead: verify
    # runs this once per event, millions of times.
    esc = encode_basestring
    payload = (
        f"{prev_hash}[{seq},{time_ms},{esc(actor)},{esc(action)},{esc(entity_type)},"
        f"{esc(entity_id)},{esc(digest)},{esc(summary)}]"
    )
    return _sha256(payload.encode()).hexdigest()
