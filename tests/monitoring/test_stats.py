"""Drift statistics: exact agreement with scipy on binned data, proven error bounds for the
sketch-based KS and Wasserstein, and no NaN/inf or exception on degenerate windows."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

from modelward.errors import InvalidInput
from modelward.monitoring import stats
from modelward.monitoring.sketch import sketch_counts, sketch_edges

SETTINGS = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])


def close(a: float, b: float, tol: float = 1e-12) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


@st.composite
def count_pairs(draw, min_bins: int = 1, max_bins: int = 25, max_count: int = 400):
    k = draw(st.integers(min_bins, max_bins))
    counts = st.lists(st.integers(0, max_count), min_size=k, max_size=k)
    return np.array(draw(counts)), np.array(draw(counts))


def both_nonempty(ref: np.ndarray, cur: np.ndarray) -> bool:
    return ref.sum() > 0 and cur.sum() > 0


# --- binned measures equal a direct numpy/scipy computation ---------------------------------


@SETTINGS
@given(count_pairs())
def test_psi_matches_the_formula_with_eps_for_empty_bins(pair):
    ref, cur = pair
    value = stats.psi(ref, cur)
    if not both_nonempty(ref, cur):
        assert value is None
        return
    p = np.where(ref == 0, 1e-4, ref / ref.sum())
    q = np.where(cur == 0, 1e-4, cur / cur.sum())
    assert close(value, float(np.sum((p - q) * np.log(p / q))))


@SETTINGS
@given(count_pairs())
def test_kl_divergence_matches_scipy_entropy_of_the_smoothed_shares(pair):
    ref, cur = pair
    value = stats.kl_divergence(ref, cur)
    if not both_nonempty(ref, cur):
        assert value is None
        return
    p = np.where(ref == 0, 1e-4, ref / ref.sum())
    q = np.where(cur == 0, 1e-4, cur / cur.sum())
    assert close(value, float(sps.entropy(p, q)))


@SETTINGS
@given(count_pairs())
def test_js_distance_matches_scipy_jensenshannon(pair):
    ref, cur = pair
    value = stats.js_distance(ref, cur)
    if not both_nonempty(ref, cur):
        assert value is None
        return
    expected = float(jensenshannon(ref.astype(float), cur.astype(float)))
    assert close(value, expected)
    assert 0.0 <= value <= math.sqrt(math.log(2)) + 1e-12


@SETTINGS
@given(count_pairs())
def test_hellinger_matches_both_textbook_forms(pair):
    ref, cur = pair
    value = stats.hellinger(ref, cur)
    if not both_nonempty(ref, cur):
        assert value is None
        return
    p, q = ref / ref.sum(), cur / cur.sum()
    assert close(value, float(np.linalg.norm(np.sqrt(p) - np.sqrt(q)) / math.sqrt(2)))
    # The Bhattacharyya form loses digits near 0 to cancellation; compare it loosely.
    bc = min(1.0, float(np.sum(np.sqrt(p * q))))
    assert abs(value - math.sqrt(1.0 - bc)) < 1e-6
    assert 0.0 <= value <= 1.0


@SETTINGS
@given(count_pairs())
def test_chi_square_matches_scipy_contingency_without_correction(pair):
    ref, cur = pair
    statistic, p = stats.chi_square(ref, cur)
    if not both_nonempty(ref, cur):
        assert (statistic, p) == (None, None)
        return
    keep = (ref + cur) > 0
    if keep.sum() < 2:
        assert (statistic, p) == (0.0, 1.0)
        return
    res = sps.chi2_contingency(np.vstack([ref[keep], cur[keep]]), correction=False)
    assert close(statistic, float(res.statistic))
    assert close(p, float(res.pvalue))


@pytest.mark.filterwarnings("ignore:p-value capped:UserWarning")  # scipy notes its table's range
@pytest.mark.filterwarnings("ignore:p-value floored:UserWarning")
@SETTINGS
@given(count_pairs(max_count=60))
def test_anderson_darling_matches_scipy_on_the_expanded_data(pair):
    ref, cur = pair
    statistic, p = stats.anderson_darling_from_bins(ref, cur)
    occupied = int(((ref + cur) > 0).sum())
    if not both_nonempty(ref, cur) or ref.sum() + cur.sum() < 4:
        assert (statistic, p) == (None, None)
        return
    if occupied < 2:
        assert (statistic, p) == (0.0, 1.0)
        return
    bins = np.arange(ref.size, dtype=float)
    res = sps.anderson_ksamp([np.repeat(bins, ref), np.repeat(bins, cur)], variant="midrank")
    assert close(statistic, float(res.statistic))
    assert close(p, float(res.pvalue))


# --- degenerate windows --------------------------------------------------------------------

BINNED = [stats.psi, stats.kl_divergence, stats.js_distance, stats.hellinger]
TESTS = [stats.chi_square, stats.anderson_darling_from_bins]


@pytest.mark.parametrize("fn", BINNED + TESTS)
@pytest.mark.parametrize(
    ("ref", "cur"),
    [([], []), ([0, 0], [0, 0]), ([5, 3], [0, 0]), ([0, 0], [5, 3])],
)
def test_an_empty_window_is_insufficient_data_not_an_error(fn, ref, cur):
    result = fn(ref, cur)
    assert result is None or result == (None, None)


@pytest.mark.parametrize("fn", BINNED)
def test_identical_one_bin_windows_show_no_drift(fn):
    assert fn([1000], [7]) == 0.0
    assert fn([3, 0, 9], [3, 0, 9]) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("fn", TESTS)
def test_a_single_category_is_no_evidence_of_drift(fn):
    assert fn([1000, 0], [7, 0]) == (0.0, 1.0)


@SETTINGS
@given(count_pairs(max_count=5))
def test_no_measure_returns_nan_or_infinity(pair):
    ref, cur = pair
    values = [fn(ref, cur) for fn in BINNED]
    for fn in TESTS + [stats.ks_from_sketch]:
        values.extend(fn(ref, cur))
    edges = np.arange(ref.size + 1, dtype=float)
    values.extend(stats.wasserstein_from_sketch(edges, ref, cur, 0.0))
    assert all(v is None or math.isfinite(v) for v in values)


def test_bad_counts_name_the_field():
    with pytest.raises(InvalidInput) as err:
        stats.psi([1, -2], [1, 2])
    assert err.value.field == "ref_counts"
    with pytest.raises(InvalidInput) as err:
        stats.js_distance([1, 2], [1, 2, 3])
    assert err.value.field == "cur_counts"
    with pytest.raises(InvalidInput):
        stats.kl_divergence([1, float("nan")], [1, 2])


# --- sketch-based KS and Wasserstein versus scipy on the raw data ---------------------------


def ks_statistic(ref: np.ndarray, cur: np.ndarray) -> float:
    with warnings.catch_warnings():
        # Only the statistic is compared; scipy warns about its p-value for tiny samples.
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(sps.ks_2samp(ref, cur, method="asymp").statistic)


values = st.one_of(
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, width=32),
    st.integers(-20, 20).map(float),  # ties
)
samples = st.lists(values, min_size=1, max_size=300).map(np.array)


@st.composite
def raw_windows(draw):
    ref = draw(samples)
    cur = draw(samples) + draw(st.sampled_from([0.0, 0.5, -3.0, 50.0]))
    points = draw(st.sampled_from([5, 21, 201]))
    return ref, cur, sketch_edges(ref, points)


@SETTINGS
@given(raw_windows())
def test_ks_from_sketch_brackets_scipy_on_raw_data(windows):
    ref, cur, edges = windows
    d, p, bound = stats.ks_from_sketch(sketch_counts(ref, edges), sketch_counts(cur, edges))
    exact = ks_statistic(ref, cur)
    assert d - 1e-12 <= exact <= d + bound + 1e-12
    assert 0.0 <= p <= 1.0 and 0.0 <= bound <= 1.0


@SETTINGS
@given(raw_windows())
def test_wasserstein_from_sketch_is_within_its_bound_of_scipy(windows):
    ref, cur, edges = windows
    both = np.concatenate([ref, cur])
    std = float(np.std(ref))
    w, bound = stats.wasserstein_from_sketch(
        edges,
        sketch_counts(ref, edges),
        sketch_counts(cur, edges),
        std,
        low=float(both.min()),
        high=float(both.max()),
    )
    exact = float(sps.wasserstein_distance(ref, cur)) / (std if std > 0 else 1.0)
    scale = float(np.abs(both).max()) / (std if std > 0 else 1.0) + 1.0
    assert abs(w - exact) <= bound + 1e-9 * scale


def test_sketch_bounds_are_small_with_baseline_quantile_bins():
    rng = np.random.default_rng(7)
    ref, cur = rng.normal(0, 1, 50_000), rng.normal(0.3, 1, 20_000)
    edges = sketch_edges(ref)
    rs, cs = sketch_counts(ref, edges), sketch_counts(cur, edges)
    d, p, d_bound = stats.ks_from_sketch(rs, cs)
    w, w_bound = stats.wasserstein_from_sketch(
        edges, rs, cs, float(np.std(ref)), low=float(cur.min()), high=float(cur.max())
    )
    assert d_bound <= 0.006 and w_bound <= 0.06
    assert abs(d - sps.ks_2samp(ref, cur).statistic) <= d_bound
    assert p < 1e-10


def test_ks_p_value_is_scipys_asymptotic_one_when_bins_hold_single_values():
    rng = np.random.default_rng(3)
    ref, cur = rng.integers(0, 30, 3000).astype(float), rng.integers(2, 31, 2500).astype(float)
    edges = np.arange(0.0, 31.0)
    d, p, _ = stats.ks_from_sketch(sketch_counts(ref, edges), sketch_counts(cur, edges))
    res = sps.ks_2samp(ref, cur, method="asymp")
    assert close(d, float(res.statistic)) and close(p, float(res.pvalue), 1e-9)


def test_constant_reference_gives_the_raw_wasserstein_distance():
    edges = sketch_edges([4.0] * 10)
    assert edges.tolist() == [4.0, 4.0]
    ref = sketch_counts([4.0] * 10, edges)
    cur = sketch_counts([4.0] * 5 + [6.0] * 5, edges)
    w, bound = stats.wasserstein_from_sketch(edges, ref, cur, 0.0, low=4.0, high=6.0)
    assert w is not None and bound is not None
    assert abs(w - 1.0) <= bound  # half the mass moved by 2


def test_tail_counts_need_the_window_extremes():
    edges = np.array([0.0, 1.0, 2.0])
    with pytest.raises(InvalidInput) as err:
        stats.wasserstein_from_sketch(edges, [0, 5, 5, 0], [3, 5, 5, 0], 1.0)
    assert err.value.field == "low"


def test_empty_sketch_window_is_insufficient_data():
    edges = np.array([0.0, 1.0, 2.0])
    assert stats.ks_from_sketch([0, 5, 5, 0], [0, 0, 0, 0]) == (None, None, None)
    assert stats.wasserstein_from_sketch(edges, [0, 0, 0, 0], [0, 1, 0, 0], 1.0) == (None, None)


# --- method choice, verdicts, multiple testing ---------------------------------------------


def test_default_methods_follow_window_size_and_kind():
    assert stats.default_method("numeric", 10_000, 1000, 0) == ("ks", 0.05, True)
    assert stats.default_method("numeric", 10_000, 1001, 0) == ("wasserstein", 0.1, False)
    assert stats.default_method("categorical", 500, 200, 2) == ("chi_square", 0.05, True)
    assert stats.default_method("categorical", 500, 5000, 8) == ("jensenshannon", 0.1, False)
    with pytest.raises(InvalidInput):
        stats.default_method("datetime", 1, 1, 0)


def test_a_tiny_shift_on_a_huge_window_is_significant_but_not_drift():
    ref = np.full(10, 1_000_000)
    cur = ref.copy()
    cur[0] += 20_000  # one share moves from 10 % to 10.2 %: p is tiny, JS distance is not
    statistic, p = stats.chi_square(ref, cur)
    js = stats.js_distance(ref, cur)
    assert p < 1e-20 and js < 0.01
    assert stats.is_drifted(True, 0.05, statistic, p, effect=js) is False
    assert stats.is_drifted(False, 0.1, None) is None
    assert stats.is_drifted(False, 0.1, 0.25) is True


def test_benjamini_hochberg_rejects_the_largest_passing_prefix():
    ps = [0.01, 0.04, 0.03, 0.2, None, 0.005]
    # m = 5 tested: sorted 0.005, 0.01, 0.03, 0.04, 0.2 vs 0.01, 0.02, 0.03, 0.04, 0.05
    assert stats.benjamini_hochberg(ps, 0.05) == [True, True, True, False, False, True]
    assert stats.benjamini_hochberg([None, None], 0.05) == [False, False]
    rng = np.random.default_rng(11)
    sample = np.concatenate([rng.uniform(0, 1, 80), rng.uniform(0, 0.002, 20)])
    adjusted = sps.false_discovery_control(sample, method="bh")
    assert stats.benjamini_hochberg(sample.tolist(), 0.05) == (adjusted <= 0.05).tolist()


def test_normed_wasserstein_on_raw_values_is_scipys_over_the_reference_std() -> None:
    from scipy.stats import wasserstein_distance

    rng = np.random.default_rng(3)
    ref, cur = rng.normal(0, 2, 5_000), rng.normal(0.5, 2.5, 4_000)
    expected = wasserstein_distance(ref, cur) / np.std(ref)
    assert stats.wasserstein_normed(ref, cur) == pytest.approx(expected, abs=1e-12)
    assert stats.wasserstein_normed(np.full(10, 3.0), np.full(10, 4.0)) == pytest.approx(1.0)
    assert stats.wasserstein_normed([], [1.0]) is None
