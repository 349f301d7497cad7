"""Drift monitor: each window's merged profile against a reference, feature by feature.

The reference is the baseline's own profile (the training data), or a rolling reference: the
merge of the N windows before. Every measure is computed from counts in the baseline's bins
(never from rows), so a 30-day window costs as much as an hour.

A feature's raw verdict in a window:

- distance methods (psi, kl_div, jensenshannon, hellinger, wasserstein): statistic >= threshold;
- p-value methods (ks, chi_square, anderson): rejected by Benjamini-Hochberg across the
  window's p-value tests at the false discovery rate ``alpha``, AND an effect size at least
  ``min_effect`` (ks and anderson: the largest ECDF gap D; chi_square: the Jensen-Shannon
  distance), so a large window does not flag a shift too small to matter.

A feature is *drifted* when its raw verdict held in ``persistence`` consecutive windows. The
dataset verdict (feature ``__dataset__``) is the share of drifted input features, weighted
by the version's newest feature importance when one exists, against ``share_threshold``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from modelward.errors import InvalidInput
from modelward.monitoring import stats
from modelward.monitoring.monitor_schemas import ResultRow
from modelward.monitoring.profiles import PREDICTION, SCORE
from modelward.monitoring.windows import Span, merge_profiles

DATASET = "__dataset__"
OUTPUTS = (PREDICTION, SCORE)
MAX_ROLLING = 1000
MAX_PERSISTENCE = 100


@dataclass(frozen=True)
class Measured:
    statistic: float | None
    p_value: float | None = None
    effect: float | None = None
    error_bound: float | None = None


@dataclass(frozen=True)
class Pair:
    """One feature's reference and current profiles, with what the measures need."""

    spec: dict[str, Any]
    ref: dict[str, Any]
    cur: dict[str, Any]
    ref_std: float | None

    def binned(self, side: dict[str, Any]) -> list[int]:
        if self.spec["kind"] == "numeric":
            return [side["underflow"], *side["bins"], side["overflow"]]
        cats = side.get("categories", {})
        return [cats.get(c, 0) for c in self.spec["categories"]] + [side.get("unseen", 0)]

    def sketched(self, side: dict[str, Any]) -> list[int]:
        return [side["sketch_under"], *side["sketch"], side["sketch_over"]]

    def bounds(self) -> tuple[float | None, float | None]:
        lows = [s["min"] for s in (self.ref, self.cur) if s.get("min") is not None]
        highs = [s["max"] for s in (self.ref, self.cur) if s.get("max") is not None]
        return (min(lows) if lows else None), (max(highs) if highs else None)


def _distance(fn: Callable[[Any, Any], float | None]) -> Callable[[Pair], Measured]:
    return lambda p: Measured(fn(p.binned(p.ref), p.binned(p.cur)))


def _wasserstein(p: Pair) -> Measured:
    low, high = p.bounds()
    w, bound = stats.wasserstein_from_sketch(
        p.spec["sketch_edges"], p.sketched(p.ref), p.sketched(p.cur), p.ref_std, low=low, high=high
    )
    return Measured(w, error_bound=bound)


def _ks(p: Pair) -> Measured:
    d, p_value, bound = stats.ks_from_sketch(p.sketched(p.ref), p.sketched(p.cur))
    return Measured(d, p_value, d, bound)


def _chi_square(p: Pair) -> Measured:
    ref, cur = p.binned(p.ref), p.binned(p.cur)
    statistic, p_value = stats.chi_square(ref, cur)
    return Measured(statistic, p_value, stats.js_distance(ref, cur))


def _anderson(p: Pair) -> Measured:
    ref, cur = p.binned(p.ref), p.binned(p.cur)
    statistic, p_value = stats.anderson_darling_from_bins(ref, cur)
    d = stats.ks_from_sketch(ref, cur)[0]
    return Measured(statistic, p_value, d)


@dataclass(frozen=True)
class Method:
    compute: Callable[[Pair], Measured]
    kinds: tuple[str, ...]
    uses_p_value: bool
    threshold: float  # distance methods: the drift threshold; p-value ones: the effect floor


