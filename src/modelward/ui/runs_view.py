"""What the runs pages show, computed from service answers: the table's columns and links,
metric histories as charts with their tables, and how compared runs differ."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup

from modelward.tracking.filters import BARE_KEY
from modelward.ui import charts
from modelward.ui.format import num

DEFAULT_METRICS = 6
DEFAULT_PARAMS = 4
MAX_CHART_POINTS = 200
PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 50
# Tags the SDK records on every run: shown on the run's page, not as table columns.
SYSTEM_TAG = "mw."


@dataclass(frozen=True)
class TableState:
    """What the runs table was asked for: it survives sorting, paging and picking columns."""

    filter: str
    order_by: str
    metrics: tuple[str, ...]
    params: tuple[str, ...]
    tags: tuple[str, ...]
    picked: bool  # columns chosen by the person, not the defaults
    size: int

    def query(
        self,
        *,
        order_by: str | None = None,
        page: str | None = None,
        back: str | None = None,
        at: int | None = None,
    ) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if self.filter:
            out.append(("filter", self.filter))
        order = self.order_by if order_by is None else order_by
        if order:
            out.append(("order_by", order))
        if self.size != DEFAULT_PAGE_SIZE:
            out.append(("n", str(self.size)))
        if self.picked:
            out.append(("cols", "1"))
            out += [("m", k) for k in self.metrics]
            out += [("p", k) for k in self.params]
            out += [("t", k) for k in self.tags]
        if page:
            out.append(("page", page))
        if back:
            out.append(("back", back))
        if page and at:
            out.append(("at", str(at)))
        return out

    def url(self, base: str, **changes: Any) -> str:
        q = urlencode(self.query(**changes))
        return f"{base}?{q}" if q else base


def choose_columns(
    keys: Any, metrics: Sequence[str], params: Sequence[str], tags: Sequence[str], picked: bool
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The asked-for columns that exist, or a few of each kind by default."""
    if picked:
        return (
            tuple(k for k in metrics if k in keys.metrics),
            tuple(k for k in params if k in keys.params),
            tuple(k for k in tags if k in keys.tags),
        )
    return (tuple(keys.metrics[:DEFAULT_METRICS]), tuple(keys.params[:DEFAULT_PARAMS]), ())


def user_tags(keys: Iterable[str]) -> list[str]:
    return [k for k in keys if not k.startswith(SYSTEM_TAG)]


def ident(entity: str, key: str) -> str:
    """A filter-language identifier for a key: bare where the parser reads it bare,
    back-quoted otherwise, and double-quoted when the key itself holds a back-quote.
    (str.isalnum() would pass "é", which the parser refuses: a header link would then be a
    filter error.)"""
    if BARE_KEY.fullmatch(key):
        return f"{entity}.{key}"
    if "`" not in key:
        return f"{entity}.`{key}`"
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{entity}."{escaped}"'


def sort_link(state: TableState, base: str, column: str) -> dict[str, Any]:
    """The header link that sorts by ``column`` (descending first, then ascending)."""
    current = state.order_by.strip()
    if current.lower() == f"{column.lower()} desc":
        nxt, sort = f"{column} ASC", "descending"
    elif current.lower() in (f"{column.lower()} asc", column.lower()):
        nxt, sort = f"{column} DESC", "ascending"
    else:
        nxt, sort = f"{column} DESC", "none"
    return {"href": state.url(base, order_by=nxt), "sort": sort}


def _sampled(points: Sequence[Any], limit: int) -> tuple[list[Any], int]:
    """At most ``limit`` points, evenly spaced, always keeping the last; and the stride."""
    if len(points) <= limit:
        return list(points), 1
    stride = math.ceil(len(points) / limit)
    kept = list(points[::stride])
    if kept[-1] is not points[-1]:
        kept.append(points[-1])
    return kept, stride


def step_labels(points: Sequence[tuple[float, float]]) -> dict[float, str]:
    """The first, middle and last step under the x axis."""
    if not points:
        return {}
    lo, hi = min(x for x, _ in points), max(x for x, _ in points)
    if lo == hi:
        return {lo: f"step {lo:g}"}
    mid = float(round((lo + hi) / 2))
    return {lo: f"step {lo:g}", mid: f"{mid:g}", hi: f"{hi:g}"}


def history_chart(key: str, points: Sequence[Any]) -> dict[str, Any]:
    """One metric over steps: the chart, its caption, and the same points as a table."""
    shown, stride = _sampled(points, MAX_CHART_POINTS)
    finite = [(float(p.step), p.value) for p in shown if math.isfinite(p.value)]
    label = f"{key} over {len(points)} logged steps"
    caption = f"{key}: {len(points)} points"
    if stride > 1:
        caption += f", 1 in {stride} shown"
    return {
        "key": key,
        "svg": charts.line_chart({key: finite}, label=label, x_labels=step_labels(finite)),
        "caption": caption,
        "head": ["Step", key],
        "rows": [[p.step, num(p.value)] for p in shown],
    }


def overlay_chart(key: str, histories: dict[str, Sequence[Any]]) -> dict[str, Any]:
    """One metric of several runs over steps on shared axes, with a legend and a table."""
    series: dict[str, Sequence[tuple[float, float]]] = {}
    steps: dict[int, dict[str, str]] = {}
    for name, points in histories.items():
        shown, _ = _sampled(points, MAX_CHART_POINTS)
        series[name] = [(float(p.step), p.value) for p in shown if math.isfinite(p.value)]
        for p in shown:
            steps.setdefault(p.step, {})[name] = num(p.value)
    names = list(histories)
    legend = [
        {"name": n, "colour": charts.PALETTE[i % len(charts.PALETTE)]} for i, n in enumerate(names)
    ]
    return {
        "key": key,
        "svg": charts.line_chart(
            series,
            label=f"{key} over steps for {', '.join(names)}",
            x_labels=step_labels([pt for pts in series.values() for pt in pts]),
        ),
        "caption": f"{key} over steps",
        "legend": legend,
        "head": ["Step", *names],
        "rows": [[s, *(steps[s].get(n, "–") for n in names)] for s in sorted(steps)],
    }


def compare_rows(values: Sequence[dict[str, Any]], fmt: Any = str) -> list[dict[str, Any]]:
    """One row per key across the runs; ``differs`` when the runs do not all agree."""
    keys = sorted({k for v in values for k in v})
    rows = []
    for key in keys:
        cells = [v.get(key) for v in values]
        present = [c for c in cells if c is not None]
        same = len(present) == len(cells) and all(_same(c, present[0]) for c in present)
        rows.append(
            {
                "key": key,
                "cells": ["–" if c is None else fmt(c) for c in cells],
                "differs": not same,
            }
        )
    return rows


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def filter_marker(text: str, position: int | None) -> Markup | None:
    """The filter with the character where parsing stopped marked, for the error beside it."""
    if position is None or not 0 <= position <= len(text):
        return None
    from markupsafe import escape

    at = text[position : position + 1] or " "
    return Markup(
        f"<code class='filter-echo'>{escape(text[:position])}<mark>{escape(at)}</mark>"
        f"{escape(text[position + 1 :])}</code>"
    )
