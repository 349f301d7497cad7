"""Drawings for the overview and the register: a health sparkline and a production timeline.

Both are inline SVG with ``role="img"``, an ``aria-label`` and a ``<title>``; the pages show
the same numbers as text beside them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from html import escape
from typing import Any

from markupsafe import Markup

from modelward.ui.charts import PALETTE

# A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def sparkline(scores: Sequence[float | None], *, label: str, width: int = 120) -> Markup:
    """The scores left to right on a fixed 0–100 scale, so two systems' lines compare."""
    height = 28
    known = [(i, s) for i, s in enumerate(scores) if s is not None]
    text = escape(label)
    out = [
        f'<svg class="spark" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{text}"><title>{text}</title>',
        f'<line x1="0" x2="{width}" y1="{height - 1}" y2="{height - 1}" stroke="#d1d9e0"/>',
    ]
    if known:
        step = (width - 4) / max(1, len(scores) - 1)

        def y(s: float) -> float:
            return 2 + (100 - s) / 100 * (height - 4)

        points = " ".join(f"{2 + i * step:.1f},{y(s):.1f}" for i, s in known)
        out.append(
            f'<polyline fill="none" stroke="{PALETTE[0]}" stroke-width="1.5" points="{points}"/>'
        )
        i, s = known[-1]
        out.append(f'<circle cx="{2 + i * step:.1f}" cy="{y(s):.1f}" r="2.5" fill="{PALETTE[0]}"/>')
    out.append("</svg>")
    return Markup("".join(out))


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def timeline(intervals: Sequence[Any], *, label: str, now: datetime, width: int = 760) -> Markup:
    """One lane per model, one bar per interval its production alias pointed at a version."""
    models = list(dict.fromkeys(i.model for i in intervals))
    starts = [_utc(i.from_) for i in intervals if i.from_ is not None]
    if not models or not starts:
        return Markup("")
    t0 = min(starts)
    t1 = max([_utc(now), *[_utc(i.until) for i in intervals if i.until is not None]])
    span = max((t1 - t0).total_seconds(), 1.0)
    pad_l, pad_r, lane, top = 130, 10, 30, 8
    height = top + lane * len(models) + 22
    w = width - pad_l - pad_r

    def x(t: datetime) -> float:
        return pad_l + (_utc(t) - t0).total_seconds() / span * w

    text = escape(label)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{text}"><title>{text}</title>',
        '<g font-size="11">',
    ]
    versions = sorted({i.version for i in intervals if i.version is not None})
    for row, model in enumerate(models):
        y = top + row * lane
        out.append(
            f'<text x="{pad_l - 6}" y="{y + 17}" text-anchor="end">{escape(model[:20])}</text>'
        )
        for i in (i for i in intervals if i.model == model and i.from_ is not None):
            if i.version is None:
                continue
            a, b = x(i.from_), x(i.until or t1)
            color = PALETTE[versions.index(i.version) % len(PALETTE)]
            until = "now" if i.until is None else _utc(i.until).strftime("%Y-%m-%d %H:%M")
            tip = f"{model} v{i.version}: {_utc(i.from_).strftime('%Y-%m-%d %H:%M')} – {until}"
            out.append(
                f'<rect x="{a:.1f}" y="{y + 4}" width="{max(b - a, 3):.1f}" height="{lane - 8}" '
                f'fill="{color}"><title>{escape(tip)}</title></rect>'
            )
            if b - a > 24:
                out.append(f'<text x="{a + 4:.1f}" y="{y + 19}" fill="#fff">v{i.version}</text>')
    base = top + lane * len(models) + 14
    out.append(
        f'<g fill="#59636e"><text x="{pad_l}" y="{base}">{t0.strftime("%Y-%m-%d %H:%M")}</text>'
        f'<text x="{width - pad_r}" y="{base}" text-anchor="end">'
        f"{t1.strftime('%Y-%m-%d %H:%M')} UTC</text></g>"
    )
    out.append("</g></svg>")
    return Markup("".join(out))


def duration(start: datetime | None, end: datetime | None, now: datetime) -> str:
    """How long an interval lasted (or has lasted so far), to the unit that matters."""
    if start is None:
        return "–"
    seconds = max(0, int(((_utc(end) if end else _utc(now)) - _utc(start)).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days} d {hours} h"
    elif hours:
        text = f"{hours} h {minutes} min"
    elif minutes:
        text = f"{minutes} min {secs} s"
    else:
        text = f"{secs} s"
    return text + (" so far" if end is None else "")


def safe_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows as text, never evaluates."""
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def csv_text(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: safe_cell(v) for k, v in r.items()} for r in rows)
    return out.getvalue()
