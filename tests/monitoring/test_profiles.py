"""Segment profiles: counts in the baseline's bins equal numpy's, and merge is addition."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelward.datasets.profile import bin_counts
from modelward.monitoring.baseline import feature_spec, sketch_edges
from modelward.monitoring.profiles import empty_profile, merge, profile_frame

EDGES = [0.0, 1.0, 2.5, 4.0, 10.0]
SKETCH = [0.0, 0.5, 1.0, 2.0, 2.5, 3.0, 4.0, 7.0, 10.0]
BASELINE: dict[str, Any] = {
    "features": {
        "x": {"kind": "numeric", "edges": EDGES, "sketch_edges": SKETCH},
        "color": {"kind": "categorical", "categories": ["blue", "green", "red"]},
        "__prediction__": {"kind": "categorical", "categories": ["0", "1"]},
        "__score__": {"kind": "numeric", "edges": [0.0, 0.5, 1.0], "sketch_edges": [0.0, 1.0]},
    }
}


def _frame(x: list[Any], color: list[Any]) -> pd.DataFrame:
    return pd.DataFrame({"x": pd.Series(x, dtype=object if _mixed(x) else None), "color": color})


def _mixed(values: list[Any]) -> bool:
    return any(isinstance(v, str) for v in values)


def test_numeric_counts_equal_numpy_on_the_same_bins() -> None:
    rng = np.random.default_rng(1)
    # Enough rows for the grid-counting path of rank_counts, with values on every edge.
    x = np.concatenate([rng.normal(3, 3, 200_000), SKETCH, [np.inf, -np.inf, np.nan, 10.0, 0.0]])
    out = profile_frame(pd.DataFrame({"x": x}), BASELINE)["features"]["x"]
    counts, under, over = bin_counts(x, EDGES)
    assert out["bins"] == counts.tolist()
    assert (out["underflow"], out["overflow"]) == (under, over)
    sketch, s_under, s_over = bin_counts(x, SKETCH)
    assert out["sketch"] == sketch.tolist()
    assert (out["sketch_under"], out["sketch_over"]) == (s_under, s_over)
    finite = x[np.isfinite(x)]
    assert out["count"] == finite.size and out["nulls"] == 1 and out["inf"] == 2
    assert out["min"] == finite.min() and out["max"] == finite.max()
    assert out["sum"] == pytest.approx(finite.sum()) and out["nan"] == 0
    assert out["sum_sq"] == pytest.approx((finite**2).sum())


def test_text_in_a_numeric_column_counts_as_type_errors_not_nulls() -> None:
    frame = _frame([1.0, "2.5", "abc", None, "n/a", 3], ["red"] * 6)
    out = profile_frame(frame, BASELINE)["features"]["x"]
    assert (out["count"], out["nulls"], out["type_errors"]) == (3, 1, 2)
    assert sum(out["bins"]) == 3


def test_categories_unseen_values_and_missing_columns() -> None:
    frame = pd.DataFrame({"x": [1.0] * 6, "color": ["red", "red", "teal", None, "pink", "teal"]})
    profile = profile_frame(frame, BASELINE, prediction=np.array([0, 1, 1, 1, 0, 1]))
    color = profile["features"]["color"]
    assert color["categories"] == {"red": 2}  # zeros omitted
    assert (color["count"], color["nulls"], color["unseen"]) == (5, 1, 3)
    assert color["unseen_values"] == {"teal": 2, "pink": 1}
    assert profile["features"]["__prediction__"]["categories"] == {"0": 2, "1": 4}
    assert profile["features"]["__score__"]["nulls"] == 6  # not given: every row null


def test_empty_all_null_constant_and_single_category_columns() -> None:
    assert profile_frame(pd.DataFrame({"x": [], "color": []}), BASELINE) == empty_profile(BASELINE)
    nulls = profile_frame(pd.DataFrame({"x": [np.nan] * 4, "color": [None] * 4}), BASELINE)
    assert nulls["features"]["x"]["nulls"] == 4 and nulls["features"]["x"]["min"] is None
    assert nulls["features"]["color"]["nulls"] == 4
    constant = pd.DataFrame({"x": [7.0] * 10, "color": ["blue"] * 10})
    spec = feature_spec(constant["x"], None)
    assert spec is not None and spec["edges"] == [7.0, 7.0] and spec["sketch_edges"] == [7.0, 7.0]
    baseline = {"features": {"x": spec, "color": feature_spec(constant["color"], None)}}
    out = profile_frame(pd.DataFrame({"x": [7.0, 6.0, 8.0], "color": ["blue"] * 3}), baseline)
    assert out["features"]["x"]["bins"] == [1]  # the closed bin [7, 7]
    assert (out["features"]["x"]["underflow"], out["features"]["x"]["overflow"]) == (1, 1)
    assert out["features"]["color"]["categories"] == {"blue": 3}


def test_sketch_edges_are_deduplicated_data_quantiles() -> None:
    values = np.repeat(np.arange(5.0), 100)
    assert sketch_edges(values) == [0.0, 1.0, 2.0, 3.0, 4.0]
    edges = sketch_edges(np.random.default_rng(0).normal(size=10_000))
    assert len(edges) == 201 and edges == sorted(edges)


values = st.lists(
    st.one_of(
        st.floats(min_value=-5, max_value=15, allow_nan=False),
        st.sampled_from([np.nan, np.inf, -np.inf, 0.0, 10.0, 2.5]),
        st.sampled_from(["oops", "3.5"]),
    ),
    max_size=40,
)
colors = st.lists(st.sampled_from(["red", "blue", "teal", "pink", None]), max_size=40)


@settings(max_examples=60, deadline=None)
@given(values, values, colors, colors)
def test_merging_two_profiles_equals_profiling_the_union(
    xa: list[Any], xb: list[Any], ca: list[Any], cb: list[Any]
) -> None:
    a = _frame(xa, (ca * 40)[: len(xa)] if ca else [None] * len(xa))
    b = _frame(xb, (cb * 40)[: len(xb)] if cb else [None] * len(xb))
    union = pd.concat([a, b], ignore_index=True)
    if _mixed(xa + xb):
        union["x"] = union["x"].astype(object)
    merged = merge(profile_frame(a, BASELINE), profile_frame(b, BASELINE))
    whole = profile_frame(union, BASELINE)
    assert merge(empty_profile(BASELINE), whole) == whole
    for key in ("sum", "sum_sq"):  # float sums depend on the order of addition
        assert merged["features"]["x"].pop(key) == pytest.approx(whole["features"]["x"].pop(key))
    assert merged == whole


def test_a_million_rows_by_25_columns_profile_in_well_under_two_seconds() -> None:
    rng = np.random.default_rng(3)
    n = 1_000_000
    data: dict[str, Any] = {f"n{i}": rng.normal(i, 1 + i, n) for i in range(20)}
    data.update({f"c{i}": rng.choice(["a", "b", "c", "d", "e"], n) for i in range(5)})
    frame = pd.DataFrame(data)
    sample = frame.sample(5000, random_state=0)
    baseline = {"features": {c: feature_spec(sample[c], None) for c in frame.columns}}
    # CPU time: the machine running the suite may be shared; what is measured is our cost.
    started = time.process_time()
    profile = profile_frame(frame, baseline)
    elapsed = time.process_time() - started
    assert profile["rows"] == n
    assert elapsed < 2.0, f"{elapsed:.2f} s"


def test_grid_binning_equals_numpy_search_on_many_edges() -> None:
    from modelward.monitoring.profiles import binned

    rng = np.random.default_rng(5)
    edges = sketch_edges(rng.normal(size=20_000))
    x = np.concatenate([rng.normal(size=100_000) * 2, edges, [np.inf, -np.inf, 1e308, -1e308]])
    counts, under, over = bin_counts(x, edges)
    assert binned(x, edges) == (counts.tolist(), under, over)


@pytest.mark.parametrize(
    "make",
    [
        lambda rng: rng.poisson(6, 100_000).astype("float64"),  # whole numbers, on the edges
        lambda rng: rng.normal(1e12, 1e-3, 100_000),  # cells narrower than float spacing
        lambda rng: rng.lognormal(0, 3, 100_000),  # most values in a few cells
        lambda rng: np.round(rng.normal(size=100_000), 2),  # many values on each edge
    ],
)
def test_binning_equals_numpy_search_on_awkward_data(make: Any) -> None:
    from modelward.monitoring.profiles import binned

    rng = np.random.default_rng(7)
    sample = make(rng)
    edges = sketch_edges(sample[:20_000])
    x = np.concatenate([make(rng), edges, [np.inf, -np.inf, -1e300, 1e300, edges[0] - 1]])
    counts, under, over = bin_counts(x, edges)
    assert binned(x, edges) == (counts.tolist(), under, over)


@pytest.mark.parametrize("kind", ["normal", "poisson", "lognormal", "rounded", "constant"])
def test_sketch_quantiles_equal_numpy_inverted_cdf(kind: str) -> None:
    from modelward.monitoring.sketch import inverted_cdf

    rng = np.random.default_rng(11)
    n = 123_457
    x = {
        "normal": rng.normal(size=n),
        "poisson": rng.poisson(4, n).astype("float64"),
        "lognormal": rng.lognormal(0, 2, n),
        "rounded": np.round(rng.normal(size=n), 1),
        "constant": np.full(n, 2.5),
    }[kind]
    qs = np.concatenate([np.linspace(0.0, 1.0, 201), rng.random(50)])
    assert np.array_equal(inverted_cdf(x, qs), np.quantile(x, qs, method="inverted_cdf"))