METHODS: dict[str, Method] = {
    "psi": Method(_distance(stats.psi), ("numeric", "categorical"), False, 0.1),
    "kl_div": Method(_distance(stats.kl_divergence), ("numeric", "categorical"), False, 0.1),
    "jensenshannon": Method(_distance(stats.js_distance), ("numeric", "categorical"), False, 0.1),
    "hellinger": Method(_distance(stats.hellinger), ("numeric", "categorical"), False, 0.1),
    "wasserstein": Method(_wasserstein, ("numeric",), False, 0.1),
    "ks": Method(_ks, ("numeric",), True, stats.KS_MIN_D),
    "chi_square": Method(_chi_square, ("numeric", "categorical"), True, stats.CHI_SQUARE_MIN_JS),
    "anderson": Method(_anderson, ("numeric",), True, stats.KS_MIN_D),
}


@dataclass(frozen=True)
class FeatureRule:
    method: str | None = None
    threshold: float | None = None
    min_effect: float | None = None


@dataclass(frozen=True)
class DriftSettings:
    features: dict[str, FeatureRule] = field(default_factory=dict)
    persistence: int = 1
    alpha: float = 0.05
    share_threshold: float = 0.5
    rolling: int | None = None  # None: the baseline is the reference

    @property
    def lookback(self) -> int:
        """Windows before the first asked for that verdicts depend on."""
        return self.persistence - 1 + (self.rolling or 0)

    @property
    def reference(self) -> str:
        return "baseline" if self.rolling is None else f"rolling:{self.rolling}"


