"""Monitoring windows over prediction time, and the merged segment profile of each window.

A window size is ``30m``, ``6h``, ``1d``, ``7d`` / ``1w`` (any positive number of minutes,
hours, days or weeks). Windows are aligned to multiples of their size since the UTC epoch,
so the same window always has the same start, whoever asks and whenever.

Segments are hourly, so a window made of segment profiles must be a whole number of hours.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelward.errors import InvalidInput
from modelward.monitoring.tables import PredictionSegment

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
UNITS = {"m": MINUTE_MS, "h": HOUR_MS, "d": DAY_MS, "w": 7 * DAY_MS}
MAX_WINDOWS = 20_000
UNSEEN_KEPT = 50
_SIZE = re.compile(r"^\s*(\d{1,6})\s*([mhdw])\s*$")

Span = tuple[int, int]


def parse_window(size: str, field: str = "window") -> int:
    """A window size in milliseconds."""
    match = _SIZE.match(size) if isinstance(size, str) else None
    if match is None or int(match.group(1)) == 0:
        raise InvalidInput(
            f"{field}: {size!r} is not a window size such as 30m, 1h, 6h, 1d, 7d or 1w",
            field=field,
        )
    return int(match.group(1)) * UNITS[match.group(2)]


def hourly_window(size: str, field: str = "window") -> int:
    """A window size made of whole hours: the prediction log is profiled per hour."""
    ms = parse_window(size, field)
    if ms % HOUR_MS:
        raise InvalidInput(
            f"{field}: {size!r} is not a whole number of hours; the prediction log is "
            "profiled per hour, so monitors use windows of 1h, 6h, 1d, 7d …",
            field=field,
        )
    return ms


def to_ms(value: str | datetime | int | None, field: str) -> int | None:
    """An instant given as ISO 8601 text, a datetime or epoch milliseconds."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidInput(f"{field}: not a date or time", field=field)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    from modelward.audit.service import parse_instant

    return parse_instant(value, field)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def windows(since: int, until: int, size: str | int) -> list[Span]:
    """The aligned windows ``[start, end)`` that overlap ``[since, until)``, oldest first."""
    ms = parse_window(size) if isinstance(size, str) else size
    if until <= since:
        return []
    first = since - since % ms
    count = -(-(until - first) // ms)
    if count > MAX_WINDOWS:
        raise InvalidInput(
            f"window: {count} windows between since and until; at most {MAX_WINDOWS} "
            "(choose a larger window or a shorter period)",
            field="window",
        )
    return [(first + i * ms, first + (i + 1) * ms) for i in range(count)]


def complete(spans: list[Span], now: int) -> list[Span]:
    """The windows that have ended by ``now``."""
    return [s for s in spans if s[1] <= now]


def segment_profiles(
    session: Session, endpoint_id: int, baseline_digest: str, start: int, end: int
) -> list[tuple[int, int, dict[str, Any]]]:
    """``(hour_ms, rows, profile)`` of the segments whose hour is in ``[start, end)``.

    Only segments profiled against ``baseline_digest`` share its bins; segments of another
    deployed version (another baseline) are left out.
    """
    query = (
        select(PredictionSegment.hour_ms, PredictionSegment.rows, PredictionSegment.profile)
        .where(
            PredictionSegment.endpoint_id == endpoint_id,
            PredictionSegment.baseline_digest == baseline_digest,
            PredictionSegment.hour_ms >= start,
            PredictionSegment.hour_ms < end,
        )
        .order_by(PredictionSegment.hour_ms, PredictionSegment.id)
    )
    return [(int(h), int(r), p) for h, r, p in session.execute(query)]


def window_profiles(
    session: Session, endpoint_id: int, baseline: dict[str, Any], spans: list[Span]
) -> list[dict[str, Any] | None]:
    """The merged profile of each window (``None`` when no segment falls in it)."""
    import numpy as np

    if not spans:
        return []
    found = segment_profiles(session, endpoint_id, baseline["digest"], spans[0][0], spans[-1][1])
    groups: list[list[dict[str, Any]]] = [[] for _ in spans]
    starts = np.array([s[0] for s in spans], dtype=np.int64)
    for hour, _rows, profile in found:
        i = int(np.searchsorted(starts, hour, side="right")) - 1
        if 0 <= i < len(spans) and hour < spans[i][1]:
            groups[i].append(profile)
    return [merge_profiles(g, baseline) if g else None for g in groups]


def merge_profiles(profiles: list[dict[str, Any]], baseline: dict[str, Any]) -> dict[str, Any]:
    """The sum of many segment profiles at once (``profiles.merge`` folded, vectorised)."""
    features: dict[str, Any] = {}
    for name, spec in baseline["features"].items():
        parts = [p["features"][name] for p in profiles if name in p.get("features", {})]
        if not parts:
            continue
        if spec["kind"] == "numeric":
            features[name] = _merge_numeric(parts)
        else:
            features[name] = _merge_categorical(parts)
    return {"rows": sum(int(p["rows"]) for p in profiles), "features": features}


_NUMERIC_ADDED = (
    "count",
    "nulls",
    "type_errors",
    "nan",
    "inf",
    "underflow",
    "overflow",
    "sketch_under",
    "sketch_over",
)


def _merge_numeric(parts: list[dict[str, Any]]) -> dict[str, Any]:
    import numpy as np

    out: dict[str, Any] = {"kind": "numeric"}
    for key in _NUMERIC_ADDED:
        out[key] = sum(int(f.get(key, 0)) for f in parts)
    for key in ("bins", "sketch"):
        out[key] = np.asarray([f[key] for f in parts], dtype=np.int64).sum(axis=0).tolist()
    lows = [f["min"] for f in parts if f.get("min") is not None]
    highs = [f["max"] for f in parts if f.get("max") is not None]
    out["min"] = float(min(lows)) if lows else None
    out["max"] = float(max(highs)) if highs else None
    for key in ("sum", "sum_sq"):
        values = [f.get(key) for f in parts]
        known = [float(v) for v in values if v is not None]
        total = float(np.sum(known)) if len(known) == len(values) else None
        out[key] = total if total is None or np.isfinite(total) else None
    return out


def _merge_categorical(parts: list[dict[str, Any]]) -> dict[str, Any]:
    categories: Counter[str] = Counter()
    unseen_values: Counter[str] = Counter()
    for f in parts:
        categories.update(f.get("categories", {}))
        unseen_values.update(f.get("unseen_values", {}))
    top = sorted(unseen_values.items(), key=lambda kv: (-kv[1], kv[0]))[:UNSEEN_KEPT]
    return {
        "kind": "categorical",
        "count": sum(int(f["count"]) for f in parts),
        "nulls": sum(int(f["nulls"]) for f in parts),
        "type_errors": sum(int(f.get("type_errors", 0)) for f in parts),
        "categories": dict(sorted((k, n) for k, n in categories.items() if n)),
        "unseen": sum(int(f["unseen"]) for f in parts),
        "unseen_values": dict(top),
    }
