"""Quantile sketches of a numeric feature: fine bins at the baseline's quantiles.

A sketch is the count of values in each bin between consecutive ``sketch_edges``,
plus the values below the first edge (under) and above the last (over). Counted this
way, a window of production data costs ``len(edges) + 1`` integers however many rows
it holds, and sketches of two windows merge by addition. The Kolmogorov-Smirnov and
Wasserstein measures of ``monitoring.stats`` work on these counts and report how far
their value can be from the one computed on the raw data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from modelward.datasets.profile import bin_counts

SKETCH_POINTS = 201  # p0, p0.5, ..., p100


def sketch_edges(values: Any, points: int = SKETCH_POINTS) -> np.ndarray:
    """The deduplicated quantiles p0 … p100 (``points`` of them) of the finite values.

    Quantiles are data values (``inverted_cdf``), so every bin holds at least its left
    edge and integer data gets integer edges. A constant sample gives ``[v, v]`` (one
    closed bin); a sample without finite values gives an empty array.
    """
    x = np.asarray(values, dtype="float64")
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return np.empty(0, dtype="float64")
    qs = np.linspace(0.0, 1.0, points)
    edges = np.unique(np.quantile(finite, qs, method="inverted_cdf"))
    if edges.size == 1:
        edges = np.array([edges[0], edges[0]])
    return edges + 0.0  # folds -0.0 into 0.0 so JSON round trips compare equal


def sketch_counts(values: Any, edges: Any) -> np.ndarray:
    """``[under, bin_0, …, bin_k-1, over]`` for the finite values of ``values``.

    Bins follow ``datasets.profile.bin_counts`` (right-open, the last one closed);
    NaN and ±inf are left out: the profile counts them separately, and an infinite
    value has no place in a distance between distributions.
    """
    x = np.asarray(values, dtype="float64")
    finite = x[np.isfinite(x)]
    counts, under, over = bin_counts(finite, edges)
    return np.concatenate(([under], counts, [over])).astype("int64")
