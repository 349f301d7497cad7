"""What the audit pages show, computed from service answers: the filters and position read
from the query string, keyset pages of events, links from an event to what it changed,
and the facts about a signed checkpoint."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

from modelward.audit.checkpoint import verify_signature
from modelward.audit.schemas import AuditEventPublic, CheckpointPublic
from modelward.audit.service import MAX_SEQ, parse_instant
from modelward.errors import InvalidInput
from modelward.validation import NAME_PATTERN

FILTERS = ("actor", "action", "entity_type", "entity_id", "since", "until")
PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
EXPORT_PAGE = 1000
# Offered as suggestions only: an entity type not listed here is still a valid filter.
ENTITY_TYPES = (
    "ai_system",
    "alert",
    "alert_rule",
    "audit_checkpoint",
    "compliance_pack",
    "dataset_version",
    "endpoint",
    "evaluation",
    "experiment",
    "explanation",
    "gate_decision",
    "model",
    "model_alias",
    "model_card",
    "model_version",
    "policy",
    "promotion_request",
    "run",
    "token",
    "trigger_run",
)

Call = Callable[..., Any]


# --- what was asked ----------------------------------------------------------------------


@dataclass
class Query:
    """The filters and the position in the trail, as read from the query string."""

    filters: dict[str, str]
    size: int = DEFAULT_PAGE_SIZE
    before: int | None = None  # events with a smaller seq, newest first
    after: int | None = None  # events with a larger seq, the oldest of them
    at: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def args(self) -> dict[str, str]:
        """The filters given, as arguments of ``list_audit_events``."""
        return {k: v for k, v in self.filters.items() if v}

    @property
    def filtered(self) -> bool:
        return bool(self.args)

    def url(self, **position: int) -> str:
        """This query's address at another position (``before=`` or ``after=`` a seq)."""
        pairs = list(self.args.items())
        if self.size != DEFAULT_PAGE_SIZE:
            pairs.append(("size", str(self.size)))
        pairs += [(k, str(v)) for k, v in position.items()]
        return "/audit" + (f"?{urlencode(pairs)}" if pairs else "")

    def export_url(self, fmt: str) -> str:
        return f"/audit/export.{fmt}" + (f"?{urlencode(self.args)}" if self.args else "")

    def display(self, name: str) -> str:
        """A filter's value as its input shows it (times in UTC, as datetime-local wants)."""
        value = self.at if name == "at" else self.filters[name]
        if name in ("since", "until") and value:
            try:
                return local_input(value)
            except InvalidInput:  # shown as typed, beside its error
                return value
        return value


def read_query(params: Mapping[str, str]) -> Query:
    """The filters, page size and position asked for; bad values are named by field."""
    q = Query(filters={k: params.get(k, "").strip() for k in FILTERS})
    for name in ("since", "until"):
        try:
            parse_instant(q.filters[name], name)
        except InvalidInput as exc:
            q.errors[name] = exc.message
    raw_size = params.get("size", "").strip()
    if raw_size:
        if raw_size in {str(s) for s in PAGE_SIZES}:
            q.size = int(raw_size)
        else:
            q.errors["size"] = "size: choose 25, 50, 100 or 200 events a page"
    _read_position(q, params)
    return q


def _read_position(q: Query, params: Mapping[str, str]) -> None:
    q.at = params.get("at", "").strip()
    try:
        if q.at:
            q.before = _seq(q.at, "at", 0, MAX_SEQ - 1) + 1
        elif params.get("before"):
            q.before = _seq(params["before"], "before", 1, MAX_SEQ)
        elif params.get("after"):
            q.after = _seq(params["after"], "after", 0, MAX_SEQ - 1)
    except InvalidInput as exc:
        q.errors["at"] = exc.message


