"""Template filters: times, numbers and digests as people read them."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any


def when(value: Any) -> str:
    """A time as ``2026-11-22 11:00 UTC``; accepts datetimes and epoch milliseconds."""
    if value is None or value == "":
        return "–"
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value / 1000, UTC)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def iso(value: Any) -> str:
    """Machine-readable time for ``<time datetime=…>``."""
    if isinstance(value, (int, float)):
        value = datetime.fromtimestamp(value / 1000, UTC)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="seconds")
    return "" if value is None else str(value)


def num(value: Any, digits: int = 4) -> str:
    """A number with at most ``digits`` significant decimals; integers with separators."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        return (
            f"{value:.{digits}g}"
            if abs(value) < 1e-3 or abs(value) >= 1e6
            else (f"{value:.{digits}f}".rstrip("0").rstrip("."))
        )
    return str(value)


def pct(value: Any, digits: int = 0) -> str:
    """A share in [0, 1] as a percentage."""
    if value is None:
        return "–"
    return f"{float(value) * 100:.{digits}f}%"


def short(digest: Any, n: int = 12) -> str:
    text = "" if digest is None else str(digest)
    return text[:n] + ("…" if len(text) > n else "")


def yesno(value: Any) -> str:
    return "yes" if value else "no"


FILTERS = {"when": when, "iso": iso, "num": num, "pct": pct, "short": short, "yesno": yesno}
