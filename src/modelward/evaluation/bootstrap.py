"""Paired bootstrap of candidate-minus-champion metric differences.

A resample is a vector of row counts (how often each row was drawn, from the same drawn
indices for both models), so every metric becomes a weighted sum that numpy evaluates for a
block of resamples at once:

* accuracy, precision, recall, f1, log_loss, brier, ece, rmse, mae, mape and r2 are
  matrix products of the count block with per-row statistics computed once per model;
* roc_auc and pr_auc (average precision) sort the scores once; per resample the positive
  and negative weights are summed per tied-score group (``np.add.reduceat``) and a
  cumulative sum gives the Mann-Whitney count (AUC) or the precision at each threshold
  (AP). With all counts equal to one these reproduce scikit-learn's values exactly.

Measured on 2 shared cores: 1,000 resamples of a 100,000-row binary holdout take about
5 s for all nine classification metrics of both models, so every metric gets the full
number of resamples. Multiclass AUC/AP cost one pass per class.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from modelward.evaluation.metrics import ece_bins
from modelward.evaluation.scoring import Scored

CONFIDENCE = 0.95
BLOCK_CELLS = 2_000_000  # resamples x rows per block: bounds memory to tens of MB
LOG_EPS = np.finfo(np.float64).eps

Block = Callable[[np.ndarray], dict[str, np.ndarray]]


def paired_deltas(
    candidate: Scored,
    champion: Scored,
    point: dict[str, float],
    resamples: int,
    seed: int,
    progress: Callable[[float], None] | None = None,
) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """``{metric: {"delta", "ci_low", "ci_high"}}`` for each metric in ``point``.

    ``point`` holds the full-data deltas; the interval is the 2.5/97.5 percentile of the
    bootstrap distribution of the same difference.
    """
    names = list(point)
    if resamples <= 0 or not names:
        return {m: {"delta": point[m]} for m in names}, {}
    cand, champ = _statistics(candidate), _statistics(champion)
    n = len(candidate.y)
    rng = np.random.Generator(np.random.PCG64(seed))
    block = max(1, min(resamples, BLOCK_CELLS // n))
    samples: dict[str, list[np.ndarray]] = {m: [] for m in names}
    done = 0
    while done < resamples:
        b = min(block, resamples - done)
        weights = _counts(rng, b, n)
        a, c = cand(weights), champ(weights)
        for m in names:
            samples[m].append(a[m] - c[m])
        done += b
        if progress is not None:
            progress(done / resamples)
    return _intervals(point, {m: np.concatenate(v) for m, v in samples.items()})


def _counts(rng: np.random.Generator, b: int, n: int) -> np.ndarray:
    """How often each row was drawn in each of ``b`` resamples of ``n`` rows."""
    idx = rng.integers(0, n, size=(b, n), dtype=np.int64 if n > 2**31 - 1 else np.int32)
    # Counts stay exact in float32 up to 2**24 rows; larger holdouts keep float64.
    out = np.empty((b, n), dtype=np.float32 if n <= 2**24 else np.float64)
    for i in range(b):  # one bincount per row is ~3x faster than one over offset indices
        out[i] = np.bincount(idx[i], minlength=n)
    return out


def _intervals(
    point: dict[str, float], draws: dict[str, np.ndarray]
) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    tail = (1 - CONFIDENCE) / 2 * 100
    out: dict[str, dict[str, float]] = {}
    undefined: dict[str, str] = {}
    for m, values in draws.items():
        finite = values[np.isfinite(values)]
        out[m] = {"delta": point[m]}
        # A resample can lose every row of a class; a few such draws are dropped, many are not.
        if len(finite) < 0.9 * len(values):
            undefined[f"deltas.{m}.ci"] = "the metric is undefined in too many resamples"
            continue
        low, high = np.percentile(finite, [tail, 100 - tail])
        out[m] |= {"ci_low": float(low), "ci_high": float(high)}
    return out, undefined


def _statistics(scored: Scored) -> Block:
    if scored.task == "regression":
        return _regression(scored.y, scored.pred)
    return _classification(scored.y, scored.pred, scored.proba, len(scored.classes))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _regression(y: np.ndarray, pred: np.ndarray) -> Block:
    err = pred - y
    nonzero = y != 0
    ape = np.where(nonzero, np.abs(err) / np.where(nonzero, np.abs(y), 1), 0.0)
    columns = np.column_stack([err**2, np.abs(err), ape, nonzero, y, y**2])

    def block(w: np.ndarray) -> dict[str, np.ndarray]:
        sq, ab, ap, nz, sy, sy2 = (w @ columns).T
        n = w.sum(axis=1, dtype=np.float64)
        total = sy2 - sy**2 / n
        return {
            "rmse": np.sqrt(sq / n),
            "mae": ab / n,
            "mape": _ratio(ap, nz),
            "r2": 1 - _ratio(sq, np.where(total > 1e-12 * sy2, total, 0)),
        }

    return block


def _classification(y: np.ndarray, pred: np.ndarray, proba: np.ndarray | None, k: int) -> Block:
    onehot_y = np.eye(k)[y]
    onehot_p = np.eye(k)[pred]
    hits = onehot_y * onehot_p
    parts = [(pred == y)[:, None], hits, onehot_p - hits, onehot_y - hits]
    if proba is not None:
        confidence = proba.max(axis=1)
        correct = proba.argmax(axis=1) == y
        ece = np.eye(15)[ece_bins(confidence)] * (correct - confidence)[:, None]
        true_p = np.clip(proba[np.arange(len(y)), y], LOG_EPS, 1 - LOG_EPS)
        brier = (proba[:, 1] - y) ** 2 if k == 2 else ((proba - onehot_y) ** 2).sum(axis=1)
        parts += [-np.log(true_p)[:, None], brier[:, None], ece]
    columns = np.column_stack(parts)
    curves = _curves(y, proba, k) if proba is not None else None

    def block(w: np.ndarray) -> dict[str, np.ndarray]:
        s = w @ columns
        n = w.sum(axis=1, dtype=np.float64)
        out = {"accuracy": s[:, 0] / n, **_prf(s[:, 1 : 1 + 3 * k], k)}
        if curves is not None:
            rest = s[:, 1 + 3 * k :]
            out |= {"log_loss": rest[:, 0] / n, "brier": rest[:, 1] / n}
            out["ece"] = np.abs(rest[:, 2:]).sum(axis=1) / n
            out |= curves(w)
        return out

    return block


def _prf(s: np.ndarray, k: int) -> dict[str, np.ndarray]:
    tp, fp, fn = s[:, :k], s[:, k : 2 * k], s[:, 2 * k :]
    if k == 2:
        tp, fp, fn = tp[:, 1], fp[:, 1], fn[:, 1]
        return {
            "precision": _ratio(tp, tp + fp),
            "recall": _ratio(tp, tp + fn),
            "f1": _ratio(2 * tp, 2 * tp + fp + fn),
        }
    # Macro over the classes present in the resample (in y or in predictions), zero for 0/0,
    # as scikit-learn does with zero_division=0.
    present = (tp + fp + fn) > 0
    count = present.sum(axis=1)
    return {
        "precision": np.nan_to_num(_ratio(tp, tp + fp)).sum(axis=1) / count,
        "recall": np.nan_to_num(_ratio(tp, tp + fn)).sum(axis=1) / count,
        "f1": np.nan_to_num(_ratio(2 * tp, 2 * tp + fp + fn)).sum(axis=1) / count,
    }


def _curves(y: np.ndarray, proba: np.ndarray, k: int) -> Callable[[np.ndarray], dict]:
    columns = [1] if k == 2 else list(range(k))
    ranked = [_Ranked(proba[:, c], y == c) for c in columns]

    def block(w: np.ndarray) -> dict[str, np.ndarray]:
        results = [r.auc_ap(w) for r in ranked]
        return {
            "roc_auc": np.mean([r[0] for r in results], axis=0),
            "pr_auc": np.mean([r[1] for r in results], axis=0),
        }

    return block


class _Ranked:
    """One score column sorted once (descending), with its tied-score groups.

    Per resample only cumulative sums along that fixed order are needed. Counts and their
    running sums are small integers, exact in float32, which halves the memory traffic of
    the hottest loop; the final sums are taken in float64.
    """

    def __init__(self, score: np.ndarray, positive: np.ndarray) -> None:
        self.order = np.argsort(-score, kind="stable")
        ordered = score[self.order]
        self.positive = positive[self.order].astype(np.float32)
        n = len(score)
        change = np.flatnonzero(np.diff(ordered) != 0)
        self.ties = len(change) + 1 < n
        if self.ties:
            starts = np.r_[0, change + 1]
            group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, n]))
            self.end = np.r_[change, n - 1][group]  # last position of each row's group
            self.before = starts[group] - 1  # last position of the previous group, or -1

    def auc_ap(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ws = np.take(w, self.order, axis=1)  # much faster than fancy indexing on 2-D rows
        pos = ws * self.positive
        cum_all, cum_pos = np.cumsum(ws, axis=1), np.cumsum(pos, axis=1)
        total_pos = cum_pos[:, -1].astype(np.float64)
        total_neg = cum_all[:, -1] - total_pos
        if self.ties:
            cum_pos, cum_all, below = self._group_sums(cum_pos, cum_all, total_pos + total_neg)
            wins = _dot(pos, below)
        else:
            # sum_i pos_i * (negatives ranked above i) equals sum(pos * cum_all) minus
            # sum(pos * cum_pos), and the latter is (P^2 + sum(pos^2)) / 2: one cumsum less.
            above = _dot(pos, cum_all) - (total_pos**2 + _dot(pos, pos)) / 2
            wins = total_pos * total_neg - above
        auc = _ratio(wins, total_pos * total_neg)
        # Where pos > 0, cum_all >= 1; elsewhere the product with pos is 0 anyway.
        precision = cum_pos / np.maximum(cum_all, 1)
        ap = _ratio(_dot(pos, precision), total_pos)
        return auc, ap

    def _group_sums(
        self, cum_pos: np.ndarray, cum_all: np.ndarray, total: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Running sums at the end of each row's tie group, and the negatives it beats."""
        cum_neg = cum_all - cum_pos
        end_pos = np.take(cum_pos, self.end, axis=1)
        end_all = np.take(cum_all, self.end, axis=1)
        end_neg = end_all - end_pos
        before_neg = np.take(cum_neg, np.maximum(self.before, 0), axis=1)
        tied = end_neg - np.where(self.before >= 0, before_neg, 0)
        total_neg = (total - cum_pos[:, -1]).astype(np.float32)
        # A positive beats every negative ranked below its group and half of those tied.
        below = total_neg[:, None] - end_neg + 0.5 * tied
        return end_pos, end_all, below


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # Row sums in float64: the products reach 1e10 and float32 would lose the AUC's digits.
    return (a * b).sum(axis=1, dtype=np.float64)
