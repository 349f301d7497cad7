"""Drift statistics between a reference and a current window, computed from bin counts.

Every function takes counts over the same bins (the caller appends under/overflow as
extra bins where they matter) and is vectorised numpy/scipy. None of them raises on an
empty, constant or one-bin input, and none returns NaN or infinity:

- a window with no values at all gives ``None`` for the statistic (and the p-value):
  "insufficient data", not "no drift";
- identical distributions, one bin, one category give 0 (distance) and p = 1.

Bad input (negative, non-finite or mismatched counts) raises ``InvalidInput``.
docs/monitoring-statistics.md states the formula, log base and smoothing of each one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import special
from scipy import stats as sps

from modelward.errors import InvalidInput

EPS = 1e-4
# Effect-size floors that p-value tests must also pass (see default_method).
KS_MIN_D = 0.1
CHI_SQUARE_MIN_JS = 0.1
SMALL_WINDOW = 1000
_HARMONIC_CHUNK = 1 << 22

Pair = tuple[float | None, float | None]
Triple = tuple[float | None, float | None, float | None]


def _counts(values: Any, field: str) -> np.ndarray:
    try:
        x = np.asarray(values, dtype="float64")
    except (TypeError, ValueError):
        raise InvalidInput(f"{field}: counts must be numbers", field=field) from None
    if x.ndim != 1:
        raise InvalidInput(f"{field}: counts must be a flat list", field=field)
    if not np.isfinite(x).all() or (x < 0).any():
        raise InvalidInput(f"{field}: counts must be finite and not negative", field=field)
    return x


def _pair(ref: Any, cur: Any) -> tuple[np.ndarray, np.ndarray]:
    r, c = _counts(ref, "ref_counts"), _counts(cur, "cur_counts")
    if r.size != c.size:
        raise InvalidInput(
            f"cur_counts: {c.size} bins where the reference has {r.size}", field="cur_counts"
        )
    return r, c


def _shares(ref: Any, cur: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Proportions per bin of both windows, or None when either window is empty."""
    r, c = _pair(ref, cur)
    nr, nc = r.sum(), c.sum()
    if nr <= 0 or nc <= 0:
        return None
    return r / nr, c / nc


def _smoothed(p: np.ndarray, eps: float) -> np.ndarray:
    return np.where(p == 0, eps, p)


def _eps_pair(eps: float | tuple[float, float]) -> tuple[float, float]:
    pair = eps if isinstance(eps, tuple) else (eps, eps)
    if len(pair) != 2 or not all(math.isfinite(e) and e > 0 for e in pair):
        raise InvalidInput("eps: must be a positive number (or a pair of them)", field="eps")
    return float(pair[0]), float(pair[1])


def psi(ref_counts: Any, cur_counts: Any, eps: float | tuple[float, float] = EPS) -> float | None:
    """Population stability index ``sum((p - q) * ln(p / q))``, natural log.

    ``p``, ``q`` are the reference and current shares per bin; a share of 0 becomes
    ``eps`` (1e-4, as Evidently does) without renormalising. A pair gives the
    reference's and the current's eps separately. None when a window is empty.
    """
    shares = _shares(ref_counts, cur_counts)
    if shares is None:
        return None
    er, ec = _eps_pair(eps)
    p, q = _smoothed(shares[0], er), _smoothed(shares[1], ec)
    return float(np.sum((p - q) * np.log(p / q)))


def kl_divergence(
    ref_counts: Any, cur_counts: Any, eps: float | tuple[float, float] = EPS
) -> float | None:
    """Kullback-Leibler divergence ``KL(ref || cur) = sum(p * ln(p / q))``, natural log.

    Zero shares become ``eps`` as in :func:`psi`; the smoothed vectors are then scaled
    to sum to 1 (what ``scipy.stats.entropy``, and so Evidently, does). None when a
    window is empty.
    """
    shares = _shares(ref_counts, cur_counts)
    if shares is None:
        return None
    er, ec = _eps_pair(eps)
    p, q = _smoothed(shares[0], er), _smoothed(shares[1], ec)
    p, q = p / p.sum(), q / q.sum()
    return float(max(0.0, np.sum(special.rel_entr(p, q))))