def _seq(text: str, name: str, low: int, high: int) -> int:
    value = text.strip()
    # Too many digits is refused before int(), which would spend time on a huge number.
    if not (value.isascii() and value.isdigit() and len(value) <= 19) or not (
        low <= int(value) <= high
    ):
        raise InvalidInput(
            f"{name}: an event number (seq) from {low} to {high}, got {value[:30]!r}", field=name
        )
    return int(value)


def local_input(value: str) -> str:
    """An ISO 8601 instant as a UTC ``datetime-local`` value (a date alone is midnight)."""
    ms = parse_instant(value, "time")
    if ms is None:
        return ""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"
    return moment.strftime("%Y-%m-%dT%H:%M:%S" if moment.second else "%Y-%m-%dT%H:%M")


# --- one page of events ------------------------------------------------------------------


@dataclass
class Page:
    events: list[AuditEventPublic]
    newer: str | None  # addresses of the neighbouring pages, None at either end
    older: str | None
    newest: str | None
    oldest: str | None

    @property
    def label(self) -> str:
        if not self.events:
            return "no events"
        top, bottom = self.events[0].seq, self.events[-1].seq
        return f"event {top}" if top == bottom else f"events {top} to {bottom}"


def fetch_page(call: Call, q: Query) -> Page:
    """One page, newest first, found by seq (keyset), never by offset."""
    args, size = q.args, q.size
    if q.after is not None:
        rows = call("list_audit_events", **args, after_seq=q.after, limit=size + 1)
        events = list(reversed(rows[:size]))
        has_newer = len(rows) > size
        newer_than = events[0].seq if events else q.after
        older_than = events[-1].seq if events else q.after + 1
        has_older = bool(
            call("list_audit_events", **args, before_seq=older_than, newest_first=True, limit=1)
        )
    else:
        rows = call(
            "list_audit_events", **args, before_seq=q.before, newest_first=True, limit=size + 1
        )
        events = rows[:size]
        has_older = len(rows) > size
        older_than = events[-1].seq if events else q.before or 1
        newer_than = events[0].seq if events else (q.before or 1) - 1
        has_newer = q.before is not None and bool(
            call("list_audit_events", **args, after_seq=newer_than, limit=1)
        )
    return Page(
        events=events,
        newer=q.url(after=newer_than) if has_newer else None,
        older=q.url(before=older_than) if has_older else None,
        newest=q.url() if has_newer else None,
        oldest=q.url(after=0) if has_older else None,
    )


def event_row(event: AuditEventPublic) -> dict[str, Any]:
    return {
        "e": event,
        "time": clock(event.time_ms),
        "iso": iso_ms(event.time_ms),
    }


def clock(ms: int) -> str:
    """An event's time to the second, as people read it."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso_ms(ms: int) -> str:
    """An event's time exactly as stored (milliseconds), for ``<time datetime=…>``."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


# --- export ------------------------------------------------------------------------------


def export_events(call: Call, args: Mapping[str, str], head_seq: int) -> Iterator[Any]:
    """Every matching event up to ``head_seq``, oldest first, a page at a time.

    The first page is read before this returns, so bad filters fail before any byte is
    sent; events appended while the download runs are left for the next export.
    """
    bound = {"before_seq": head_seq + 1, "limit": EXPORT_PAGE}
    first = call("list_audit_events", **args, **bound)

    def pages() -> Iterator[list[AuditEventPublic]]:
        page = first
        while True:
            yield page
            if len(page) < EXPORT_PAGE:
                return
            page = call("list_audit_events", **args, after_seq=page[-1].seq, **bound)

    return pages()


# --- one event ---------------------------------------------------------------------------

_NAME = NAME_PATTERN.strip("^$")
_VERSION = re.compile(rf"^({_NAME})/([1-9][0-9]{{0,8}})$")
_ALIAS = re.compile(rf"^({_NAME})@({_NAME})$")
_PLAIN = re.compile(NAME_PATTERN)
_RULE = re.compile(rf"^({_NAME})/({_NAME})$")
# Entities whose summary names the model version they concern as ``ref``.
_REF_IN_SUMMARY = ("evaluation", "explanation", "gate_decision", "promotion_request")


