"""The monitoring report: one self-contained HTML page (and a PNG of its main chart).

The report is drawn from a plain ``ReportData`` dict, so it can be built from the SDK
(:func:`collect`) or from any other source of monitor results. Times are epoch
milliseconds (``datetime`` values are accepted and converted) and shown in UTC. Nothing in
the output depends on when it was drawn: the same data gives the same bytes.

Drift cells are coloured by statistic / threshold (1 = on the threshold); a window's
drifted share is the flagged features over the features with a statistic in it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from modelward.errors import InvalidInput
from modelward.monitoring import report_charts as charts

TOP_FEATURES = 5
DATASET = "__dataset__"
COVERAGE = "label_coverage"
_UNITS_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


class DriftRow(TypedDict):
    window_start: int
    window_end: int
    feature: str
    method: str
    statistic: float | None
    threshold: float | None
    flagged: bool
    p_value: NotRequired[float | None]
    # Colour of the cell; statistic / threshold when absent. A test judged by its p-value
    # gives its effect size over the smallest effect that counts instead.
    ratio: NotRequired[float | None]


class Distribution(TypedDict):
    kind: str  # numeric | categorical
    labels: list[str]  # bin ranges or categories, in display order
    reference: list[float]  # counts (shown as shares)
    current: list[float]


class QualityRow(TypedDict):
    feature: str
    null_rate: float | None
    out_of_range: float | None  # share of values outside the training range
    unseen: float | None  # share of categories never seen in training
    type_errors: float | None  # share of values of the wrong type
    flags: list[str]


class PerformancePoint(TypedDict):
    window_start: int
    window_end: int
    realized: float | None
    estimated: float | None
    label_coverage: float | None


class Performance(TypedDict):
    metric: str
    holdout: float | None
    points: list[PerformancePoint]


class AlertRow(TypedDict):
    status: str
    severity: str
    title: str
    first_seen: int
    last_seen: int


class ReportData(TypedDict):
    endpoint: str
    version: str
    window: str  # the monitor window each column covers, e.g. "1d"
    since: int
    until: int
    rows: int
    label_coverage: NotRequired[float | None]
    health: NotRequired[dict[str, Any] | None]  # {"score": 0-100, "status": str}
    drift: NotRequired[list[DriftRow]]
    drift_share_threshold: NotRequired[float | None]
    distributions: NotRequired[dict[str, Distribution]]
    quality: NotRequired[list[QualityRow]]
    performance: NotRequired[Performance | None]
    alerts: NotRequired[list[AlertRow]]


# -- input ------------------------------------------------------------------------------------


def parse_duration(text: str, field: str = "window") -> int:
    """``30m``, ``12h``, ``7d``, ``2w`` as milliseconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text or "")
    if not match or int(match.group(1)) == 0:
        raise InvalidInput(
            f"{field} must be a positive count of m, h, d or w (like 7d), got {text!r}",
            field=field,
        )
    return int(match.group(1)) * _UNITS_MS[match.group(2)]