def js_distance(ref_counts: Any, cur_counts: Any) -> float | None:
    """Jensen-Shannon distance: the square root of the JS divergence, natural log.

    No smoothing is needed (the mixture is positive wherever either share is), so the
    value lies in ``[0, sqrt(ln 2)]``; equal to ``scipy.spatial.distance.jensenshannon``.
    None when a window is empty.
    """
    shares = _shares(ref_counts, cur_counts)
    if shares is None:
        return None
    p, q = shares
    m = (p + q) / 2.0
    js = np.sum(special.rel_entr(p, m)) + np.sum(special.rel_entr(q, m))
    return float(np.sqrt(max(0.0, js / 2.0)))


def hellinger(ref_counts: Any, cur_counts: Any) -> float | None:
    """Hellinger distance ``sqrt(sum((sqrt(p) - sqrt(q))**2) / 2)``, in ``[0, 1]``.

    Equal to ``sqrt(1 - sum(sqrt(p * q)))``; the difference form avoids the
    cancellation that form suffers near 0. None when a window is empty.
    """
    shares = _shares(ref_counts, cur_counts)
    if shares is None:
        return None
    d = np.sqrt(shares[0]) - np.sqrt(shares[1])
    return float(min(1.0, np.sqrt(np.sum(d * d) / 2.0)))


def chi_square(ref_counts: Any, cur_counts: Any) -> Pair:
    """Pearson's chi-square test of homogeneity on the 2 x k table of counts.

    Bins empty in both windows are dropped; no continuity correction. Returns
    ``(statistic, p_value)`` with ``p = chi2.sf(statistic, k - 1)``; a single bin left
    gives ``(0.0, 1.0)``, an empty window ``(None, None)``.
    """
    r, c = _pair(ref_counts, cur_counts)
    keep = (r + c) > 0
    r, c = r[keep], c[keep]
    nr, nc = r.sum(), c.sum()
    if nr <= 0 or nc <= 0:
        return None, None
    if r.size < 2:
        return 0.0, 1.0
    table = np.vstack([r, c])
    total = nr + nc
    expected = np.outer([nr, nc], r + c) / total
    statistic = float(np.sum((table - expected) ** 2 / expected))
    return statistic, float(sps.chi2.sf(statistic, r.size - 1))


