"""Monitoring results shaped for pages: the drift heatmap, distributions, quality and
performance tables. Only arrangement: every figure comes from the monitoring operations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from modelward.ui import charts
from modelward.ui import format as fmt

SPECIAL = ("__dataset__", "__prediction__", "__score__")


def _label(start: Any, window: str) -> str:
    return start.strftime("%m-%d %H:%M" if window.endswith("h") else "%m-%d")


def drift_heatmap(results: Sequence[Any], window: str, name: str) -> dict[str, Any]:
    starts = sorted({r.window_start for r in results})
    features = sorted({r.feature for r in results if r.feature != "__dataset__"})
    cells = {(r.feature, r.window_start): r for r in results}
    values: list[list[float | None]] = []
    flagged: list[list[bool]] = []
    table = []
    for f in features:
        row_v, row_f, row_t = [], [], [f]
        for s in starts:
            r = cells.get((f, s))
            v = None if r is None or not r.rows else _effect(r)
            row_v.append(v)
            row_f.append(bool(r and r.flagged))
            row_t.append(
                "no data" if v is None else fmt.num(v, 3) + (" drifted" if r and r.flagged else "")
            )
        values.append(row_v)
        flagged.append(row_f)
        table.append(row_t)
    columns = [_label(s, window) for s in starts]
    svg = charts.heatmap(
        features,
        columns,
        values,
        flagged=flagged,
        label=f"drift of each feature per {window} window of {name}; outlined cells drifted",
    )
    verdicts = []
    for s in starts:
        r = cells.get(("__dataset__", s))
        verdicts.append((_label(s, window), r))
    return {
        "svg": svg,
        "head": ["Feature", *columns],
        "rows": table,
        "starts": starts,
        "verdicts": verdicts,
        "features": [f for f in features if f not in SPECIAL],
    }


def _effect(r: Any) -> float | None:
    effect = (r.details or {}).get("effect")
    return float(effect) if effect is not None else r.statistic


def distribution_charts(d: Any) -> dict[str, Any]:
    ref_total = sum(d.reference) or 1
    cur_total = sum(d.current) or 1
    ref = [(lab, n / ref_total) for lab, n in zip(d.labels, d.reference, strict=True)]
    cur = [(lab, n / cur_total) for lab, n in zip(d.labels, d.current, strict=True)]
    return {
        "reference_svg": charts.bar_chart(
            ref, label=f"training distribution of {d.feature} (share per bin)", width=480
        ),
        "current_svg": charts.bar_chart(
            cur,
            label=f"distribution of {d.feature} in the window (share per bin)",
            width=480,
            color=charts.PALETTE[1],
        ),
        "rows": [
            (lab, r, fmt.pct(r / ref_total, 1), c, fmt.pct(c / cur_total, 1))
            for lab, r, c in zip(d.labels, d.reference, d.current, strict=True)
        ],
    }


def quality_rows(results: Sequence[Any]) -> list[dict[str, Any]]:
    """The newest window with predictions: one row per feature."""
    with_rows = [r for r in results if r.rows]
    if not with_rows:
        return []
    newest = max(r.window_start for r in with_rows)
    out = []
    for r in sorted(
        (r for r in results if r.window_start == newest), key=lambda r: (not r.flagged, r.feature)
    ):
        checks = (r.details or {}).get("checks") or {}
        out.append(
            {
                "feature": r.feature,
                "window_start": newest,
                "rows": r.rows,
                "flagged": r.flagged,
                "checks": ", ".join(
                    f"{k} {fmt.num(v.get('value'), 3)}" + (" (failed)" if v.get("flagged") else "")
                    for k, v in checks.items()
                )
                or (r.details or {}).get("reason", ""),
            }
        )
    return out


def performance_view(results: Sequence[Any], window: str, name: str) -> dict[str, Any]:
    realized = [r for r in results if r.method == "realized" and r.statistic is not None]
    coverage = {r.window_start: r for r in results if r.feature == "label_coverage"}
    series: dict[str, list[tuple[float, float]]] = {}
    for r in realized:
        if r.feature in ("roc_auc", "accuracy", "f1", "precision", "recall"):
            series.setdefault(r.feature, []).append((r.window_start.timestamp(), r.statistic))
    svg: Markup | None = None
    if series:
        svg = charts.line_chart(
            {k: v for k, v in series.items()},
            label=f"realized metrics per {window} window of {name}",
            y_min=0,
            y_max=1,
        )
    starts = sorted({r.window_start for r in results})
    metrics = sorted(series)
    by = {(r.feature, r.window_start): r for r in realized}
    rows = []
    for s in starts:
        cov = coverage.get(s)
        labeled = (cov.details or {}).get("labeled") if cov else None
        rows.append(
            [
                _label(s, window),
                cov.rows if cov else 0,
                labeled if labeled is not None else "–",
                fmt.pct(cov.statistic, 1) if cov and cov.statistic is not None else "–",
                *[
                    fmt.num(by[(m, s)].statistic, 3) + (" degraded" if by[(m, s)].flagged else "")
                    if (m, s) in by
                    else "–"
                    for m in metrics
                ],
            ]
        )
    return {
        "svg": svg,
        "head": ["Window", "Predictions", "Labeled", "Label coverage", *metrics],
        "rows": rows,
    }
