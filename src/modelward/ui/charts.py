"""Charts drawn on the server as inline SVG: no script, no CDN, and a text alternative.

Every chart carries ``role="img"`` with an ``aria-label`` and a ``<title>``; pages put the
same numbers in a table beside it (the ``chart`` macro), so nothing is only visible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

PALETTE = ["#0b5cad", "#cf222e", "#1a7f37", "#9a6700", "#8250df", "#bf3989", "#1b7c83", "#59636e"]


def _open(width: int, height: int, label: str) -> str:
    text = escape(label)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{text}">'
        f"<title>{text}</title>"
    )


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000 or abs(v) < 0.01:
        return f"{v:.3g}"
    return f"{v:.3f}".rstrip("0").rstrip(".")


def _tick(v: float, span: float) -> str:
    """An axis label: a value within a thousandth of the axis' span of zero reads 0 (the
    middle of a range from -1 to 1.0002 is zero to the eye, not 0.000103)."""
    return "0" if abs(v) < abs(span) * 1e-3 else _fmt(v)


def _range(values: Sequence[float]) -> tuple[float, float]:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if lo == hi:
        lo, hi = lo - 0.5 if lo else 0.0, hi + 0.5 if hi else 1.0
    return lo, hi


def line_chart(
    series: dict[str, Sequence[tuple[float, float]]],
    *,
    label: str,
    width: int = 640,
    height: int = 220,
    x_labels: dict[float, str] | None = None,
    y_min: float | None = None,
    y_max: float | None = None,
) -> Markup:
    """One polyline per series over shared axes; points are (x, y)."""
    pad_l, pad_r, pad_t, pad_b = 48, 12, 10, 26
    xs = [x for pts in series.values() for x, _ in pts]
    ys = [y for pts in series.values() for _, y in pts]
    x0, x1 = _range(xs)
    y0, y1 = _range(ys)
    y0 = y0 if y_min is None else y_min
    y1 = y1 if y_max is None else y_max
    w, h = width - pad_l - pad_r, height - pad_t - pad_b

    def px(x: float) -> float:
        return pad_l + (x - x0) / (x1 - x0) * w

    def py(y: float) -> float:
        return pad_t + h - (y - y0) / (y1 - y0) * h

    out = [_open(width, height, label)]
    out.append('<g font-size="10" fill="#59636e">')
    for i in range(5):
        v = y0 + (y1 - y0) * i / 4
        out.append(
            f'<line x1="{pad_l}" x2="{width - pad_r}" y1="{py(v):.1f}" y2="{py(v):.1f}" '
            f'stroke="#d1d9e0"/><text x="{pad_l - 4}" y="{py(v) + 3:.1f}" '
            f'text-anchor="end">{_tick(v, y1 - y0)}</text>'
        )
    for x, text in (x_labels or {}).items():
        out.append(
            f'<text x="{px(x):.1f}" y="{height - 8}" text-anchor="middle">{escape(text)}</text>'
        )
    out.append("</g>")
    for i, (name, pts) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        good = [(x, y) for x, y in pts if y is not None and math.isfinite(y)]
        if not good:
            continue
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in good)
        out.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}">'
            f"<title>{escape(name)}</title></polyline>"
        )
        if len(good) <= 60:
            out.extend(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="{color}"/>'
                for x, y in good
            )
    if len(series) > 1:
        for i, name in enumerate(series):
            color = PALETTE[i % len(PALETTE)]
            y = pad_t + 10 + i * 13
            out.append(
                f'<rect x="{width - pad_r - 130}" y="{y - 8}" width="10" height="10" '
                f'fill="{color}"/><text x="{width - pad_r - 116}" y="{y + 1}" font-size="11">'
                f"{escape(name[:18])}</text>"
            )
    out.append("</svg>")
    return Markup("".join(out))


def bar_chart(
    items: Sequence[tuple[str, float]],
    *,
    label: str,
    width: int = 640,
    bar_height: int = 18,
    color: str = PALETTE[0],
    signed: bool = False,
) -> Markup:
    """Horizontal bars, one per (label, value); ``signed`` draws negatives to the left."""
    pad_l, pad_r = 170, 60
    height = 8 + len(items) * (bar_height + 6)
    values = [abs(v) for _, v in items] or [1.0]
    top = max(values) or 1.0
    w = width - pad_l - pad_r
    zero = pad_l + (w / 2 if signed else 0)
    scale = (w / 2 if signed else w) / top
    out = [_open(width, height, label), '<g font-size="11">']
    for i, (name, value) in enumerate(items):
        y = 4 + i * (bar_height + 6)
        length = abs(value) * scale
        x = zero - length if signed and value < 0 else zero
        fill = PALETTE[1] if signed and value < 0 else color
        out.append(
            f'<text x="{pad_l - 6}" y="{y + bar_height - 5}" text-anchor="end">'
            f"{escape(name[:28])}</text>"
            f'<rect x="{x:.1f}" y="{y}" width="{max(length, 0.5):.1f}" height="{bar_height}" '
            f'fill="{fill}"><title>{escape(name)}: {_fmt(value)}</title></rect>'
            f'<text x="{width - pad_r + 4}" y="{y + bar_height - 5}">{_fmt(value)}</text>'
        )
    out.append("</g></svg>")
    return Markup("".join(out))


def share_bar(parts: Sequence[tuple[str, float]], *, label: str, width: int = 640) -> Markup:
    """One bar split into shares (a traffic plan): each part's fraction of the whole."""
    height = 34
    total = sum(max(v, 0.0) for _, v in parts) or 1.0
    out = [_open(width, height, label)]
    x = 0.0
    for i, (name, value) in enumerate(parts):
        w = max(value, 0.0) / total * width
        color = PALETTE[i % len(PALETTE)]
        out.append(
            f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" fill="{color}">'
            f"<title>{escape(name)}: {value / total:.0%}</title></rect>"
        )
        if w > 60:
            out.append(
                f'<text x="{x + 6:.1f}" y="{height / 2 + 4}" font-size="12" fill="#fff">'
                f"{escape(name[:30])} {value / total:.0%}</text>"
            )
        x += w
    out.append("</svg>")
    return Markup("".join(out))


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    label: str,
    flagged: Sequence[Sequence[bool]] | None = None,
    cell: int = 22,
    max_value: float | None = None,
) -> Markup:
    """Rows × columns of cells shaded by value (darker is larger); flagged cells outlined."""
    pad_l, pad_t = 160, 60
    width = pad_l + max(len(columns), 1) * cell + 10
    height = pad_t + max(len(rows), 1) * cell + 6
    finite = [v for r in values for v in r if v is not None and math.isfinite(v)]
    top = max_value or (max(finite) if finite else 1.0) or 1.0
    out = [_open(width, height, label), '<g font-size="10">']
    for j, col in enumerate(columns):
        x = pad_l + j * cell + cell / 2
        out.append(
            f'<text transform="translate({x:.1f},{pad_t - 6}) rotate(-55)">'
            f"{escape(col[:14])}</text>"
        )
    for i, row in enumerate(rows):
        y = pad_t + i * cell
        out.append(
            f'<text x="{pad_l - 6}" y="{y + cell / 2 + 3:.1f}" text-anchor="end">'
            f"{escape(row[:26])}</text>"
        )
        for j, value in enumerate(values[i]):
            x = pad_l + j * cell
            if value is None or not math.isfinite(value):
                fill, text = "#f6f8fa", "no data"
            else:
                t = min(max(value / top, 0.0), 1.0)
                fill = f"rgb({255 - int(t * 48)},{255 - int(t * 190)},{255 - int(t * 200)})"
                text = _fmt(value)
            stroke = ' stroke="#82071e" stroke-width="2"' if flagged and flagged[i][j] else ""
            out.append(
                f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{fill}"'
                f"{stroke}><title>{escape(row)} · {escape(columns[j])}: {text}"
                f"{' (drift)' if flagged and flagged[i][j] else ''}</title></rect>"
            )
    out.append("</g></svg>")
    return Markup("".join(out))