def _number(value: Any, field: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidInput(f"{field}: must be a number from {low} to {high}", field=field)
    return float(value)


def _integer(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{field}: must be a whole number from {low} to {high}", field=field)
    return value


def _mapping(value: Any, field: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{field}: must be a JSON object", field=field)
    return value


def drift_settings(config: dict[str, Any], baseline: dict[str, Any]) -> DriftSettings:
    """The endpoint's drift settings, every field checked and named when wrong."""
    drift = _mapping(config.get("drift"), "config.drift")
    rules = {}
    for name, raw in _mapping(drift.get("features"), "config.drift.features").items():
        where = f"config.drift.features.{name}"
        rules[name] = _feature_rule(_mapping(raw, where), where, baseline, name)
    reference = _mapping(config.get("reference"), "config.reference")
    rolling = None
    if reference.get("kind", "baseline") == "rolling":
        rolling = _integer(reference.get("windows", 7), "config.reference.windows", 1, MAX_ROLLING)
    elif reference.get("kind", "baseline") != "baseline":
        raise InvalidInput(
            "config.reference.kind: must be 'baseline' or 'rolling'", field="config.reference.kind"
        )
    return DriftSettings(
        features=rules,
        persistence=_integer(
            drift.get("persistence", 1), "config.drift.persistence", 1, MAX_PERSISTENCE
        ),
        alpha=_number(drift.get("alpha", 0.05), "config.drift.alpha", 1e-9, 0.5),
        share_threshold=_number(
            drift.get("share_threshold", 0.5), "config.drift.share_threshold", 0.0, 1.0
        ),
        rolling=rolling,
    )


def _feature_rule(
    raw: dict[str, Any], where: str, baseline: dict[str, Any], name: str
) -> FeatureRule:
    spec = baseline["features"].get(name)
    if spec is None:
        raise InvalidInput(f"{where}: {name!r} is not a monitored feature", field=where)
    method = raw.get("method")
    if method is not None:
        if method not in METHODS:
            raise InvalidInput(
                f"{where}.method: {method!r} is not one of {', '.join(METHODS)}",
                field=f"{where}.method",
            )
        if spec["kind"] not in METHODS[method].kinds:
            raise InvalidInput(
                f"{where}.method: {method} does not apply to a {spec['kind']} feature",
                field=f"{where}.method",
            )
    threshold = raw.get("threshold")
    if threshold is not None:
        if method is None or METHODS[method].uses_p_value:
            raise InvalidInput(
                f"{where}.threshold: applies to a distance method (psi, kl_div, jensenshannon, "
                "hellinger, wasserstein); p-value tests use drift.alpha and min_effect",
                field=f"{where}.threshold",
            )
        threshold = _number(threshold, f"{where}.threshold", 0.0, 1e9)
    min_effect = raw.get("min_effect")
    if min_effect is not None:
        min_effect = _number(min_effect, f"{where}.min_effect", 0.0, 1.0)
    return FeatureRule(method, threshold, min_effect)


def _values(profile: dict[str, Any]) -> int:
    return int(profile.get("count", 0)) + int(profile.get("inf", 0))


def _rolling_std(profile: dict[str, Any]) -> float | None:
    n, total, total_sq = profile.get("count", 0), profile.get("sum"), profile.get("sum_sq")
    if not n or total is None or total_sq is None:
        return None
    mean = total / n
    return float(np.sqrt(max(0.0, total_sq / n - mean * mean)))


@dataclass
class Verdict:
    """One feature in one window, before the cross-feature and cross-window steps."""

    feature: str
    method: str
    threshold: float | None
    uses_p_value: bool
    measured: Measured
    rows: int
    details: dict[str, Any]
    raw: bool = False


def _choose(rule: FeatureRule, spec: dict[str, Any], n_ref: int, n_cur: int) -> tuple[str, float]:
    if rule.method is not None:
        method = METHODS[rule.method]
        return rule.method, rule.threshold if rule.threshold is not None else method.threshold
    n_cats = len(spec.get("categories", []))
    name, _, _ = stats.default_method(spec["kind"], n_ref, n_cur, n_cats)
    return name, METHODS[name].threshold


def feature_verdict(
    name: str,
    spec: dict[str, Any],
    ref: dict[str, Any] | None,
    cur: dict[str, Any] | None,
    rule: FeatureRule,
    ref_std: float | None,
    rows: int,
) -> Verdict:
    n_ref = _values(ref) if ref else 0
    n_cur = _values(cur) if cur else 0
    method_name, threshold = _choose(rule, spec, n_ref, n_cur)
    method = METHODS[method_name]
    if rule.min_effect is not None and method.uses_p_value:
        threshold = rule.min_effect
    details: dict[str, Any] = {"values": n_cur, "reference_values": n_ref}
    if rows == 0:
        details["reason"] = "no data"
    elif n_cur == 0:
        details["reason"] = "no values (every value is null or not a number)"
    elif n_ref == 0:
        details["reason"] = "no reference data"
    if "reason" in details or ref is None or cur is None:
        measured = Measured(None)
    else:
        measured = method.compute(Pair(spec, ref, cur, ref_std))
        if measured.statistic is None:
            details["reason"] = "insufficient data"
    return Verdict(name, method_name, threshold, method.uses_p_value, measured, rows, details)


def window_verdicts(
    baseline: dict[str, Any],
    reference: dict[str, Any] | None,
    current: dict[str, Any] | None,
    settings: DriftSettings,
) -> list[Verdict]:
    """Raw verdicts of every feature in one window, Benjamini-Hochberg applied."""
    rows = int(current["rows"]) if current else 0
    out = []
    for name, spec in baseline["features"].items():
        ref = (reference or {}).get("features", {}).get(name)
        cur = (current or {}).get("features", {}).get(name)
        if settings.rolling is None:
            ref_std = spec.get("std")
        else:
            ref_std = _rolling_std(ref) if ref and spec["kind"] == "numeric" else None
        rule = settings.features.get(name, FeatureRule())
        out.append(feature_verdict(name, spec, ref, cur, rule, ref_std, rows))
    tested = [v for v in out if v.uses_p_value and v.measured.p_value is not None]
    rejected = stats.benjamini_hochberg([v.measured.p_value for v in tested], settings.alpha)
    for v, hit in zip(tested, rejected, strict=True):
        v.details["bh_rejected"] = hit
        v.raw = hit and (v.measured.effect or 0.0) >= (v.threshold or 0.0)
    for v in out:
        if not v.uses_p_value and v.measured.statistic is not None:
            v.raw = v.measured.statistic >= (v.threshold or 0.0)
    return out


def importance_weights(
    importance: dict[str, Any] | None, features: list[str]
) -> tuple[dict[str, float], str]:
    """Non-negative weights per input feature; uniform when no importance covers them."""
    if importance:
        weights = {}
        for f in features:
            value = importance.get(f)
            number = float(value) if isinstance(value, int | float) else float("nan")
            weights[f] = max(0.0, number) if np.isfinite(number) else 0.0
        if sum(weights.values()) > 0:
            return weights, "importance"
    return dict.fromkeys(features, 1.0), "uniform"


def compute_drift(
    baseline: dict[str, Any],
    profiles: list[dict[str, Any] | None],
    spans: list[Span],
    settings: DriftSettings,
    *,
    first: int,
    importance: dict[str, Any] | None = None,
) -> list[ResultRow]:
    """Result rows of the windows ``spans[first:]``; earlier spans feed references and
    persistence (``settings.lookback`` of them)."""
    inputs = [f for f in baseline["features"] if f not in OUTPUTS]
    weights, weighting = importance_weights(importance, inputs)
    streak: dict[str, int] = {}
    out: list[ResultRow] = []
    for i, (span, current) in enumerate(zip(spans, profiles, strict=True)):
        reference = _reference(baseline, profiles, i, settings)
        verdicts = window_verdicts(baseline, reference, current, settings)
        for v in verdicts:
            streak[v.feature] = streak.get(v.feature, 0) + 1 if v.raw else 0
        if i < first:
            continue
        drifted = {v.feature for v in verdicts if streak[v.feature] >= settings.persistence}
        for v in verdicts:
            out.append(_row(span, v, v.feature in drifted, settings))
        out.append(_dataset_row(span, verdicts, drifted, weights, weighting, settings))
    return out


def _reference(
    baseline: dict[str, Any],
    profiles: list[dict[str, Any] | None],
    i: int,
    settings: DriftSettings,
) -> dict[str, Any] | None:
    if settings.rolling is None:
        return baseline["profile"]  # type: ignore[no-any-return]
    previous = [p for p in profiles[max(0, i - settings.rolling) : i] if p is not None]
    return merge_profiles(previous, baseline) if previous else None


def _row(span: Span, v: Verdict, drifted: bool, settings: DriftSettings) -> ResultRow:
    m = v.measured
    details = dict(v.details, reference=settings.reference, raw_flag=v.raw)
    if m.error_bound is not None:
        details["error_bound"] = m.error_bound
    if v.uses_p_value:
        details.update(effect=m.effect, min_effect=v.threshold, alpha=settings.alpha)
    if settings.persistence > 1:
        details["persistence"] = settings.persistence
    return ResultRow(
        kind="drift",
        window_start_ms=span[0],
        window_end_ms=span[1],
        feature=v.feature,
        method=v.method,
        statistic=m.statistic,
        threshold=settings.alpha if v.uses_p_value else v.threshold,
        p_value=m.p_value,
        flagged=drifted,
        rows=v.rows,
        details=details,
    )


def _dataset_row(
    span: Span,
    verdicts: list[Verdict],
    drifted: set[str],
    weights: dict[str, float],
    weighting: str,
    settings: DriftSettings,
) -> ResultRow:
    judged = [
        v.feature for v in verdicts if v.feature in weights and v.measured.statistic is not None
    ]
    total = sum(weights[f] for f in judged)
    share = sum(weights[f] for f in judged if f in drifted) / total if total > 0 else None
    rows = verdicts[0].rows if verdicts else 0
    details: dict[str, Any] = {
        "drifted": sorted(f for f in drifted if f in weights),
        "features": len(judged),
        "share": share,
        "weights": weighting,
        "reference": settings.reference,
    }
    if share is None:
        details["reason"] = "no data" if rows == 0 else "no feature could be compared"
    return ResultRow(
        kind="drift",
        window_start_ms=span[0],
        window_end_ms=span[1],
        feature=DATASET,
        method="share",
        statistic=share,
        threshold=settings.share_threshold,
        p_value=None,
        flagged=share is not None and share >= settings.share_threshold,
        rows=rows,
        details=details,
    )
