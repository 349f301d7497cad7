"""Data quality monitor: per window and feature, the share of bad values; per window, volume.

Checks, each flagged when its value exceeds its threshold (``config.quality`` overrides the
defaults, ``config.quality.features.<name>`` one feature's):

- ``null_rate``: nulls / rows, minus the baseline's own null rate (training data with 10 %
  nulls is not a problem at 10 %); default threshold 0.05.
- ``out_of_range``: numeric values outside [baseline min, baseline max] (the under- and
  overflow of the baseline bins, infinities included) / values; default 0.05.
- ``unseen``: categorical values not among the baseline categories / values; default 0.05.
- ``type_errors``: values that are not numbers in a numeric column / rows; default 0.0.
- volume (feature ``__volume__``): rows against the median rows of the previous windows
  that had data (up to ``lookback``, default 7); an anomaly outside
  [``low`` x median, ``high`` x median] (default [0.5, 2]); no history, no verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modelward.errors import InvalidInput
from modelward.monitoring.drift import _integer, _mapping, _number
from modelward.monitoring.monitor_schemas import ResultRow
from modelward.monitoring.windows import Span

VOLUME = "__volume__"
CHECKS = {"null_rate": 0.05, "out_of_range": 0.05, "unseen": 0.05, "type_errors": 0.0}


@dataclass(frozen=True)
class QualitySettings:
    thresholds: dict[str, float] = field(default_factory=lambda: dict(CHECKS))
    features: dict[str, dict[str, float]] = field(default_factory=dict)
    lookback: int = 7
    low: float = 0.5
    high: float = 2.0

    def threshold(self, feature: str, check: str) -> float:
        return self.features.get(feature, {}).get(check, self.thresholds[check])


def _thresholds(raw: dict[str, Any], where: str) -> dict[str, float]:
    out = {}
    for check in CHECKS:
        if check in raw:
            out[check] = _number(raw[check], f"{where}.{check}", 0.0, 1.0)
    return out


def quality_settings(config: dict[str, Any], baseline: dict[str, Any]) -> QualitySettings:
    quality = _mapping(config.get("quality"), "config.quality")
    features = {}
    for name, raw in _mapping(quality.get("features"), "config.quality.features").items():
        where = f"config.quality.features.{name}"
        if name not in baseline["features"]:
            raise InvalidInput(f"{where}: {name!r} is not a monitored feature", field=where)
        features[name] = _thresholds(_mapping(raw, where), where)
    volume = _mapping(quality.get("volume"), "config.quality.volume")
    low = _number(volume.get("low", 0.5), "config.quality.volume.low", 0.0, 1.0)
    high = _number(volume.get("high", 2.0), "config.quality.volume.high", 1.0, 1e6)
    return QualitySettings(
        thresholds=CHECKS | _thresholds(quality, "config.quality"),
        features=features,
        lookback=_integer(volume.get("lookback", 7), "config.quality.volume.lookback", 1, 1000),
        low=low,
        high=high,
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None


def feature_checks(
    spec: dict[str, Any], cur: dict[str, Any], ref: dict[str, Any] | None, rows: int
) -> dict[str, float | None]:
    """The value of each check that applies to the feature's kind."""
    ref_rows = (ref or {}).get("count", 0) + (ref or {}).get("nulls", 0) + (ref or {}).get("inf", 0)
    base_null = _share((ref or {}).get("nulls", 0), ref_rows) or 0.0
    null_rate = _share(cur["nulls"], rows)
    out: dict[str, float | None] = {
        "null_rate": None if null_rate is None else max(0.0, null_rate - base_null),
    }
    if spec["kind"] == "numeric":
        values = cur["count"] + cur.get("inf", 0)
        out["out_of_range"] = _share(cur["underflow"] + cur["overflow"], values)
        out["type_errors"] = _share(cur["type_errors"], rows)
    else:
        out["unseen"] = _share(cur["unseen"], cur["count"])
    return out


def _feature_row(
    span: Span, name: str, spec: dict[str, Any], cur: dict[str, Any] | None,
    ref: dict[str, Any] | None, rows: int, settings: QualitySettings,
) -> ResultRow:  # fmt: skip
    checks: dict[str, Any] = {}
    if cur is not None and rows > 0:
        for check, value in feature_checks(spec, cur, ref, rows).items():
            limit = settings.threshold(name, check)
            checks[check] = {
                "value": value,
                "threshold": limit,
                "flagged": value is not None and value > limit,
            }
    failed = [c for c, v in checks.items() if v["flagged"]]
    values = [v["value"] for v in checks.values() if v["value"] is not None]
    # Each check's value also at the top level, where alert rules look for it.
    details: dict[str, Any] = {c: v["value"] for c, v in checks.items()}
    details |= {"checks": checks, "failed": failed}
    if cur is not None:
        details |= {"null_count": cur["nulls"], "type_error_count": cur.get("type_errors", 0)}
        if spec["kind"] == "categorical":
            details["unseen_values"] = cur.get("unseen_values", {})
    if rows == 0:
        details["reason"] = "no data"
    return ResultRow(
        kind="quality",
        window_start_ms=span[0],
        window_end_ms=span[1],
        feature=name,
        method="quality",
        statistic=max(values) if values else None,
        threshold=None,
        p_value=None,
        flagged=bool(failed),
        rows=rows,
        details=details,
    )


def _volume_row(span: Span, rows: int, history: list[int], settings: QualitySettings) -> ResultRow:
    seen = [r for r in history[-settings.lookback :] if r > 0]
    details: dict[str, Any] = {"history": len(seen), "low": settings.low, "high": settings.high}
    if not seen:
        details["reason"] = "no history"
        ratio = None
    else:
        median = float(np.median(seen))
        ratio = rows / median
        details["median"] = median
    flagged = ratio is not None and not settings.low <= ratio <= settings.high
    return ResultRow(
        kind="quality",
        window_start_ms=span[0],
        window_end_ms=span[1],
        feature=VOLUME,
        method="volume",
        statistic=ratio,
        threshold=None,
        p_value=None,
        flagged=flagged,
        rows=rows,
        details=details,
    )


def compute_quality(
    baseline: dict[str, Any],
    profiles: list[dict[str, Any] | None],
    spans: list[Span],
    settings: QualitySettings,
    *,
    first: int,
) -> list[ResultRow]:
    """Result rows of the windows ``spans[first:]``; earlier windows are volume history."""
    reference = baseline.get("profile") or {}
    history: list[int] = []
    out: list[ResultRow] = []
    for i, (span, current) in enumerate(zip(spans, profiles, strict=True)):
        rows = int(current["rows"]) if current else 0
        if i >= first:
            for name, spec in baseline["features"].items():
                cur = (current or {}).get("features", {}).get(name)
                ref = reference.get("features", {}).get(name)
                out.append(_feature_row(span, name, spec, cur, ref, rows, settings))
            out.append(_volume_row(span, rows, history, settings))
        history.append(rows)
    return out
