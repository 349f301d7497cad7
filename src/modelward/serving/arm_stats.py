"""Mergeable per-arm statistics of served traffic: requests, errors, a latency histogram
and a summary of the predictions.

A gateway replica keeps one ``ArmStats`` per arm and minute, observes every request on the
hot path, and flushes it as JSON; any replica can merge the rows of all replicas later.
Everything is a count or a sum, so merging is addition and the result does not depend on
how the traffic was split between replicas or flushes.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelward.errors import InvalidInput

if TYPE_CHECKING:
    import numpy as np

# Upper bounds (inclusive) of the latency buckets: 40 log-spaced values from 0.1 ms to 30 s,
# rounded to 3 significant digits. Consecutive bounds differ by a factor of about 1.38, which
# is the resolution of every latency quantile. A last, unbounded bucket holds the rest.
LATENCY_BOUNDS_MS: tuple[float, ...] = tuple(
    float(f"{0.1 * 300_000 ** (i / 39):.3g}") for i in range(40)
)
SCORE_BINS = 20
MAX_LABELS = 100
OTHER = "__other__"
FORMAT = 1
# Below this many rows a plain loop beats numpy's per-call overhead.
_SMALL = 16

_N_LATENCY = len(LATENCY_BOUNDS_MS) + 1


@dataclass(slots=True)
class ArmStats:
    """What one arm served: counts and sums only, so two of them merge by addition.

    ``latency`` counts requests per ``LATENCY_BOUNDS_MS`` bucket plus one overflow bucket;
    ``scores`` counts positive-class probabilities in ``SCORE_BINS`` equal bins over [0, 1]
    (empty until a score is seen); ``labels`` counts predicted labels as strings, at most
    ``MAX_LABELS`` of them plus ``"__other__"`` for every further one; ``value_*`` sum
    numeric (regression) predictions.
    """

    requests: int = 0
    errors: int = 0
    latency: list[int] = field(default_factory=lambda: [0] * _N_LATENCY)
    scores: list[int] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)
    value_sum: float = 0.0
    value_sumsq: float = 0.0
    value_count: int = 0

    # ------------------------------------------------------------------ hot path

    def observe(
        self,
        latency_ms: float,
        *,
        error: bool = False,
        scores: np.ndarray | None = None,
        labels: np.ndarray | None = None,
    ) -> None:
        """Count one request (of one or more rows) that took ``latency_ms``.

        ``scores`` are the rows' positive-class probabilities; ``labels`` their predictions:
        a float array is taken as regression values, any other as class labels. Non-finite
        scores and values are skipped; a prediction of an unusable type is ignored rather
        than failing the request that produced it.
        """
        self.requests += 1
        if error:
            self.errors += 1
        self.latency[bisect_left(LATENCY_BOUNDS_MS, latency_ms)] += 1
        try:
            if scores is not None and len(scores):
                self._observe_scores(scores)
            if labels is not None and len(labels):
                if getattr(labels, "dtype", None) is not None and labels.dtype.kind == "f":
                    self._observe_values(labels)
                else:
                    self._observe_labels(labels)
        except (TypeError, ValueError):
            pass

    def _observe_scores(self, scores: np.ndarray) -> None:
        if not self.scores:
            self.scores = [0] * SCORE_BINS
        bins = self.scores
        if len(scores) <= _SMALL:
            for s in scores.tolist() if hasattr(scores, "tolist") else scores:
                s = float(s)
                if not -math.inf < s < math.inf:  # NaN fails both comparisons
                    continue
                i = int(s * SCORE_BINS)
                bins[0 if i < 0 else SCORE_BINS - 1 if i >= SCORE_BINS else i] += 1
            return
        import numpy as np  # on first large batch: the API server never needs numpy to start

        arr = np.asarray(scores, dtype=np.float64).ravel()
        arr = arr[np.isfinite(arr)]
        idx = np.clip((arr * SCORE_BINS).astype(np.int64), 0, SCORE_BINS - 1)
        counts = np.bincount(idx, minlength=SCORE_BINS).tolist()
        self.scores = [a + b for a, b in zip(bins, counts, strict=True)]

    def _observe_values(self, values: np.ndarray) -> None:
        if len(values) <= _SMALL:
            for v in values.ravel().tolist():
                if math.isfinite(v):
                    self.value_sum += v
                    self.value_sumsq += v * v
                    self.value_count += 1
            return
        import numpy as np

        arr = np.asarray(values, dtype=np.float64).ravel()
        arr = arr[np.isfinite(arr)]
        self.value_sum += float(arr.sum())
        self.value_sumsq += float(np.dot(arr, arr))
        self.value_count += int(arr.size)

    def _observe_labels(self, labels: np.ndarray) -> None:
        if len(labels) <= _SMALL:
            for v in labels.tolist() if hasattr(labels, "tolist") else labels:
                self._add_label(str(v), 1)
            return
        import numpy as np

        try:
            keys, counts = np.unique(np.asarray(labels).ravel(), return_counts=True)
        except TypeError:  # mixed types numpy cannot order
            for v in np.asarray(labels, dtype=object).ravel().tolist():
                self._add_label(str(v), 1)
            return
        for k, c in zip(keys.tolist(), counts.tolist(), strict=True):
            self._add_label(str(k), c)

    def _add_label(self, key: str, n: int) -> None:
        labels = self.labels
        if key in labels:
            labels[key] += n
        elif len(labels) - (OTHER in labels) < MAX_LABELS:
            labels[key] = n
        else:
            labels[OTHER] = labels.get(OTHER, 0) + n

    # ------------------------------------------------------------------ merging

    def merge(self, other: ArmStats) -> None:
        """Add ``other``'s counts to these; merged stats equal having observed both."""
        self.requests += other.requests
        self.errors += other.errors
        self.latency = [a + b for a, b in zip(self.latency, other.latency, strict=True)]
        if other.scores:
            if self.scores:
                self.scores = [a + b for a, b in zip(self.scores, other.scores, strict=True)]
            else:
                self.scores = list(other.scores)
        for key, n in other.labels.items():
            self._add_label(key, n)
        self.value_sum += other.value_sum
        self.value_sumsq += other.value_sumsq
        self.value_count += other.value_count

    # ------------------------------------------------------------------ reading

    def empty(self) -> bool:
        """True when no request has been observed."""
        return self.requests == 0

    def error_rate(self) -> float | None:
        """Errors per request, or None before the first request."""
        return self.errors / self.requests if self.requests else None

    def latency_quantile(self, q: float) -> float | None:
        """The upper bound (ms) of the bucket holding the ``q`` quantile, or None when empty.

        Requests slower than the last bound are reported as that bound (30 s): the figure
        then means "30 s or more".
        """
        if not (isinstance(q, int | float) and 0.0 <= q <= 1.0):
            raise InvalidInput(f"q: a quantile must be between 0 and 1, got {q!r}", field="q")
        total = sum(self.latency)
        if total == 0:
            return None
        rank = max(1, math.ceil(q * total))
        seen = 0
        for i, n in enumerate(self.latency):
            seen += n
            if seen >= rank:
                return LATENCY_BOUNDS_MS[min(i, len(LATENCY_BOUNDS_MS) - 1)]
        return LATENCY_BOUNDS_MS[-1]

    def score_count(self) -> int:
        """How many scores (rows with a positive-class probability) were observed."""
        return sum(self.scores)

    def label_count(self) -> int:
        """How many predicted labels were observed."""
        return sum(self.labels.values())

    def value_mean_std(self) -> tuple[float, float] | None:
        """Mean and sample standard deviation of the numeric predictions (None below 2)."""
        n = self.value_count
        if n < 2:
            return None
        mean = self.value_sum / n
        var = max(0.0, (self.value_sumsq - self.value_sum * mean) / (n - 1))
        return mean, math.sqrt(var)

    # ------------------------------------------------------------------ JSON

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict that ``from_json`` turns back into equal stats."""
        return {
            "format": FORMAT,
            "requests": self.requests,
            "errors": self.errors,
            "latency": list(self.latency),
            "scores": list(self.scores),
            "labels": dict(self.labels),
            "value_sum": self.value_sum,
            "value_sumsq": self.value_sumsq,
            "value_count": self.value_count,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ArmStats:
        """Stats from ``to_json``'s dict; anything malformed raises ``InvalidInput``."""
        if not isinstance(d, dict):
            raise InvalidInput("stats: must be an object", field="stats")
        unknown = sorted(set(d) - _JSON_KEYS)
        if unknown:
            raise InvalidInput(f"stats.{unknown[0]}: unknown key", field=f"stats.{unknown[0]}")
        if d.get("format", FORMAT) != FORMAT:
            raise InvalidInput(
                f"stats.format: {d['format']!r} is not a known format ({FORMAT})",
                field="stats.format",
            )
        out = cls(
            requests=_count(d.get("requests"), "requests"),
            errors=_count(d.get("errors"), "errors"),
            latency=_counts(d.get("latency"), "latency", (_N_LATENCY,)),
            scores=_counts(d.get("scores", []), "scores", (0, SCORE_BINS)),
            labels=_label_counts(d.get("labels", {})),
            value_sum=_number(d.get("value_sum", 0.0), "value_sum"),
            value_sumsq=_number(d.get("value_sumsq", 0.0), "value_sumsq"),
            value_count=_count(d.get("value_count", 0), "value_count"),
        )
        _check_consistent(out)
        return out


