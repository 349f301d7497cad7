"""Judge a challenger against the primary from their merged per-arm statistics.

Each check compares one aspect (sample size, error rate, latency p95 and p99, prediction
drift, quality on delayed labels) and says pass, fail, pause (not enough data yet) or n/a
(nothing to compare). Any fail fails the verdict; otherwise any pause pauses it. The checks,
statistics and default thresholds are described in docs/canary-analysis.md.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
from scipy import stats as sps

from modelward.errors import InvalidInput
from modelward.monitoring.stats import psi
from modelward.serving.arm_stats import ArmStats

# A difference must be this unlikely under "both arms are the same" before it fails a check,
# so that noise alone never rolls a challenger back.
SIGNIFICANCE = 0.01
# Reported standardized mean difference when both arms predict constants that differ.
SMD_CAP = 1e6


@dataclass(frozen=True)
class Thresholds:
    """Limits of the analysis; a plan's ``analysis`` object overrides any of them."""

    min_requests: int = 200
    max_error_rate_increase: float = 0.01
    max_p95_ratio: float = 1.5
    max_p99_ratio: float = 2.0
    min_latency_delta_ms: float = 5.0
    max_prediction_drift: float = 0.2
    max_quality_drop: float = 0.05
    min_labels: int = 100

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Thresholds:
        """Defaults overridden by ``d``; an unknown key or a value out of range raises
        ``InvalidInput`` naming ``analysis.<key>`` and the allowed range."""
        if d is None:
            return cls()
        if not isinstance(d, dict):
            raise InvalidInput("analysis: must be an object of thresholds", field="analysis")
        values: dict[str, Any] = {}
        for key, value in d.items():
            if key not in _RANGES:
                known = ", ".join(_RANGES)
                raise InvalidInput(
                    f"analysis.{key}: unknown threshold (known: {known})", field=f"analysis.{key}"
                )
            values[key] = _in_range(key, value)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Every threshold by name; ``from_dict`` accepts it back."""
        return asdict(self)


# key -> (whole number?, lowest, highest)
_RANGES: dict[str, tuple[bool, float, float]] = {
    "min_requests": (True, 1, 10_000_000),
    "max_error_rate_increase": (False, 0.0, 1.0),
    "max_p95_ratio": (False, 1.0, 1000.0),
    "max_p99_ratio": (False, 1.0, 1000.0),
    "min_latency_delta_ms": (False, 0.0, 30_000.0),
    "max_prediction_drift": (False, 0.0, 100.0),
    "max_quality_drop": (False, 0.0, 1.0),
    "min_labels": (True, 1, 10_000_000),
}
assert set(_RANGES) == {f.name for f in fields(Thresholds)}


def _in_range(key: str, value: Any) -> int | float:
    whole, low, high = _RANGES[key]
    kind = "a whole number" if whole else "a number"
    ok = (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and low <= value <= high
        and (not whole or float(value).is_integer())
    )
    if not ok:
        raise InvalidInput(
            f"analysis.{key}: must be {kind} from {low:g} to {high:g}, got {value!r}",
            field=f"analysis.{key}",
        )
    return int(value) if whole else float(value)


@dataclass
class Quality:
    """Each arm's quality on its predictions that have delayed labels by now."""

    metric: str
    higher_is_better: bool
    primary: float | None
    challenger: float | None
    primary_n: int
    challenger_n: int


@dataclass
class Check:
    """One aspect of the comparison. ``limit`` bounds the challenger's figure (for
    ``sample`` the requests each arm needs; for ``prediction_drift`` the drift)."""

    name: str
    primary: float | None
    challenger: float | None
    limit: float | None
    outcome: str
    message: str


