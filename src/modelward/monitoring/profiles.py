"""Segment profiles: counts of production values in a baseline's bins, mergeable by addition.

A profile summarises one slice of the prediction log (a segment, an hour, a window) against
the bins its baseline fixed, so any window's profile is the sum of its segments' profiles
and drift is computed without re-reading a single prediction.

Numeric features: values are binned with ``datasets.profile.bin_counts``' rule (bin ``i``
holds ``edges[i] <= x < edges[i+1]``, the last bin is closed; ``-inf`` counts as underflow,
``+inf`` as overflow) into the decile ``bins`` and the finer ``sketch``. NaN and None are
``nulls``; text that does not parse as a number is a ``type_error``. ``min``, ``max``,
``sum`` and ``sum_sq`` cover the finite values (``sum`` / ``sum_sq`` are ``None`` once they
overflow a float, and stay ``None`` when merged).

Categorical features: values are keyed by ``str(value)``; baseline categories are counted
under ``categories`` (zeros omitted), everything else under ``unseen``, with the
``UNSEEN_KEPT`` most frequent unseen values (ties broken by value) in ``unseen_values``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

UNSEEN_KEPT = 50
PREDICTION = "__prediction__"
SCORE = "__score__"
_NUMERIC_ADDED = (
    "count",
    "nulls",
    "type_errors",
    "nan",
    "inf",
    "underflow",
    "overflow",
    "sketch_under",
    "sketch_over",
)
_CATEGORICAL_ADDED = ("count", "nulls", "type_errors", "unseen")


def empty_profile(baseline: dict[str, Any]) -> dict[str, Any]:
    """The profile of no rows: the identity of :func:`merge`."""
    features = {name: _empty_feature(spec) for name, spec in baseline["features"].items()}
    return {"rows": 0, "features": features}


def _empty_feature(spec: dict[str, Any]) -> dict[str, Any]:
    if spec["kind"] == "numeric":
        return {
            "kind": "numeric",
            "count": 0,
            "nulls": 0,
            "type_errors": 0,
            "nan": 0,
            "inf": 0,
            "bins": [0] * (len(spec["edges"]) - 1),
            "underflow": 0,
            "overflow": 0,
            "sketch": [0] * (len(spec["sketch_edges"]) - 1),
            "sketch_under": 0,
            "sketch_over": 0,
            "min": None,
            "max": None,
            "sum": 0.0,
            "sum_sq": 0.0,
        }
    return {
        "kind": "categorical",
        "count": 0,
        "nulls": 0,
        "type_errors": 0,
        "categories": {},
        "unseen": 0,
        "unseen_values": {},
    }


def profile_frame(
    frame: pd.DataFrame,
    baseline: dict[str, Any],
    *,
    prediction: Any = None,
    score: Any = None,
) -> dict[str, Any]:
    """The profile of ``frame`` against ``baseline``'s features and bins.

    ``prediction`` and ``score`` (arrays as long as ``frame``) profile the model's outputs;
    without them the ``__prediction__`` / ``__score__`` columns of ``frame`` are used when
    present. A baseline feature the frame lacks counts every row as null.
    """
    import pandas as pd

    rows = len(frame)
    given = {PREDICTION: prediction, SCORE: score}
    features: dict[str, Any] = {}
    for name, spec in baseline["features"].items():
        values = given.get(name)
        if values is None:
            values = frame[name] if name in frame.columns else None
        if values is None:
            features[name] = _all_null(spec, rows)
            continue
        series = values if isinstance(values, pd.Series) else pd.Series(values)
        if len(series) != rows:
            from modelward.errors import InvalidInput

            raise InvalidInput(f"{name}: {len(series)} values for {rows} rows", field=name)
        if spec["kind"] == "numeric":
            features[name] = profile_numeric(series, spec)
        else:
            features[name] = profile_categorical(series, spec)
    return {"rows": rows, "features": features}


def _all_null(spec: dict[str, Any], rows: int) -> dict[str, Any]:
    out = _empty_feature(spec)
    out["nulls"] = rows
    return out


def numeric_values(series: pd.Series) -> tuple[np.ndarray, int, int]:
    """``(float64 values with NaN for nulls and unparsable text, nulls, type_errors)``."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_complex_dtype(
        series.dtype
    ):
        x = series.to_numpy(dtype="float64", na_value=np.nan)
        return x, int(np.isnan(x).sum()), 0
    null = series.isna().to_numpy()
    coerced = pd.to_numeric(series, errors="coerce")
    x = np.asarray(coerced, dtype="float64")
    missing = np.isnan(x)
    return x, int(null.sum()), int((missing & ~null).sum())


def binned(x: np.ndarray, edges: Any) -> tuple[list[int], int, int]:
    """``(counts, underflow, overflow)`` of non-NaN ``x`` by ``bin_counts``' rule."""
    import numpy as np

    e = np.asarray(edges, dtype="float64")
    nbins = e.size - 1
    # full[r] = how many values have r edges <= them: r = 0 is underflow, nbins + 1 is
    # x >= the last edge.
    full = rank_counts(x, e)
    on_last = int(np.count_nonzero(x == e[-1])) if full[-1] else 0  # the last bin is closed
    counts = full[1 : nbins + 1].copy()
    counts[-1] += on_last
    return counts.tolist(), int(full[0]), int(full[-1]) - on_last