_JSON_KEYS = frozenset(ArmStats().to_json())


def _count(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(
            f"stats.{key}: must be a whole number >= 0, got {value!r}", field=f"stats.{key}"
        )
    return value


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(
            f"stats.{key}: must be a finite number, got {value!r}", field=f"stats.{key}"
        )
    return float(value)


def _counts(value: Any, key: str, lengths: tuple[int, ...]) -> list[int]:
    if not isinstance(value, list) or len(value) not in lengths:
        allowed = " or ".join(str(n) for n in lengths)
        raise InvalidInput(f"stats.{key}: must be a list of {allowed} counts", field=f"stats.{key}")
    return [_count(v, key) for v in value]


def _label_counts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict) or len(value) - (OTHER in value) > MAX_LABELS:
        raise InvalidInput(
            f"stats.labels: must map at most {MAX_LABELS} labels (and {OTHER}) to counts",
            field="stats.labels",
        )
    return {str(k): _count(v, "labels") for k, v in value.items()}


def _check_consistent(s: ArmStats) -> None:
    if s.errors > s.requests:
        raise InvalidInput(
            f"stats.errors: {s.errors} errors in {s.requests} requests", field="stats.errors"
        )
    if sum(s.latency) != s.requests:
        raise InvalidInput(
            f"stats.latency: counts {sum(s.latency)} requests, not {s.requests}",
            field="stats.latency",
        )
    if s.value_sumsq < 0 or (s.value_count == 0 and (s.value_sum or s.value_sumsq)):
        raise InvalidInput(
            "stats.value_sumsq: sums do not fit the number of values", field="stats.value_sumsq"
        )