@dataclass
class Verdict:
    outcome: str
    checks: list[Check]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: outcome, reason and every check (non-finite figures become None)."""
        checks = []
        for c in self.checks:
            row = asdict(c)
            for key in ("primary", "challenger", "limit"):
                row[key] = _finite(row[key])
            checks.append(row)
        return {"outcome": self.outcome, "reason": self.reason, "checks": checks}


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


# ---------------------------------------------------------------------- the verdict


def judge(
    primary: ArmStats,
    challenger: ArmStats,
    thresholds: Thresholds,
    quality: Quality | None = None,
) -> Verdict:
    """Compare the challenger with the primary: fail, pause (too little data) or pass."""
    t = thresholds
    sample = check_sample(primary, challenger, t)
    enough = sample.outcome == "pass"
    checks = [
        sample,
        check_error_rate(primary, challenger, t, enough),
        check_latency(primary, challenger, 0.95, t.max_p95_ratio, t, enough),
        check_latency(primary, challenger, 0.99, t.max_p99_ratio, t, enough),
        check_prediction_drift(primary, challenger, t, enough),
        check_quality(quality, t),
    ]
    for outcome in ("fail", "pause"):
        first = next((c for c in checks if c.outcome == outcome), None)
        if first is not None:
            return Verdict(outcome, checks, f"{first.name}: {first.message}")
    judged = sum(c.outcome == "pass" for c in checks)
    return Verdict("pass", checks, f"the challenger is within every limit ({judged} checks)")


def check_sample(primary: ArmStats, challenger: ArmStats, t: Thresholds) -> Check:
    """Both arms need ``min_requests`` in the step before anything else is judged."""
    need = t.min_requests
    p, c = primary.requests, challenger.requests
    short = [(arm, n) for arm, n in (("challenger", c), ("primary", p)) if n < need]
    if not short:
        message = f"primary {p} and challenger {c} requests, at least {need} each"
        return Check("sample", p, c, need, "pass", message)
    parts = [f"{arm} has {n} of the {need} requests needed ({need - n} more)" for arm, n in short]
    return Check("sample", p, c, need, "pause", "; ".join(parts))


def _pvalue_more_errors(primary: ArmStats, challenger: ArmStats) -> float:
    """One-sided Fisher exact test: how likely the challenger's excess of errors is by chance.

    Fisher's test is exact at any size and scipy computes it in microseconds, so there is
    no need for a normal approximation on large counts.
    """
    table = [
        [challenger.errors, challenger.requests - challenger.errors],
        [primary.errors, primary.requests - primary.errors],
    ]
    return float(sps.fisher_exact(table, alternative="greater").pvalue)


def check_error_rate(primary: ArmStats, challenger: ArmStats, t: Thresholds, enough: bool) -> Check:
    """Fail on an increase above the limit that is also significant.

    Before ``min_requests`` it fails only on overwhelming errors: at least half of
    ``min_requests`` already failed, so the challenger's error rate at ``min_requests``
    would be 50% or more however its next requests went.
    """
    pr, cr = primary.error_rate(), challenger.error_rate()
    if pr is None or cr is None:
        return Check("error_rate", pr, cr, None, "pause", "no requests to compare yet")
    limit = _tidy(pr + t.max_error_rate_increase)
    figures = f"challenger {_pct(cr)} vs primary {_pct(pr)} errors"
    if cr <= limit:
        outcome, so_far = ("pass", "") if enough else ("pause", " so far")
        return Check("error_rate", pr, cr, limit, outcome, f"{figures}{so_far}")
    p = _pvalue_more_errors(primary, challenger)
    significant = p < SIGNIFICANCE
    overwhelming = 2 * challenger.errors >= t.min_requests
    if significant and (enough or overwhelming):
        early = "" if enough else f", already {challenger.errors} errors"
        message = (
            f"{figures}: up {_pts(cr - pr)}, more than the {_pts(t.max_error_rate_increase)} "
            f"allowed (p={p:.2g}{early})"
        )
        return Check("error_rate", pr, cr, limit, "fail", message)
    message = f"{figures}: up {_pts(cr - pr)} but not significantly (p={p:.2g})"
    return Check("error_rate", pr, cr, limit, "pass" if enough else "pause", message)


BEYOND_QUANTILE = 5


def check_latency(
    primary: ArmStats,
    challenger: ArmStats,
    q: float,
    max_ratio: float,
    t: Thresholds,
    enough: bool,
) -> Check:
    """Fail when the challenger's quantile is both ``max_ratio`` times the primary's and
    more than ``min_latency_delta_ms`` slower; ``limit`` is the slowest it may be."""
    name = f"latency_p{round(q * 100)}"
    pq, cq = primary.latency_quantile(q), challenger.latency_quantile(q)
    if pq is None or cq is None or not enough:
        return Check(name, pq, cq, None, "pause", "waiting for the sample")
    # The quantile is judged once BEYOND_QUANTILE requests lie past it in each arm. With
    # fewer it is one of the slowest few requests seen, and one or two hiccups (a collection,
    # a busy neighbour) would decide. Such a quantile is shown, not judged.
    needed = math.ceil(BEYOND_QUANTILE / (1 - q) - 1e-9)
    if min(primary.requests, challenger.requests) < needed:
        message = f"not judged: p{round(q * 100)} needs {needed} requests per arm"
        return Check(name, pq, cq, None, "n/a", message)
    limit = _tidy(max(pq * max_ratio, pq + t.min_latency_delta_ms))
    label = f"p{round(q * 100)}"
    figures = f"challenger {label} {cq:g} ms vs primary {pq:g} ms"
    if cq > limit:
        message = (
            f"{figures}: x{cq / pq:.2f} > x{max_ratio:g} and +{cq - pq:g} ms > "
            f"{t.min_latency_delta_ms:g} ms"
        )
        return Check(name, pq, cq, limit, "fail", message)
    return Check(name, pq, cq, limit, "pass", f"{figures} (at most {limit:g} ms)")


# ---------------------------------------------------------------------- prediction drift


def check_prediction_drift(
    primary: ArmStats, challenger: ArmStats, t: Thresholds, enough: bool
) -> Check:
    """Fail when the challenger's predictions are distributed differently from the
    primary's by more than ``max_prediction_drift`` and significantly so."""
    measured = _drift(primary, challenger)
    if measured is None:
        why = _why_no_drift(primary, challenger)
        return Check("prediction_drift", None, None, None, "n/a", why)
    what, statistic, p = measured
    limit = t.max_prediction_drift
    if not enough:
        return Check("prediction_drift", None, statistic, limit, "pause", "waiting for the sample")
    figures = f"{what} {statistic:.3g}"
    if statistic > limit and p < SIGNIFICANCE:
        message = f"{figures} > {limit:g} (p={p:.2g})"
        return Check("prediction_drift", None, statistic, limit, "fail", message)
    if statistic > limit:
        message = f"{figures} > {limit:g} but not significant (p={p:.2g})"
    else:
        message = f"{figures} <= {limit:g}"
    return Check("prediction_drift", None, statistic, limit, "pass", message)


