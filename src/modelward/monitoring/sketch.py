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
    edges = np.unique(inverted_cdf(finite, qs))
    if edges.size == 1:
        edges = np.array([edges[0], edges[0]])
    return edges + 0.0  # folds -0.0 into 0.0 so JSON round trips compare equal


def inverted_cdf(finite: np.ndarray, qs: Any) -> np.ndarray:
    """``np.quantile(finite, qs, method="inverted_cdf")`` of finite values, without sorting.

    The order statistics the quantiles pick are found by counting the values in the cells
    of a uniform grid over ``[min, max]``; only the values of the few cells holding a wanted
    rank are sorted. The cell of a value is a monotone function of it, so a value in a lower
    cell is never greater than one in a higher cell and the result is exact. Integer data
    with a range below the grid is counted per value and needs no sorting at all.
    """
    q = np.asarray(qs, dtype="float64")
    n = finite.size
    if n < 4096:
        return np.asarray(np.quantile(finite, q, method="inverted_cdf"), dtype="float64")
    ranks = _inverted_cdf_ranks(n, q)
    lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        return np.full(q.shape, lo)
    if hi - lo < _GRID and lo == np.floor(lo) and (finite == np.floor(finite)).all():
        per_value = np.bincount((finite - lo).astype(np.intp))
        return lo + np.searchsorted(np.cumsum(per_value), ranks, side="right").astype("float64")
    scale = _GRID / (hi - lo)
    with np.errstate(over="ignore", invalid="ignore"):
        cell = np.minimum((finite - lo) * scale, _GRID - 1).astype(np.intp)
    upto = np.cumsum(np.bincount(cell, minlength=_GRID))
    wanted_cell = np.searchsorted(upto, ranks, side="right")
    wanted = np.zeros(_GRID, dtype=bool)
    wanted[wanted_cell] = True
    picked = np.sort(finite[wanted[cell]])
    # Position of each rank among the picked values: the picked values of lower cells, then
    # the rank's place inside its own cell.
    before = np.concatenate([[0], upto[:-1]])
    picked_before = np.cumsum(np.where(wanted, upto - before, 0)) - (upto - before)
    return picked[picked_before[wanted_cell] + ranks - before[wanted_cell]]


_GRID = 1 << 16


def _inverted_cdf_ranks(n: int, q: np.ndarray) -> np.ndarray:
    """The 0-based order statistics numpy's ``inverted_cdf`` picks (same float arithmetic)."""
    index = n * q - 1
    below = np.floor(index)
    ranks = np.where(index - below == 0, below, below + 1).astype(np.intp)
    return np.clip(ranks, 0, n - 1)


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