def rank_counts(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``np.bincount(np.searchsorted(e, x, side="right"), minlength=e.size + 1)``, faster.

    Binary search over a few hundred edges costs a branch miss per level and value. Instead
    the values are counted in the cells of a uniform grid over the edges, and a cell with no
    edge within two cells of it adds its count to the one rank all its values share. Only
    the values in the other cells (near an edge, or out of range) are searched one by one.
    The two-cell margin covers the rounding of the cell arithmetic, which is far below a
    cell as long as a cell is much wider than the spacing of floats there (checked), so the
    result is exact.
    """
    import numpy as np

    size = e.size + 1
    lo, hi = float(e[0]), float(e[-1])
    grid = int(min(1 << 16, max(1 << 10, x.size >> 3)))
    wide = hi - lo > 2.0**-30 * grid * max(abs(lo), abs(hi))
    if x.size < 4096 or not np.isfinite(hi - lo):
        return np.bincount(np.searchsorted(e, x, side="right"), minlength=size)
    if _integral(e) and hi - lo < 1 << 20 and _integral(x):
        return _integer_rank_counts(x, e)
    if e.size < 8 or not wide:
        return np.bincount(np.searchsorted(e, x, side="right"), minlength=size)
    scale = grid / (hi - lo)
    cell = _cells(x, lo, scale, grid)
    edge_cell = _cells(e, lo, scale, grid)
    near = np.zeros(grid + 4, dtype=bool)
    for shift in range(5):
        near[edge_cell + shift] = True
    near = near[2:-2]
    near[0] = near[-1] = True  # the clipped cells also hold out-of-range values
    per_cell = np.bincount(cell, minlength=grid)
    clean = ~near
    rank_of_cell = np.searchsorted(e, lo + np.flatnonzero(clean) / scale, side="right")
    full = np.bincount(rank_of_cell, weights=per_cell[clean], minlength=size)
    out = full.astype("int64")
    close = x[near[cell]]
    out += np.bincount(np.searchsorted(e, close, side="right"), minlength=size)
    return out


def _integral(x: np.ndarray) -> bool:
    """Whether every value is a whole number (or infinite); a sample is checked first."""
    import numpy as np

    head = x[:1024]
    if not np.array_equal(head, np.floor(head)):
        return False
    return bool(np.array_equal(x, np.floor(x)))


def _integer_rank_counts(x: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Counts of whole-number values by rank, counted per value: values below the first
    edge all share rank 0 and values above the last share the top rank, so clipping them to
    one step outside the edges keeps every rank."""
    import numpy as np

    lo, hi = float(e[0]) - 1, float(e[-1]) + 1
    offset = np.clip(x, lo, hi)
    np.subtract(offset, lo, out=offset)
    per_value = np.bincount(offset.astype(np.intp), minlength=int(hi - lo) + 1)
    rank_of_value = np.searchsorted(e, lo + np.arange(per_value.size), side="right")
    counts = np.bincount(rank_of_value, weights=per_value, minlength=e.size + 1)
    return counts.astype("int64")


def _cells(x: np.ndarray, lo: float, scale: float, grid: int) -> np.ndarray:
    import numpy as np

    with np.errstate(invalid="ignore", over="ignore"):
        t = np.subtract(x, lo)
        np.multiply(t, scale, out=t)
        np.clip(t, 0, grid - 1, out=t)
    return t.astype(np.intp)


def coarsened(sketch: list[int], sketch_edges: Any, edges: Any) -> list[int] | None:
    """The counts in ``edges`` summed from the sketch when every edge is a sketch edge.

    A baseline's deciles are among its 0.5% quantiles (both taken as data values), so the
    coarse bins come from the fine ones without binning the data twice; ``None`` when the
    edges do not line up and the data must be binned again.
    """
    import numpy as np

    sk, e = np.asarray(sketch_edges, dtype="float64"), np.asarray(edges, dtype="float64")
    if e[0] != sk[0] or e[-1] != sk[-1]:
        return None
    pos = np.searchsorted(sk, e, side="left")
    pos[-1] = sk.size - 1  # the closed last bin ends at the last sketch edge
    if (sk[np.minimum(pos, sk.size - 1)] != e).any():
        return None
    cumulative = np.concatenate([[0], np.cumsum(sketch, dtype="int64")])
    return np.diff(cumulative[pos]).tolist()


def profile_numeric(series: pd.Series, spec: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    x, nulls, type_errors = numeric_values(series)
    present = x[~np.isnan(x)] if nulls or type_errors else x
    finite_mask = np.isfinite(present)
    finite = present if finite_mask.all() else present[finite_mask]
    sketch, s_under, s_over = binned(present, spec["sketch_edges"])
    coarse = coarsened(sketch, spec["sketch_edges"], spec["edges"])
    if coarse is not None:
        bins, under, over = coarse, s_under, s_over
    else:
        bins, under, over = binned(present, spec["edges"])
    with np.errstate(over="ignore", invalid="ignore"):
        total = _finite_or_none(finite.sum()) if finite.size else 0.0
        # einsum, not dot: BLAS wakes its thread pool for a dot product, which costs far
        # more than the arithmetic on a busy machine.
        total_sq = _finite_or_none(np.einsum("i,i->", finite, finite)) if finite.size else 0.0
    return {
        "kind": "numeric",
        "count": int(finite.size),
        "nulls": nulls,
        "type_errors": type_errors,
        "nan": 0,
        "inf": int(present.size - finite.size),
        "bins": bins,
        "underflow": under,
        "overflow": over,
        "sketch": sketch,
        "sketch_under": s_under,
        "sketch_over": s_over,
        "min": float(finite.min()) + 0.0 if finite.size else None,
        "max": float(finite.max()) + 0.0 if finite.size else None,
        "sum": total,
        "sum_sq": total_sq,
    }


def _finite_or_none(value: Any) -> float | None:
    v = float(value) + 0.0
    return v if math.isfinite(v) else None


def category_counts(series: pd.Series) -> dict[str, int]:
    """Non-null values counted by ``str(value)`` (1 and "1" are one category)."""
    counts = series.value_counts(dropna=True, sort=False)
    counts = counts[counts > 0]
    out: dict[str, int] = {}
    for key, n in zip(counts.index, counts.to_numpy().tolist(), strict=True):
        k = str(key)
        out[k] = out.get(k, 0) + int(n)
    return out


def profile_categorical(series: pd.Series, spec: dict[str, Any]) -> dict[str, Any]:
    nulls = int(series.isna().sum())
    counts = category_counts(series)
    known = set(spec["categories"])
    categories = {k: n for k, n in counts.items() if k in known}
    unseen = {k: n for k, n in counts.items() if k not in known}
    return {
        "kind": "categorical",
        "count": len(series) - nulls,
        "nulls": nulls,
        "type_errors": 0,
        "categories": dict(sorted(categories.items())),
        "unseen": sum(unseen.values()),
        "unseen_values": _most_frequent(unseen),
    }


def _most_frequent(counts: dict[str, int]) -> dict[str, int]:
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:UNSEEN_KEPT]
    return dict(top)


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The profile of the union of the rows ``a`` and ``b`` profile (same baseline)."""
    features: dict[str, Any] = {}
    for name in list(a["features"]) + [n for n in b["features"] if n not in a["features"]]:
        fa, fb = a["features"].get(name), b["features"].get(name)
        if fa is None or fb is None:
            features[name] = _copy(fa if fb is None else fb)
        elif fa["kind"] != fb["kind"]:
            from modelward.errors import InvalidInput

            raise InvalidInput(
                f"{name}: cannot merge a {fa['kind']} profile with a {fb['kind']} one",
                field=name,
            )
        elif fa["kind"] == "numeric":
            features[name] = _merge_numeric(fa, fb)
        else:
            features[name] = _merge_categorical(fa, fb)
    return {"rows": a["rows"] + b["rows"], "features": features}


def _copy(feature: dict[str, Any]) -> dict[str, Any]:
    return {k: v.copy() if isinstance(v, dict | list) else v for k, v in feature.items()}


def _merge_numeric(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    for key in ("bins", "sketch"):
        if len(a[key]) != len(b[key]):
            from modelward.errors import InvalidInput

            raise InvalidInput(f"{key}: the profiles use different bins", field=key)
    out: dict[str, Any] = {"kind": "numeric"}
    out.update({key: a[key] + b[key] for key in _NUMERIC_ADDED})
    out["bins"] = [x + y for x, y in zip(a["bins"], b["bins"], strict=True)]
    out["sketch"] = [x + y for x, y in zip(a["sketch"], b["sketch"], strict=True)]
    out["min"] = _pick(min, a["min"], b["min"])
    out["max"] = _pick(max, a["max"], b["max"])
    for key in ("sum", "sum_sq"):
        both = a[key] is not None and b[key] is not None
        out[key] = _finite_or_none(a[key] + b[key]) if both else None
    return out


def _pick(fn: Any, x: float | None, y: float | None) -> float | None:
    if x is None:
        return y
    if y is None:
        return x
    return float(fn(x, y))


def _merge_categorical(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    categories = dict(a["categories"])
    for k, n in b["categories"].items():
        categories[k] = categories.get(k, 0) + n
    unseen_values = dict(a["unseen_values"])
    for k, n in b["unseen_values"].items():
        unseen_values[k] = unseen_values.get(k, 0) + n
    return {
        "kind": "categorical",
        "count": a["count"] + b["count"],
        "nulls": a["nulls"] + b["nulls"],
        "type_errors": a["type_errors"] + b["type_errors"],
        "categories": dict(sorted((k, n) for k, n in categories.items() if n)),
        "unseen": a["unseen"] + b["unseen"],
        "unseen_values": _most_frequent(unseen_values),
    }