def _drift(primary: ArmStats, challenger: ArmStats) -> tuple[str, float, float] | None:
    """(what was measured, statistic, p-value) on the richest form both arms share."""
    if primary.score_count() and challenger.score_count():
        return _psi_test("PSI of scores", primary.scores, challenger.scores)
    if primary.label_count() and challenger.label_count():
        keys = sorted(set(primary.labels) | set(challenger.labels))
        return _psi_test(
            "PSI of labels",
            [primary.labels.get(k, 0) for k in keys],
            [challenger.labels.get(k, 0) for k in keys],
        )
    p, c = primary.value_mean_std(), challenger.value_mean_std()
    if p is not None and c is not None:
        return _smd_test(p, primary.value_count, c, challenger.value_count)
    return None


def _psi_test(what: str, ref: list[int], cur: list[int]) -> tuple[str, float, float]:
    """Bias-corrected PSI with the primary as reference, and a chi-square test of
    homogeneity.

    Two samples of one distribution show a PSI of about ``(k - 1) (1/n1 + 1/n2)`` over ``k``
    occupied bins from sampling alone (0.3 at 130 requests per arm over 20 bins): that much
    is subtracted, so the figure estimates the real difference and the threshold means the
    same at any sample size.
    """
    raw = psi(ref, cur)
    assert raw is not None  # both arms have counts
    table = np.array([ref, cur], dtype=np.float64)
    table = table[:, table.sum(axis=0) > 0]
    n1, n2 = float(sum(ref)), float(sum(cur))
    bias = (table.shape[1] - 1) * (1 / n1 + 1 / n2)
    statistic = max(0.0, raw - bias)
    if table.shape[1] < 2:
        return what, statistic, 1.0
    p = float(sps.chi2_contingency(table, correction=False).pvalue)
    return what, statistic, p


