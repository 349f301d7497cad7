"""The profile: values checked against direct numpy computations, edges exact after storage."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import modelward as mw
from modelward.datasets.profile import HISTOGRAM_BINS, QUANTILES, bin_counts, profile_dataframe
from modelward.datasets.schemas import DatasetProfile


def column(profile: dict, name: str) -> dict:  # type: ignore[type-arg]
    return next(c for c in profile["columns"] if c["name"] == name)


def known_frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    income = rng.lognormal(10, 0.8, 500) / 3
    income[[3, 40, 41, 300]] = np.nan
    return pd.DataFrame(
        {
            "income": income,
            "children": pd.array([None if i % 25 == 0 else i % 4 for i in range(500)], "Int64"),
            "housing": rng.choice(["own", "rent", "free"], 500, p=[0.6, 0.3, 0.1]),
            "defaulted": rng.random(500) > 0.8,
            "applied": pd.date_range("2023-03-01", periods=500, freq="6h"),
        }
    )


def test_numeric_statistics_match_numpy() -> None:
    df = known_frame()
    income = column(profile_dataframe(df), "income")
    values = df["income"].to_numpy()
    finite = values[~np.isnan(values)]

    assert (income["kind"], income["count"], income["nulls"]) == ("numeric", 496, 4)
    stats = income["numeric"]
    assert stats["min"] == finite.min() and stats["max"] == finite.max()
    assert stats["mean"] == pytest.approx(finite.mean(), rel=1e-12)
    assert stats["std"] == pytest.approx(finite.std(ddof=1), rel=1e-12)
    expected = np.quantile(finite, list(QUANTILES.values()))
    assert stats["quantiles"] == dict(zip(QUANTILES, expected, strict=True))

    hist = stats["histogram"]
    qs = np.linspace(0, 1, HISTOGRAM_BINS + 1)
    deciles = np.unique(np.quantile(finite, qs, method="inverted_cdf"))
    assert hist["edges"] == deciles.tolist() and len(deciles) == HISTOGRAM_BINS + 1
    assert set(hist["edges"]) <= set(finite.tolist())  # edges are data values
    assert (hist["edges"][0], hist["edges"][-1]) == (finite.min(), finite.max())
    assert hist["counts"] == np.histogram(finite, bins=deciles)[0].tolist()
    assert sum(hist["counts"]) == income["count"] and min(hist["counts"]) > 0
    assert (hist["underflow"], hist["overflow"]) == (0, 0)


def test_nullable_integers_are_numeric_and_duplicate_edges_collapse() -> None:
    children = column(profile_dataframe(known_frame()), "children")
    assert (children["count"], children["nulls"]) == (480, 20)
    hist = children["numeric"]["histogram"]
    assert hist["edges"] == [0.0, 1.0, 2.0, 3.0]  # deciles of 0..3, deduplicated
    present = known_frame()["children"].dropna().to_numpy(dtype=float)
    assert hist["counts"] == np.histogram(present, bins=[0, 1, 2, 3])[0].tolist()
    assert sum(hist["counts"]) == 480


def test_categorical_boolean_and_datetime_columns() -> None:
    df = known_frame()
    profile = profile_dataframe(df)
    housing = column(profile, "housing")
    assert housing["kind"] == "categorical"
    assert housing["categorical"]["categories"] == df["housing"].value_counts().to_dict()
    assert housing["categorical"]["distinct"] == 3
    defaulted = column(profile, "defaulted")["categorical"]["categories"]
    assert defaulted == {"True": int(df["defaulted"].sum()), "False": int((~df["defaulted"]).sum())}
    applied = column(profile, "applied")
    assert applied["kind"] == "datetime"
    assert applied["datetime"] == {"min": "2023-03-01T00:00:00", "max": "2023-07-03T18:00:00"}
    aware = profile_dataframe(df[["applied"]].apply(lambda s: s.dt.tz_localize("Europe/Berlin")))
    assert column(aware, "applied")["datetime"]["min"] == "2023-03-01T00:00:00+01:00"


def test_more_than_100_categories_keep_the_top_100_and_sum_the_rest() -> None:
    values = [f"c{i:03d}" for i in range(150) for _ in range(150 - i)]
    values += [None] * 5
    stats = column(profile_dataframe(pd.DataFrame({"city": values})), "city")

    cats = stats["categorical"]["categories"]
    assert stats["categorical"]["distinct"] == 150 and stats["nulls"] == 5
    assert list(cats)[:3] == ["c000", "c001", "c002"] and cats["c099"] == 51
    assert len(cats) == 101 and cats["__other__"] == sum(range(1, 51))
    assert sum(cats.values()) == stats["count"] == len(values) - 5


def test_category_dtype_counts_only_observed_values() -> None:
    s = pd.Categorical(["a", "b", "a", None], categories=["a", "b", "never"])
    stats = column(profile_dataframe(pd.DataFrame({"grade": s})), "grade")
    assert stats["dtype"] == "category" and stats["nulls"] == 1
    assert stats["categorical"] == {"distinct": 2, "categories": {"a": 2, "b": 1}}


def test_infinities_constants_empty_and_all_null_columns() -> None:
    df = pd.DataFrame(
        {
            "ratio": [1.0, 2.0, np.inf, -np.inf, np.nan, 3.0],
            "constant": [5] * 6,
            "missing": [np.nan] * 6,
            "delay": pd.to_timedelta([1, 2, 3, 4, 5, None], unit="s"),
        }
    )
    profile = profile_dataframe(df)
    ratio = column(profile, "ratio")
    assert (ratio["count"], ratio["nulls"], ratio["numeric"]["infinite"]) == (5, 1, 2)
    assert (ratio["numeric"]["min"], ratio["numeric"]["max"]) == (1.0, 3.0)
    hist = ratio["numeric"]["histogram"]
    assert (hist["underflow"], hist["overflow"], sum(hist["counts"])) == (1, 1, 3)

    constant = column(profile, "constant")["numeric"]
    assert constant["histogram"]["edges"] == [5.0, 5.0] and constant["histogram"]["counts"] == [6]
    assert constant["std"] == 0.0

    missing = column(profile, "missing")
    assert (missing["count"], missing["nulls"], missing["numeric"]) == (0, 6, {"infinite": 0})
    assert column(profile, "delay")["kind"] == "other"

    empty = profile_dataframe(df.iloc[:0])
    assert empty["num_rows"] == 0 and column(empty, "ratio")["numeric"] == {"infinite": 0}
    # Nothing that JSON or PostgreSQL would refuse: no NaN, no infinity.
    json.dumps(profile, allow_nan=False)
    DatasetProfile.model_validate(profile)


def test_bin_counts_places_new_data_like_numpy_and_counts_outliers() -> None:
    rng = np.random.default_rng(3)
    edges = np.unique(np.quantile(rng.normal(size=1000), np.linspace(0, 1, 11)))
    production = np.concatenate([rng.normal(0.3, 1.2, 5000), [np.nan, edges[0], edges[-1]]])

    counts, underflow, overflow = bin_counts(production, edges)

    inside = production[(production >= edges[0]) & (production <= edges[-1])]
    assert counts.tolist() == np.histogram(inside, bins=edges)[0].tolist()
    assert underflow == int((production < edges[0]).sum())
    assert overflow == int((production > edges[-1]).sum())
    assert counts.sum() + underflow + overflow == 5002


def awkward_frame() -> pd.DataFrame:
    """Values whose shortest decimal forms are long or use exponents."""
    rng = np.random.default_rng(11)
    return pd.DataFrame(
        {
            "thirds": rng.integers(-1000, 1000, 400) / 3,
            "tiny": rng.random(400) * 1e-300,
            "huge": rng.random(400) * 1e17 + 1e16,
            "sums": np.cumsum(np.full(400, 0.1)),
        }
    )


def test_profile_round_trips_exactly_through_the_store(client: mw.Client) -> None:
    df = awkward_frame()
    expected = profile_dataframe(df)

    client.register_dataset("awkward", df)
    stored = client.get_dataset("awkward/1").profile  # read back from the database

    for col in expected["columns"]:
        got = stored.column(col["name"]).numeric
        assert got is not None
        assert got.histogram is not None
        assert got.histogram.edges == col["numeric"]["histogram"]["edges"]
        assert all(type(e) is float for e in got.histogram.edges)
        assert got.histogram.counts == col["numeric"]["histogram"]["counts"]
        assert got.quantiles == col["numeric"]["quantiles"]
        assert (got.min, got.max, got.mean, got.std) == tuple(
            col["numeric"][k] for k in ("min", "max", "mean", "std")
        )
    # The stored edges bin the stored data exactly as the baseline did.
    thirds = stored.column("thirds").numeric
    assert thirds is not None and thirds.histogram is not None
    counts, _, _ = bin_counts(client.load_dataset("awkward")["thirds"], thirds.histogram.edges)
    assert counts.tolist() == thirds.histogram.counts