def _ecdf_gaps(ref: np.ndarray, cur: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per bin: ECDF difference before and after it, and the smaller of its two masses."""
    p, q = ref / ref.sum(), cur / cur.sum()
    after = np.cumsum(p) - np.cumsum(q)
    after[-1] = 0.0  # both ECDFs reach 1; drop the rounding residue
    before = np.concatenate(([0.0], after[:-1]))
    return before, after, np.minimum(p, q)


def _sketch_pair(ref_sketch: Any, cur_sketch: Any) -> tuple[np.ndarray, np.ndarray] | None:
    r, c = _counts(ref_sketch, "ref_sketch"), _counts(cur_sketch, "cur_sketch")
    if r.size != c.size:
        raise InvalidInput(
            f"cur_sketch: {c.size} bins where the reference has {r.size}", field="cur_sketch"
        )
    if r.sum() <= 0 or c.sum() <= 0:
        return None
    return r, c


def ks_from_sketch(ref_sketch: Any, cur_sketch: Any) -> Triple:
    """Two-sample Kolmogorov-Smirnov from sketch counts: ``(D, p_value, error_bound)``.

    ``D`` is the largest ECDF difference at the bin boundaries. Inside a bin the
    difference moves from ``d_before`` to ``d_after`` and can stray beyond both by at
    most the smaller of the bin's two masses, so the raw-data statistic lies in
    ``[D, max over bins of (max(|d_before|, |d_after|) + min(mass_ref, mass_cur))]``;
    ``error_bound`` is that upper end minus ``D`` (at most the largest
    ``min(mass_ref, mass_cur)``). ``p = kstwo.sf(D, round(n*m/(n+m)))``, scipy's
    asymptotic two-sample p-value. ``(None, None, None)`` when a window is empty.
    """
    pair = _sketch_pair(ref_sketch, cur_sketch)
    if pair is None:
        return None, None, None
    r, c = pair
    before, after, overlap = _ecdf_gaps(r, c)
    d = float(np.max(np.abs(after)))
    upper = float(np.max(np.maximum(np.abs(before), np.abs(after)) + overlap))
    return d, ks_p_value(d, r.sum(), c.sum()), max(0.0, min(1.0, upper) - d)


def ks_p_value(d: float, n_ref: float, n_cur: float) -> float:
    """Asymptotic two-sided p-value of a two-sample KS statistic (scipy's ``asymp``)."""
    en = max(1.0, float(np.round(n_ref * n_cur / (n_ref + n_cur))))
    p = float(sps.kstwo.sf(d, en))
    return min(1.0, max(0.0, p)) if math.isfinite(p) else 1.0


def _abs_line_integral(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``∫_0^1 |a + t (b - a)| dt`` for each pair (the straight line between the ends)."""
    same_sign = a * b >= 0
    spread = np.abs(a) + np.abs(b)
    safe = np.where(spread > 0, spread, 1.0)
    crossing = (a * a + b * b) / (2.0 * safe)
    return np.where(same_sign, spread / 2.0, crossing)


def _tail_edges(edges: np.ndarray, n_bins: int, low: float | None, high: float | None):
    """Bin boundaries including the under/overflow regions when the sketch has them."""
    if n_bins == edges.size - 1:
        return edges
    if n_bins != edges.size + 1:
        raise InvalidInput(
            f"ref_sketch: {n_bins} counts do not fit {edges.size} sketch edges "
            "(expected len(edges) + 1 with under/overflow, or len(edges) - 1)",
            field="ref_sketch",
        )
    lo = edges[0] if low is None else min(float(low), edges[0])
    hi = edges[-1] if high is None else max(float(high), edges[-1])
    return np.concatenate(([lo], edges, [hi]))


def wasserstein_normed(ref_values: Any, cur_values: Any) -> float | None:
    """The first Wasserstein distance between two samples of raw values, divided by the
    reference's (population) standard deviation; 1.0 when the reference is constant.

    The exact counterpart of :func:`wasserstein_from_sketch`, for when the values are at
    hand (an evaluation, a small window, the benchmark's check against other tools).
    Non-finite values are left out; an empty side gives ``None``.
    """
    from scipy.stats import wasserstein_distance

    ref = np.asarray(ref_values, dtype="float64")
    cur = np.asarray(cur_values, dtype="float64")
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    if ref.size == 0 or cur.size == 0:
        return None
    std = float(np.std(ref))
    return float(wasserstein_distance(ref, cur)) / (std if std > 0 else 1.0)


def wasserstein_from_sketch(
    sketch_edges: Any,
    ref_sketch: Any,
    cur_sketch: Any,
    ref_std: float | None,
    *,
    low: float | None = None,
    high: float | None = None,
) -> Pair:
    """Wasserstein-1 distance divided by the reference std: ``(w_normed, error_bound)``.

    The sketches are counts per bin of ``sketch_edges``, with (``len(edges) + 1``
    counts: under, bins, over) or without (``len(edges) - 1``) the tails. The under
    region spans ``[low, edges[0])`` and the over region ``(edges[-1], high]``: pass the
    smallest and largest finite value of both windows (the profiles' min/max) whenever a
    tail count is not zero.

    ``W = ∫|F_ref - F_cur|``. Per bin, the estimate integrates the straight line between
    the ECDF differences at its ends. The true difference inside the bin stays within
    ``[min(ends) - m, max(ends) + m]`` (``m`` the smaller of its two masses), so the bin
    contributes between ``width * lo`` and ``width * hi`` (``hi`` the largest absolute
    value of that interval, ``lo`` its smallest, 0 when it spans 0); the estimate lies
    there too, and ``error_bound`` is the larger distance from it to either sum.
    Both are divided by ``ref_std`` (population std, ddof=0, as Evidently), or by 1.0
    when the reference is constant (std 0 or unknown): the raw distance then.
    ``(None, None)`` when a window is empty.
    """
    edges = np.asarray(sketch_edges, dtype="float64")
    if edges.ndim != 1 or edges.size < 2 or not np.isfinite(edges).all():
        raise InvalidInput("sketch_edges: need at least 2 finite edges", field="sketch_edges")
    pair = _sketch_pair(ref_sketch, cur_sketch)
    if pair is None:
        return None, None
    r, c = pair
    if r.size == edges.size + 1 and (r[0] + c[0] > 0 and low is None):
        raise InvalidInput("low: needed when a sketch has underflow counts", field="low")
    if r.size == edges.size + 1 and (r[-1] + c[-1] > 0 and high is None):
        raise InvalidInput("high: needed when a sketch has overflow counts", field="high")
    widths = np.diff(_tail_edges(edges, r.size, low, high))
    before, after, overlap = _ecdf_gaps(r, c)
    upper = np.maximum(before, after) + overlap
    lower = np.minimum(before, after) - overlap
    hi = np.maximum(np.abs(upper), np.abs(lower))
    lo = np.where((lower <= 0) & (upper >= 0), 0.0, np.minimum(np.abs(upper), np.abs(lower)))
    estimate = float(np.sum(widths * _abs_line_integral(before, after)))
    bound = max(estimate - float(np.sum(widths * lo)), float(np.sum(widths * hi)) - estimate)
    scale = ref_std if ref_std is not None and math.isfinite(ref_std) and ref_std > 0 else 1.0
    return estimate / scale, max(0.0, bound) / scale


def _harmonic_terms(n: int) -> tuple[float, float]:
    """``h = sum_{i<n} 1/i`` and ``g = sum_{i<j<n} 1/((n-i) j)``, as Scholz & Stephens."""
    carry, g = 0.0, 0.0
    # 1/(n-1), 1/(n-2), ..., 1/2 running-summed, each divided by 2, 3, ..., n-1.
    for start in range(0, n - 2, _HARMONIC_CHUNK):
        stop = min(n - 2, start + _HARMONIC_CHUNK)
        idx = np.arange(start, stop, dtype="float64")
        cs = np.cumsum(1.0 / (n - 1 - idx)) + carry
        g += float(np.sum(cs / (idx + 2)))
        carry = float(cs[-1])
    return carry + 1.0, g


# Scholz & Stephens (1987), table 2: critical values by significance level.
_AD_SIG = np.array([0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001])
_AD_B0 = np.array([0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085])
_AD_B1 = np.array([-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615])
_AD_B2 = np.array([-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154])


def _ad_p_value(a2: float, m: int) -> float:
    critical = _AD_B0 + _AD_B1 / math.sqrt(m) + _AD_B2 / m
    if a2 < critical.min():
        return float(_AD_SIG.max())
    if a2 > critical.max():
        return float(_AD_SIG.min())
    fit = np.polyfit(critical, np.log(_AD_SIG), 2)
    return float(math.exp(np.polyval(fit, a2)))


def anderson_darling_from_bins(ref_counts: Any, cur_counts: Any) -> Pair:
    """k-sample Anderson-Darling (k = 2), ties at bins: ``(statistic, p_value)``.

    Each bin is one tied value; the midrank statistic of Scholz & Stephens (1987, eq. 7)
    standardised as scipy.stats.anderson_ksamp does, p-value interpolated from their
    table 2 and clipped to [0.001, 0.25] (the table's range). One occupied bin gives
    ``(0.0, 1.0)``; an empty window, or fewer than 4 values in all, ``(None, None)``.
    """
    r, c = _pair(ref_counts, cur_counts)
    keep = (r + c) > 0
    r, c = r[keep], c[keep]
    nr, nc = r.sum(), c.sum()
    n = nr + nc
    if nr <= 0 or nc <= 0 or n < 4:
        return None, None
    if r.size < 2:
        return 0.0, 1.0
    tied = r + c
    b = np.cumsum(tied) - tied / 2.0
    denom = b * (n - b) - n * tied / 4.0
    a2kn = 0.0
    for sample, size in ((r, nr), (c, nc)):
        mij = np.cumsum(sample) - sample / 2.0
        a2kn += float(np.sum(tied / n * (n * mij - b * size) ** 2 / denom)) / size
    a2kn *= (n - 1.0) / n
    h, g = _harmonic_terms(int(n))
    k, big_h = 2, 1.0 / nr + 1.0 / nc
    a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * big_h
    bb = (2 * g - 4) * k**2 + 8 * h * k + (2 * g - 14 * h - 4) * big_h - 8 * h + 4 * g - 6
    cc = (6 * h + 2 * g - 2) * k**2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * big_h + 4 * h
    dd = (2 * h + 6) * k**2 - 4 * h * k
    sigmasq = (a * n**3 + bb * n**2 + cc * n + dd) / ((n - 1.0) * (n - 2.0) * (n - 3.0))
    statistic = (a2kn - (k - 1)) / math.sqrt(sigmasq)
    return float(statistic), _ad_p_value(statistic, k - 1)


def default_method(kind: str, n_ref: int, n_cur: int, n_categories: int) -> tuple[str, float, bool]:
    """The drift method for a feature: ``(method, threshold, uses_p_value)``.

    numeric: ``ks`` (drift when p < 0.05 and D >= 0.1) for a current window of at most
    1,000 values, else ``wasserstein`` (normed distance >= 0.1). categorical: ``chi_square``
    (p < 0.05 and JS distance >= 0.1) for small windows, else ``jensenshannon`` (>= 0.1).
    The distance methods need no sample-size argument: a p-value alone shrinks with the
    window and flags shifts too small to matter once windows are large.
    """
    if kind not in ("numeric", "categorical"):
        raise InvalidInput(f"kind: {kind!r} is not numeric or categorical", field="kind")
    small = n_cur <= SMALL_WINDOW
    if kind == "numeric":
        return ("ks", 0.05, True) if small else ("wasserstein", 0.1, False)
    return ("chi_square", 0.05, True) if small else ("jensenshannon", 0.1, False)


def is_drifted(
    uses_p_value: bool,
    threshold: float,
    statistic: float | None,
    p_value: float | None = None,
    effect: float | None = None,
    min_effect: float = 0.1,
) -> bool | None:
    """The verdict: None for insufficient data (no statistic), else drifted or not.

    A p-value method drifts when ``p_value < threshold`` and its effect size (KS: D;
    chi-square: JS distance) is at least ``min_effect``; a distance when
    ``statistic >= threshold``.
    """
    if statistic is None:
        return None
    if not uses_p_value:
        return statistic >= threshold
    if p_value is None:
        return None
    size = statistic if effect is None else effect
    return p_value < threshold and size >= min_effect


def benjamini_hochberg(p_values: Sequence[float | None], alpha: float) -> list[bool]:
    """Which hypotheses the Benjamini-Hochberg procedure rejects at false discovery rate
    ``alpha``. ``None`` entries (no test run) are never rejected and do not count in m."""
    if not (0.0 < alpha < 1.0):
        raise InvalidInput("alpha: must lie strictly between 0 and 1", field="alpha")
    tested = [i for i, p in enumerate(p_values) if p is not None]
    rejected = [False] * len(p_values)
    if not tested:
        return rejected
    ps = np.array([p_values[i] for i in tested], dtype="float64")
    if not np.isfinite(ps).all() or (ps < 0).any() or (ps > 1).any():
        raise InvalidInput("p_values: must lie in [0, 1]", field="p_values")
    order = np.argsort(ps, kind="stable")
    m = ps.size
    passing = ps[order] <= alpha * np.arange(1, m + 1) / m
    if passing.any():
        last = int(np.nonzero(passing)[0].max())
        for j in order[: last + 1]:
            rejected[tested[int(j)]] = True
    return rejected
