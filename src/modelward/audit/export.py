"""Writing events as JSON Lines or CSV: the same bytes from the SDK and from the API route.

Every column that goes into an event's hash is exported (``time_ms`` exactly; ``summary``
as an object in JSON Lines and as its canonical JSON text in CSV, which is what was
hashed), so an exported trail can be re-verified elsewhere.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator

from modelward.audit.chain import canonical_json
from modelward.audit.schemas import AuditEventPublic
from modelward.audit.tables import EVENT_COLUMNS
from modelward.errors import InvalidInput

FORMATS = ("jsonl", "csv")
# The stored columns, with the time also written out as text after the sequence number.
CSV_COLUMNS = ["seq", "time", *EVENT_COLUMNS[1:]]
MEDIA_TYPES = {"jsonl": "application/x-ndjson", "csv": "text/csv"}


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise InvalidInput(f"format: must be jsonl or csv, got {fmt!r}", field="format")
    return fmt


def _csv_record(event: AuditEventPublic) -> dict[str, object]:
    record = event.model_dump(mode="json")
    record["summary"] = canonical_json(event.summary)
    return record


def export_lines(events: Iterable[AuditEventPublic], fmt: str) -> Iterator[str]:
    """Lines of text (each ending in a newline), a CSV header first."""
    check_format(fmt)
    if fmt == "jsonl":
        for event in events:
            yield json.dumps(event.model_dump(mode="json"), ensure_ascii=False) + "\n"
        return
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for event in events:
        writer.writerow(_csv_record(event))
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    if buf.tell():
        yield buf.getvalue()


def chunked(lines: Iterable[str], per_chunk: int = 1000) -> Iterator[str]:
    """Lines joined into larger pieces: fewer, bigger writes to the socket."""
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= per_chunk:
            yield "".join(chunk)
            chunk.clear()
    if chunk:
        yield "".join(chunk)