def _q(text: str) -> str:
    return quote(text, safe="")


def _version_link(ref: Any, label: str = "model version") -> list[tuple[str, str]]:
    found = _VERSION.match(ref) if isinstance(ref, str) else None
    if not found:
        return []
    name, number = found.groups()
    return [(f"{label} {name}/{number}", f"/models/{_q(name)}/versions/{number}")]


def entity_links(event: AuditEventPublic) -> list[tuple[str, str]]:
    """Pages about what the event changed, where its id names one without doubt."""
    kind, eid = event.entity_type, event.entity_id
    if kind in ("model_version", "model_card", "compliance_pack"):
        return _version_link(eid)
    if kind in _REF_IN_SUMMARY:
        return _version_link(event.summary.get("ref"))
    if kind == "model_alias" and (alias := _ALIAS.match(eid)):
        return [(f"model {alias.group(1)}", f"/models/{_q(alias.group(1))}")]
    if kind == "alert_rule" and (rule := _RULE.match(eid)):
        return [(f"monitoring of {rule.group(1)}", f"/monitoring/{_q(rule.group(1))}")]
    if kind == "alert":
        endpoint = event.summary.get("endpoint")
        if isinstance(endpoint, str) and _PLAIN.match(endpoint):
            return [(f"alerts of {endpoint}", f"/monitoring/{_q(endpoint)}#alerts")]
        return []
    return _named_links(kind, eid)


def _named_links(kind: str, eid: str) -> list[tuple[str, str]]:
    if kind == "run" and re.fullmatch(r"[0-9a-f]{32}", eid):
        return [(f"run {eid}", f"/runs/{eid}")]
    if not _PLAIN.match(eid):
        return []
    pages = {
        "ai_system": [("AI register entry", "/register/")],
        "model": [("model", "/models/")],
        "experiment": [("experiment", "/experiments/")],
        "endpoint": [("deployment", "/deployments/"), ("monitoring", "/monitoring/")],
    }
    return [(f"{label} {eid}", base + _q(eid)) for label, base in pages.get(kind, [])]


def summary_text(event: AuditEventPublic) -> str:
    return json.dumps(event.summary, indent=2, sort_keys=True, ensure_ascii=False)


# --- checkpoints -------------------------------------------------------------------------


def fingerprint(public_key: str) -> str:
    """A short name for an Ed25519 public key: the start of the SHA-256 of its 32 bytes."""
    try:
        raw = bytes.fromhex(public_key)
    except ValueError:
        return "not a key"
    digest = hashlib.sha256(raw).hexdigest()[:16]
    return "SHA256:" + ":".join(digest[i : i + 4] for i in range(0, 16, 4))


def checkpoint_facts(
    cp: CheckpointPublic, hash_at_seq: str | None, auditor_key: str | None = None
) -> dict[str, Any]:
    """What can be said of one checkpoint without walking the whole chain."""
    return {
        "cp": cp,
        "time": clock(int(cp.time.timestamp() * 1000)),
        "fingerprint": fingerprint(cp.public_key),
        "self_signed": verify_signature(cp.public_key, cp.seq, cp.head_hash, cp.signature),
        # None: the event the checkpoint signed is no longer in the trail at all.
        "hash_kept": None if hash_at_seq is None else hash_at_seq == cp.head_hash,
        "by_auditor": None
        if auditor_key is None
        else verify_signature(auditor_key, cp.seq, cp.head_hash, cp.signature),
    }


def event_at(call: Call, seq: int) -> AuditEventPublic | None:
    if not 1 <= seq <= MAX_SEQ:
        return None
    found = call("list_audit_events", after_seq=seq - 1, limit=1)
    return found[0] if found and found[0].seq == seq else None