def to_ms(value: Any, field: str) -> int:
    """Epoch milliseconds from an int or a ``datetime`` (naive means UTC)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(round(aware.timestamp() * 1000))
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
        return to_ms(value.to_pydatetime(), field)
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return int(value)
    raise InvalidInput(f"{field} must be a time (epoch ms or datetime), got {value!r}", field=field)


def _number(value: Any, field: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} must be a number, got {value!r}", field=field) from None
    return number if math.isfinite(number) else None


def _text(data: Mapping[str, Any], key: str, where: str = "") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{where}{key} must be non-empty text", field=f"{where}{key}")
    return value


def normalize(data: Mapping[str, Any]) -> dict[str, Any]:
    """A validated copy of ``data`` with every optional part present; raises InvalidInput."""
    if not isinstance(data, Mapping):
        raise InvalidInput("report data must be a mapping", field="data")
    out: dict[str, Any] = {k: _text(data, k) for k in ("endpoint", "version", "window")}
    out["since"], out["until"] = (
        to_ms(data.get("since"), "since"),
        to_ms(data.get("until"), "until"),
    )
    if out["until"] < out["since"]:
        raise InvalidInput("until must not be before since", field="until")
    out["rows"] = int(_number(data.get("rows", 0), "rows") or 0)
    out["label_coverage"] = _number(data.get("label_coverage"), "label_coverage")
    out["health"] = data.get("health") or None
    for key in ("health", "performance"):
        if data.get(key) is not None and not isinstance(data[key], Mapping):
            raise InvalidInput(f"{key} must be a mapping", field=key)
    out["drift"] = [_drift_row(r, i) for i, r in enumerate(data.get("drift") or [])]
    out["drift_share_threshold"] = _number(
        data.get("drift_share_threshold"), "drift_share_threshold"
    )
    out["distributions"] = _distributions(data.get("distributions") or {})
    out["quality"] = list(data.get("quality") or [])
    out["performance"] = data.get("performance") or None
    out["alerts"] = list(data.get("alerts") or [])
    for key in ("quality", "alerts"):
        for i, item in enumerate(out[key]):
            if not isinstance(item, Mapping):
                raise InvalidInput(f"{key}[{i}] must be a mapping", field=f"{key}[{i}]")
    return out


def _distributions(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInput(
            "distributions must map features to distributions", field="distributions"
        )
    for name, dist in value.items():
        if not isinstance(dist, Mapping):
            raise InvalidInput(
                f"distribution of {name!r} must be a mapping", field=f"distributions.{name}"
            )
    return dict(value)


def _drift_row(row: Any, i: int) -> dict[str, Any]:
    where = f"drift[{i}]."
    if not isinstance(row, Mapping):
        raise InvalidInput(f"drift[{i}] must be a mapping, got {row!r}", field=f"drift[{i}]")
    return {
        "window_start": to_ms(row.get("window_start"), where + "window_start"),
        "window_end": to_ms(row.get("window_end"), where + "window_end"),
        "feature": _text(row, "feature", where),
        "method": str(row.get("method") or ""),
        "statistic": _number(row.get("statistic"), where + "statistic"),
        "threshold": _number(row.get("threshold"), where + "threshold"),
        "flagged": bool(row.get("flagged")),
        "p_value": _number(row.get("p_value"), where + "p_value"),
        "ratio": _number(row.get("ratio"), where + "ratio"),
    }


# -- formatting -------------------------------------------------------------------------------


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _window_labels(starts: list[int]) -> list[str]:
    daily = all(s % _UNITS_MS["d"] == 0 for s in starts)
    fmt = "%Y-%m-%d" if daily else "%m-%d %H:%M"
    return [datetime.fromtimestamp(s / 1000, tz=UTC).strftime(fmt) for s in starts]


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


# -- views: what the template and the charts show ---------------------------------------------


def _ratio(row: dict[str, Any]) -> float | None:
    if row.get("ratio") is not None:
        return float(row["ratio"])
    stat, threshold = row["statistic"], row["threshold"]
    if stat is None or threshold is None or threshold <= 0:
        return None
    return stat / threshold


def drift_view(data: dict[str, Any]) -> dict[str, Any]:
    """Features x windows of statistic / threshold, worst features first, and the share line.

    A ``__dataset__`` row (the drift monitor's weighted dataset verdict) gives its window's
    drifted share and threshold; without one the share is flagged / judged features.
    """
    starts = sorted({r["window_start"] for r in data["drift"]})
    column = {s: i for i, s in enumerate(starts)}
    cells: dict[str, list[dict[str, Any] | None]] = {}
    dataset: list[dict[str, Any] | None] = [None] * len(starts)
    for r in data["drift"]:
        if r["feature"] == DATASET:
            dataset[column[r["window_start"]]] = r
            continue
        cells.setdefault(r["feature"], [None] * len(starts))[column[r["window_start"]]] = r

    def worst(name: str) -> tuple[int, float, str]:
        present = [c for c in cells[name] if c is not None]
        ratios = [x for x in map(_ratio, present) if x is not None]
        return (-sum(c["flagged"] for c in present), -max(ratios, default=0.0), name)

    features = sorted(cells, key=worst)
    share = [
        _drifted_share([cells[f][i] for f in features], dataset[i]) for i in range(len(starts))
    ]
    thresholds = [d["threshold"] for d in dataset if d is not None and d["threshold"] is not None]
    return {
        "windows": _window_labels(starts),
        "features": features,
        "cells": [cells[f] for f in features],
        "ratios": [[None if c is None else _ratio(c) for c in cells[f]] for f in features],
        "flagged": [[bool(c and c["flagged"]) for c in cells[f]] for f in features],
        "share": share,
        "share_threshold": data["drift_share_threshold"]
        if data["drift_share_threshold"] is not None
        else (thresholds[-1] if thresholds else None),
    }


def _drifted_share(
    window: list[dict[str, Any] | None], dataset: dict[str, Any] | None
) -> float | None:
    if dataset is not None:
        return dataset["statistic"]  # type: ignore[no-any-return]
    judged = [c for c in window if c is not None and c["statistic"] is not None]
    return sum(c["flagged"] for c in judged) / len(judged) if judged else None


def _cell_text(cell: dict[str, Any] | None) -> str:
    if cell is None:
        return "—"
    if cell["statistic"] is None:
        return "insufficient data"
    text = f"{_num(cell['statistic'])} / {_num(cell['threshold'])}"
    if cell.get("p_value") is not None:
        text += f" (p {_num(cell['p_value'])})"
    return text + " drifted" if cell["flagged"] else text


def _shares(counts: list[Any]) -> list[float]:
    values = [max(float(c or 0), 0.0) for c in counts]
    total = sum(values)
    return [v / total if total else 0.0 for v in values]


def distribution_views(data: dict[str, Any], ranked: list[str]) -> list[dict[str, Any]]:
    """Reference vs current shares for the most drifted features that have distributions."""
    dists = data["distributions"]
    chosen = [f for f in ranked if f in dists] or sorted(dists)
    views = []
    for name in chosen[:TOP_FEATURES]:
        d = dists[name]
        labels = [str(x) for x in d.get("labels", [])]
        ref, cur = _shares(list(d.get("reference", []))), _shares(list(d.get("current", [])))
        if not (len(labels) == len(ref) == len(cur)):
            raise InvalidInput(
                f"distribution of {name!r} needs as many labels as reference and current counts",
                field=f"distributions.{name}",
            )
        views.append(
            {
                "feature": name,
                "kind": str(d.get("kind", "numeric")),
                "labels": labels,
                "reference_share": ref,
                "current_share": cur,
                "rows": [
                    (lab, _pct(r), _pct(c)) for lab, r, c in zip(labels, ref, cur, strict=True)
                ],
            }
        )
    return views


def quality_view(data: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for i, q in enumerate(data["quality"]):
        where = f"quality[{i}]."
        rows.append(
            {
                "feature": _text(q, "feature", where),
                "cells": [
                    _pct(_number(q.get(k), where + k))
                    for k in ("null_rate", "out_of_range", "unseen", "type_errors")
                ],
                "flags": [str(f) for f in q.get("flags") or []],
            }
        )
    return rows


def performance_view(data: dict[str, Any]) -> dict[str, Any] | None:
    perf = data["performance"]
    if not perf or not perf.get("points"):
        return None
    points = sorted(perf["points"], key=lambda p: to_ms(p.get("window_start"), "window_start"))

    def col(key: str) -> list[float | None]:
        return [_number(p.get(key), f"performance.{key}") for p in points]

    view: dict[str, Any] = {
        "metric": str(perf.get("metric") or "metric"),
        "holdout": _number(perf.get("holdout"), "performance.holdout"),
        "windows": _window_labels([to_ms(p["window_start"], "window_start") for p in points]),
        "realized": col("realized"),
        "estimated": col("estimated"),
        "label_coverage": col("label_coverage"),
    }
    view["rows"] = [
        (w, _num(r), _num(e), _pct(c))
        for w, r, e, c in zip(
            view["windows"],
            view["realized"],
            view["estimated"],
            view["label_coverage"],
            strict=True,
        )
    ]
    return view


def alerts_view(data: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for i, a in enumerate(data["alerts"]):
        where = f"alerts[{i}]."
        rows.append(
            {
                "status": str(a.get("status", "")),
                "severity": str(a.get("severity", "")),
                "title": str(a.get("title", "")),
                "first_seen": _when(to_ms(a.get("first_seen"), where + "first_seen")),
                "last_seen": _when(to_ms(a.get("last_seen"), where + "last_seen")),
            }
        )
    return rows


def header_view(data: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = [
        ("Endpoint", data["endpoint"]),
        ("Model version", data["version"]),
        ("Window", data["window"]),
        ("Period", f"{_when(data['since'])} to {_when(data['until'])}"),
        ("Rows", f"{data['rows']:,}"),
        ("Label coverage", _pct(data["label_coverage"])),
    ]
    health = data["health"]
    if health:
        score = _number(health.get("score"), "health.score")
        status = f" ({health['status']})" if health.get("status") else ""
        pairs.append(("Health", f"{_num(score)} / 100{status}"))
    return pairs


def build_view(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the page shows, charts included, from validated ``ReportData``."""
    data = normalize(raw)
    drift = drift_view(data)
    dists = distribution_views(data, drift["features"])
    perf = performance_view(data)
    return {
        "title": f"Monitoring report: {data['endpoint']}",
        "header": header_view(data),
        "drift": drift,
        "drift_rows": [
            (f, [_cell_text(c) for c in cells])
            for f, cells in zip(drift["features"], drift["cells"], strict=True)
        ],
        "share_rows": list(zip(drift["windows"], [_pct(s) for s in drift["share"]], strict=True)),
        "drift_svg": charts.to_svg(charts.drift_figure, drift, salt="drift")
        if drift["features"]
        else None,
        "distributions": [
            {**d, "svg": charts.to_svg(charts.distribution_figure, d, salt=f"dist{i}")}
            for i, d in enumerate(dists)
        ],
        "quality": quality_view(data),
        "performance": perf,
        "performance_svg": charts.to_svg(charts.performance_figure, perf, salt="perf")
        if perf
        else None,
        "alerts": alerts_view(data),
        "heatmap_limit": charts.HEATMAP_MAX_FEATURES,
    }


# -- output -----------------------------------------------------------------------------------


@cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(data: Mapping[str, Any]) -> str:
    """The report as one HTML page: inline CSS and SVG, no script; all user text escaped."""
    from markupsafe import Markup

    view = build_view(data)
    # The SVGs come from matplotlib, which escapes the text it writes; the page embeds them.
    view["drift_svg"] = Markup(view["drift_svg"]) if view["drift_svg"] else None
    view["performance_svg"] = Markup(view["performance_svg"]) if view["performance_svg"] else None
    for d in view["distributions"]:
        d["svg"] = Markup(d["svg"])
    return str(_environment().get_template("report.html.j2").render(v=view))


def render_png(data: Mapping[str, Any]) -> bytes:
    """The main chart (drift heatmap over the drifted-share line) as a 1200 x 600 PNG."""
    view = drift_view(normalize(data))
    if not view["features"]:
        raise InvalidInput("no drift results in the period: nothing to chart", field="drift")
    return charts.drift_png(view)


# -- from the SDK -----------------------------------------------------------------------------


def feature_distribution(
    spec: dict[str, Any], reference: dict[str, Any], current: dict[str, Any]
) -> Distribution:
    """A :class:`Distribution` from a baseline feature spec and two of its FeatureProfiles.

    Numeric features use the baseline's decile bins, with values outside the training range
    shown as their own bars when there are any; categorical ones the baseline categories
    and one bar for every unseen value.
    """
    if spec["kind"] == "numeric":
        edges = [float(e) for e in spec["edges"]]
        labels = [f"[{edges[i]:.4g}, {edges[i + 1]:.4g})" for i in range(len(edges) - 1)]
        if labels:
            labels[-1] = labels[-1][:-1] + "]"
        ref, cur = list(reference["bins"]), list(current["bins"])
        if reference["underflow"] or current["underflow"]:
            labels, ref, cur = (
                [f"< {edges[0]:.4g}", *labels],
                [reference["underflow"], *ref],
                [current["underflow"], *cur],
            )
        if reference["overflow"] or current["overflow"]:
            labels += [f"> {edges[-1]:.4g}"]
            ref, cur = [*ref, reference["overflow"]], [*cur, current["overflow"]]
        return {"kind": "numeric", "labels": labels, "reference": ref, "current": cur}
    categories = [str(c) for c in spec["categories"]]
    ref = [reference["categories"].get(c, 0) for c in categories] + [reference["unseen"]]
    cur = [current["categories"].get(c, 0) for c in categories] + [current["unseen"]]
    return {
        "kind": "categorical",
        "labels": [*categories, "(unseen)"],
        "reference": ref,
        "current": cur,
    }


def records(results: Any) -> list[dict[str, Any]]:
    """Monitor results as plain dicts, from a DataFrame, pydantic models or mappings."""
    if results is None:
        return []
    if hasattr(results, "to_dict") and hasattr(results, "columns"):  # a DataFrame
        return list(results.to_dict("records"))
    return [r.model_dump() if hasattr(r, "model_dump") else dict(r) for r in results]


def drift_part(results: list[dict[str, Any]]) -> list[DriftRow]:
    """Drift rows from the drift monitor's results (``__dataset__`` included)."""
    rows = []
    for r in results:
        details = r.get("details") or {}
        p_value = _number(r.get("p_value"), "p_value")
        ratio = None
        if p_value is not None and details.get("min_effect"):
            effect = _number(details.get("effect"), "details.effect")
            ratio = None if effect is None else effect / float(details["min_effect"])
        rows.append(
            DriftRow(
                window_start=to_ms(r["window_start"], "window_start"),
                window_end=to_ms(r["window_end"], "window_end"),
                feature=str(r["feature"]),
                method=str(r.get("method") or ""),
                statistic=_number(r.get("statistic"), "statistic"),
                threshold=_number(r.get("threshold"), "threshold"),
                # the SDK's drift frame names its verdict column "drifted"
                flagged=bool(r.get("drifted", r.get("flagged"))),
                p_value=p_value,
                ratio=ratio,
            )
        )
    return rows


_QUALITY_CHECKS = ("null_rate", "out_of_range", "unseen", "type_errors")


def quality_part(results: list[dict[str, Any]]) -> list[QualityRow]:
    """Per feature, each check's worst window in the period and every check that failed."""
    worst: dict[str, dict[str, Any]] = {}
    for r in results:
        row = worst.setdefault(str(r["feature"]), {"flags": set()})
        details = r.get("details") or {}
        for check, value in (details.get("checks") or {}).items():
            v = _number(value.get("value"), f"{check}.value")
            if check in _QUALITY_CHECKS and v is not None:
                row[check] = max(v, row.get(check, v))
        row["flags"] |= {c.replace("_", " ") for c in details.get("failed") or []}
        if r.get("method") == "volume" and r.get("flagged"):
            row["flags"].add("volume")
    return [
        QualityRow(
            feature=name,
            null_rate=row.get("null_rate"),
            out_of_range=row.get("out_of_range"),
            unseen=row.get("unseen"),
            type_errors=row.get("type_errors"),
            flags=sorted(row["flags"]),
        )
        for name, row in sorted(worst.items())
    ]


def performance_part(results: list[dict[str, Any]]) -> Performance | None:
    """One metric's realized and estimated values by window, label coverage and holdout."""
    realized = [r for r in results if r.get("method") == "realized"]
    found = {str(r["feature"]) for r in realized}
    preferred = ("roc_auc", "accuracy", "f1", "r2", "rmse", "mae", "log_loss")
    metric = next((m for m in preferred if m in found), min(found, default=None))
    if metric is None:
        return None
    points: dict[int, dict[str, Any]] = {}
    holdout = None
    for r in results:
        start = to_ms(r["window_start"], "window_start")
        point = points.setdefault(
            start, {"window_start": start, "window_end": to_ms(r["window_end"], "window_end")}
        )
        key = {metric: "realized", f"estimated.{metric}": "estimated", COVERAGE: "label_coverage"}
        if r["feature"] in key:
            point[key[r["feature"]]] = _number(r.get("statistic"), "statistic")
        if r["feature"] == metric and (r.get("details") or {}).get("holdout") is not None:
            holdout = _number(r["details"]["holdout"], "holdout")
    return Performance(metric=metric, holdout=holdout, points=[points[k] for k in sorted(points)])  # type: ignore[misc]


def label_coverage(results: list[dict[str, Any]]) -> float | None:
    """Labeled predictions over predictions in the period, from the coverage rows."""
    rows = [r for r in results if r["feature"] == COVERAGE]
    total = sum(int(r.get("rows") or 0) for r in rows)
    labeled = sum(int((r.get("details") or {}).get("labeled") or 0) for r in rows)
    return labeled / total if total else None


def distributions_part(
    baseline: dict[str, Any], profiles: list[dict[str, Any]]
) -> dict[str, Distribution]:
    """Every feature's training vs period distribution, from the period's segment profiles."""
    from modelward.monitoring.windows import merge_profiles

    current = merge_profiles(profiles, baseline)["features"]
    reference = baseline["profile"]["features"]
    return {
        name: feature_distribution(spec, reference[name], current[name])
        for name, spec in baseline["features"].items()
        if name in current and name in reference
    }


def alerts_part(alerts: list[Any], since: int, until: int) -> list[AlertRow]:
    """Alerts active at some time in ``[since, until)``."""
    out = []
    for a in alerts:
        first, last = to_ms(a.first_seen_at, "first_seen"), to_ms(a.last_seen_at, "last_seen")
        if first < until and last >= since:
            out.append(
                AlertRow(
                    status=a.status,
                    severity=a.severity,
                    title=a.title,
                    first_seen=first,
                    last_seen=last,
                )
            )
    return sorted(out, key=lambda a: (a["first_seen"], a["title"]))


MONITOR_CALLS = ("drift", "quality", "performance", "list_alerts", "get_baseline", "list_segments")


def collect(client: Any, endpoint: str, since: Any, until: Any, window: str) -> ReportData:
    """Gather ``ReportData`` for ``endpoint`` over ``[since, until)`` in ``window`` steps.

    Drift, quality and performance come from ``client.drift / quality / performance(endpoint,
    since=, until=, window=)`` (monitor results, one row per window and feature); raises
    NotImplementedError while the client lacks one of :data:`MONITOR_CALLS`.
    """
    parse_duration(window)
    missing = [m for m in MONITOR_CALLS if not callable(getattr(client, m, None))]
    if missing:
        raise NotImplementedError("the client has no " + ", ".join(missing) + " call")
    ep = client.get_endpoint(endpoint)
    start, end = to_ms(since, "since"), to_ms(until, "until")
    span = {"since": since, "until": until, "window": window}
    performance = records(client.performance(endpoint, **span))
    baseline = client.get_baseline(endpoint)
    segments = client.list_segments(endpoint, since, until, profiles=True)
    # Segments profiled against another version's baseline have other bins: counted, not drawn.
    profiles = [s.profile for s in segments if s.baseline_digest == baseline.digest and s.profile]
    health = client.endpoint_health(endpoint) if hasattr(client, "endpoint_health") else None
    return ReportData(
        endpoint=ep.name,
        version=ep.ref,
        window=window,
        since=start,
        until=end,
        rows=sum(s.rows for s in segments),
        label_coverage=label_coverage(performance),
        health=None if health is None or health.score is None else {"score": health.score},
        drift=drift_part(records(client.drift(endpoint, **span))),
        distributions=distributions_part(baseline.baseline, profiles),
        quality=quality_part(records(client.quality(endpoint, **span))),
        performance=performance_part(performance),
        alerts=alerts_part(client.list_alerts(endpoint, limit=1000), start, end),
    )
