"""The statistical profile of a DataFrame: the baseline monitoring compares production to.

Per column: ``count`` (non-null values) and ``nulls``, plus by kind

- numeric (ints, floats; not bool): over the finite values, min, max, mean, sample std,
  quantiles p01 … p99 (numpy's default linear interpolation) and a histogram whose edges
  are the deduplicated deciles of the data taken as data values (no empty bin),
  ``edges[0]`` its minimum and ``edges[-1]`` its maximum. Edges are stored exactly
  (Python floats survive JSON unchanged), so binning production data with
  ``bin_counts(values, edges)`` reproduces the baseline's bins;
  values below or above the edges (and -inf / +inf) go to ``underflow`` / ``overflow``.
  Integers are profiled as float64 (exact up to 2**53).
- categorical (object, str, string, category, bool): the number of distinct values and
  the counts of the 100 most frequent (ties by value), the rest summed under ``"__other__"``.
  Values are keyed by ``str(value)``.
- datetime: min and max as ISO 8601 strings.
- anything else (timedelta, complex, period, …): count and nulls only.

Everything is computed with vectorised numpy / pandas operations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelward.datasets.schemas import OTHER

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

QUANTILES = {
    "p01": 0.01,
    "p05": 0.05,
    "p25": 0.25,
    "p50": 0.5,
    "p75": 0.75,
    "p95": 0.95,
    "p99": 0.99,
}
HISTOGRAM_BINS = 10
TOP_CATEGORIES = 100


def profile_dataframe(df: pd.DataFrame) -> dict[str, Any]:
    """The profile of every column of ``df``, as plain JSON-ready data.

    Parameters
    ----------
    df:
        The data; its index is ignored.

    Returns
    -------
    dict
        ``{"num_rows": n, "columns": [{"name", "dtype", "kind", "count", "nulls",
        "numeric" | "categorical" | "datetime": {...}}, ...]}``; validates as
        ``modelward.datasets.schemas.DatasetProfile``.
    """
    columns = [profile_column(str(name), df.iloc[:, i]) for i, name in enumerate(df.columns)]
    return {"num_rows": len(df), "columns": columns}


def kind_of(dtype: Any) -> str:
    """numeric, categorical, datetime or other."""
    import pandas as pd
    from pandas.api import types

    if types.is_bool_dtype(dtype):
        return "categorical"
    if types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if types.is_numeric_dtype(dtype) and not types.is_complex_dtype(dtype):
        return "numeric"
    if isinstance(dtype, pd.CategoricalDtype) or types.is_string_dtype(dtype):
        return "categorical"
    if types.is_object_dtype(dtype):
        return "categorical"
    return "other"


def profile_column(name: str, s: pd.Series) -> dict[str, Any]:
    """The profile of one column."""
    nulls = int(s.isna().sum())
    kind = kind_of(s.dtype)
    out: dict[str, Any] = {
        "name": name,
        "dtype": str(s.dtype),
        "kind": kind,
        "count": len(s) - nulls,
        "nulls": nulls,
    }
    if kind == "numeric":
        out["numeric"] = numeric_stats(s)
    elif kind == "categorical":
        out["categorical"] = categorical_stats(s)
    elif kind == "datetime":
        out["datetime"] = datetime_stats(s)
    return out


def _float(x: Any) -> float | None:
    """A JSON-safe Python float: None for NaN/inf, and -0.0 folded into 0.0."""
    import math

    value = float(x) + 0.0
    return value if math.isfinite(value) else None


def numeric_stats(s: pd.Series) -> dict[str, Any]:
    import numpy as np

    values = s.to_numpy(dtype="float64", na_value=np.nan)
    values = values[~np.isnan(values)]
    finite = values[np.isfinite(values)]
    out: dict[str, Any] = {"infinite": int(values.size - finite.size)}
    if finite.size == 0:
        return out
    with np.errstate(over="ignore", invalid="ignore"):
        mean = finite.mean()
        std = finite.std(ddof=1) if finite.size > 1 else None
    qs = _quantiles(finite, list(QUANTILES.values()))
    edges = histogram_edges(finite)
    counts, underflow, overflow = bin_counts(values, edges)
    out.update(
        min=_float(finite.min()),
        max=_float(finite.max()),
        mean=_float(mean),
        std=None if std is None else _float(std),
        quantiles={k: _float(q) for k, q in zip(QUANTILES, qs, strict=True)},
        histogram={
            "edges": [_float(e) for e in edges],
            "counts": counts.tolist(),
            "underflow": underflow,
            "overflow": overflow,
        },
    )
    return out


def _quantiles(finite: np.ndarray, qs: list[float]) -> np.ndarray:
    import numpy as np

    with np.errstate(over="ignore", invalid="ignore"):
        result = np.quantile(finite, qs)
    if not np.isfinite(result).all():
        # Interpolating between values near ±1.8e308 overflows; pick data points instead.
        result = np.quantile(finite, qs, method="lower")
    return result


def histogram_edges(finite: np.ndarray) -> np.ndarray:
    """Deduplicated deciles of the finite values; first = min, last = max (at least 2 edges).

    The deciles are taken as data values (``inverted_cdf``), not interpolated between
    them: bin ``i`` then holds at least ``edges[i]`` itself, so no baseline bin is empty
    (drift measures divide by baseline shares), and integer data gets integer edges.
    """
    import numpy as np

    qs = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
    edges = np.unique(np.quantile(finite, qs, method="inverted_cdf"))
    if edges.size == 1:  # a constant column: one closed bin [v, v]
        edges = np.array([edges[0], edges[0]])
    return edges + 0.0


def bin_counts(values: Any, edges: Any) -> tuple[np.ndarray, int, int]:
    """Count ``values`` into the bins ``edges`` defines: ``(counts, underflow, overflow)``.

    Bin ``i`` holds ``edges[i] <= x < edges[i+1]``, the last bin also ``x == edges[-1]``
    (numpy.histogram's rule). NaN is ignored; -inf counts as underflow, +inf as overflow.
    Monitoring uses this same function on production data against a baseline's edges.
    """
    import numpy as np

    x = np.asarray(values, dtype="float64")
    x = x[~np.isnan(x)]
    e = np.asarray(edges, dtype="float64")
    nbins = e.size - 1
    below, above = x < e[0], x > e[-1]
    inside = x[~(below | above)]
    idx = np.clip(np.searchsorted(e, inside, side="right") - 1, 0, nbins - 1)
    counts = np.bincount(idx, minlength=nbins).astype("int64")
    return counts, int(below.sum()), int(above.sum())


def categorical_stats(s: pd.Series) -> dict[str, Any]:
    import pandas as pd

    counts = s.value_counts(dropna=True, sort=False)
    counts = counts[counts > 0]  # a category dtype lists unused categories with 0
    keyed = pd.Series(counts.to_numpy(dtype="int64"), index=counts.index.astype(str))
    keyed = keyed.groupby(level=0).sum().sort_values(ascending=False, kind="stable")
    top = keyed.iloc[:TOP_CATEGORIES]
    categories = {str(k): int(v) for k, v in top.items()}
    rest = int(keyed.iloc[TOP_CATEGORIES:].sum())
    if rest:
        categories[OTHER] = categories.get(OTHER, 0) + rest
    return {"distinct": len(keyed), "categories": categories}


def datetime_stats(s: pd.Series) -> dict[str, Any]:
    present = s.dropna()
    if present.empty:
        return {"min": None, "max": None}
    return {"min": present.min().isoformat(), "max": present.max().isoformat()}