def _smd_test(
    p: tuple[float, float], pn: int, c: tuple[float, float], cn: int
) -> tuple[str, float, float]:
    """Standardized mean difference |mean_c - mean_p| / pooled sd, with Welch's t-test."""
    what = "standardized mean difference"
    (pm, ps), (cm, cs) = p, c
    pooled = math.sqrt(((pn - 1) * ps**2 + (cn - 1) * cs**2) / (pn + cn - 2))
    if pooled == 0:
        return (what, 0.0, 1.0) if pm == cm else (what, SMD_CAP, 0.0)
    smd = min(abs(cm - pm) / pooled, SMD_CAP)
    test = sps.ttest_ind_from_stats(cm, cs, cn, pm, ps, pn, equal_var=False)
    return what, smd, float(test.pvalue)


def _why_no_drift(primary: ArmStats, challenger: ArmStats) -> str:
    forms = {
        arm: [
            f
            for f, n in (
                ("scores", s.score_count()),
                ("labels", s.label_count()),
                ("values", s.value_count),
            )
            if n
        ]
        for arm, s in (("primary", primary), ("challenger", challenger))
    }
    if not forms["primary"] and not forms["challenger"]:
        return "no predictions observed"
    described = ", ".join(f"{arm}: {'/'.join(f) or 'none'}" for arm, f in forms.items())
    return f"the arms' predictions cannot be compared ({described})"


# ---------------------------------------------------------------------- quality


def check_quality(quality: Quality | None, t: Thresholds) -> Check:
    """Fail when the challenger is worse than the primary by more than ``max_quality_drop``.

    For a metric where higher is better (accuracy, ROC AUC) the drop is absolute; for one
    where lower is better (RMSE, MAE: in the target's units) it is relative to the primary.
    ``limit`` is the worst value the challenger may have.
    """
    if quality is None:
        return Check("quality", None, None, None, "n/a", "no labelled predictions yet")
    q = quality
    counts = f"{q.primary_n} and {q.challenger_n} labels"
    if min(q.primary_n, q.challenger_n) < t.min_labels:
        message = f"waiting for {t.min_labels} labels per arm ({counts} so far)"
        return Check("quality", q.primary, q.challenger, None, "n/a", message)
    if q.primary is None or q.challenger is None:
        return Check("quality", q.primary, q.challenger, None, "n/a", f"no {q.metric} ({counts})")
    if q.higher_is_better:
        limit = _tidy(q.primary - t.max_quality_drop)
        worse = q.challenger < limit
        drop = f"drop {q.primary - q.challenger:.3g} > {t.max_quality_drop:g}"
    else:
        limit = _tidy(q.primary * (1 + t.max_quality_drop))
        worse = q.challenger > limit
        rise = (q.challenger / q.primary - 1) if q.primary else math.inf
        drop = f"{_pct(rise)} worse > {_pct(t.max_quality_drop)}"
    figures = f"challenger {q.metric} {q.challenger:.4g} vs primary {q.primary:.4g}"
    p = _accuracy_p(q) if worse else None
    if worse and p is not None and p >= SIGNIFICANCE:
        # With 100 labels per arm an accuracy moves by ±0.05 from one sample to the next:
        # a drop that chance explains is not a reason to roll back.
        message = f"{figures}: {drop} but not significant (p={p:.2g}; {counts})"
        return Check("quality", q.primary, q.challenger, limit, "pass", message)
    if worse:
        tested = "" if p is None else f", p={p:.2g}"
        message = f"{figures}: {drop} ({counts}{tested})"
        return Check("quality", q.primary, q.challenger, limit, "fail", message)
    return Check("quality", q.primary, q.challenger, limit, "pass", f"{figures} ({counts})")


def _accuracy_p(q: Quality) -> float | None:
    """One-sided Fisher exact test that the challenger is less often right than the
    primary; None for metrics that are not a share of correct answers."""
    if q.metric != "accuracy" or q.primary is None or q.challenger is None:
        return None
    right_p, right_c = round(q.primary * q.primary_n), round(q.challenger * q.challenger_n)
    table = [[right_p, q.primary_n - right_p], [right_c, q.challenger_n - right_c]]
    return float(sps.fisher_exact(table, alternative="greater").pvalue)


def _pct(x: float) -> str:
    return f"{x * 100:.3g}%"


def _pts(x: float) -> str:
    figure = f"{x * 100:.3g}"
    return f"{figure} point" if figure == "1" else f"{figure} points"


def _tidy(x: float) -> float:
    """Six significant digits, so that 33.7 * 1.5 reads 50.55 rather than 50.550000000000004."""
    return float(f"{x:.6g}")
