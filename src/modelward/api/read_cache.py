"""Answers to reads, reused while nothing in the store has changed.

Every state change writes an audit event in the same transaction, so the audit chain's
head ``seq`` is a version number for the whole store: if it has not moved, no read can
give a different answer. A read looks at the head first (one primary-key lookup) and
reuses the bytes it served for the same operation and arguments at that head. The head
is read before the answer is computed, so an entry is never tagged newer than its
content; every replica reads the head from the shared database, so none serves an
answer another replica's write has made stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy import select

from modelward.audit.tables import AuditEvent

MAX_ENTRY_BYTES = 64 * 1024
MAX_TOTAL_BYTES = 32 * 1024 * 1024

_HEAD = select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)


class ReadCache:
    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[int, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @staticmethod
    def head(engine: Any) -> int:
        with engine.connect() as conn:
            return int(conn.execute(_HEAD).scalar() or 0)

    @staticmethod
    def key(op_name: str, kwargs: dict[str, Any]) -> str:
        return op_name + repr(sorted(kwargs.items()))

    def get(self, key: str, head: int) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != head:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: str, head: int, body: bytes) -> None:
        if len(body) > MAX_ENTRY_BYTES:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1])
            self._entries[key] = (head, body)
            self._bytes += len(body)
            while self._bytes > MAX_TOTAL_BYTES:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._bytes -= len(evicted)
