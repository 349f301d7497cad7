"""Per-arm statistics: what observe() counts, merging, JSON round-trips and validation."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest

from modelward.errors import InvalidInput
from modelward.serving.arm_stats import (
    LATENCY_BOUNDS_MS,
    MAX_LABELS,
    OTHER,
    SCORE_BINS,
    ArmStats,
)


def test_latency_bounds_are_log_spaced_from_a_tenth_of_a_ms_to_30_s() -> None:
    assert LATENCY_BOUNDS_MS[0] == 0.1 and LATENCY_BOUNDS_MS[-1] == 30_000.0
    assert 35 <= len(LATENCY_BOUNDS_MS) <= 45
    ratios = [b / a for a, b in zip(LATENCY_BOUNDS_MS, LATENCY_BOUNDS_MS[1:], strict=False)]
    assert all(1.3 < r < 1.45 for r in ratios)


def test_observe_counts_requests_errors_and_latency_buckets() -> None:
    s = ArmStats()
    assert s.empty() and s.error_rate() is None and s.latency_quantile(0.95) is None
    for ms in (0.05, 0.1, 12.0, 12.8, 40_000.0):
        s.observe(ms)
    s.observe(1.0, error=True)
    assert not s.empty()
    assert s.requests == 6 and s.errors == 1 and s.error_rate() == pytest.approx(1 / 6)
    assert len(s.latency) == len(LATENCY_BOUNDS_MS) + 1 and sum(s.latency) == 6
    assert s.latency[0] == 2  # 0.05 and exactly 0.1: bounds are inclusive
    assert s.latency[LATENCY_BOUNDS_MS.index(12.8)] == 2
    assert s.latency[-1] == 1  # beyond 30 s: the overflow bucket


def test_latency_quantiles_are_bucket_upper_bounds() -> None:
    s = ArmStats()
    for _ in range(90):
        s.observe(10.0)
    for _ in range(10):
        s.observe(100.0)
    assert s.latency_quantile(0.5) == 12.8
    assert s.latency_quantile(0.9) == 12.8
    assert s.latency_quantile(0.95) == 123.0
    assert s.latency_quantile(1.0) == 123.0
    s.observe(90_000.0)
    assert s.latency_quantile(1.0) == 30_000.0  # "30 s or more"
    with pytest.raises(InvalidInput) as err:
        s.latency_quantile(1.5)
    assert err.value.field == "q"


def test_scores_fill_twenty_bins_over_zero_to_one() -> None:
    s = ArmStats()
    s.observe(1.0)
    assert s.scores == []  # nothing until a score is seen
    s.observe(1.0, scores=np.array([0.0, 0.049, 0.05, 0.5, 1.0, math.nan]))
    assert len(s.scores) == SCORE_BINS and sum(s.scores) == 5  # NaN skipped
    assert s.scores[0] == 2 and s.scores[1] == 1 and s.scores[10] == 1 and s.scores[19] == 1
    many = np.random.default_rng(3).random(1000)
    s.observe(1.0, scores=many)
    expected = np.bincount(np.minimum((many * 20).astype(int), 19), minlength=20)
    assert s.scores[2:10] == expected[2:10].tolist()
    assert s.score_count() == 1005


def test_integer_and_string_predictions_are_counted_as_labels() -> None:
    s = ArmStats()
    s.observe(1.0, labels=np.array([1, 0, 1]))
    s.observe(1.0, labels=np.array(["yes"], dtype=object))
    s.observe(1.0, labels=np.array([0] * 50 + [1] * 30))
    assert s.labels == {"1": 32, "0": 51, "yes": 1}
    assert s.value_count == 0


def test_labels_beyond_the_cap_go_to_other() -> None:
    s = ArmStats()
    s.observe(1.0, labels=np.arange(MAX_LABELS + 30))
    s.observe(1.0, labels=np.array([5, 100_000]))
    assert len(s.labels) == MAX_LABELS + 1
    assert s.labels[OTHER] == 31 and s.labels["5"] == 2
    assert s.label_count() == MAX_LABELS + 32


def test_float_predictions_are_summed_as_regression_values() -> None:
    s = ArmStats()
    s.observe(1.0, labels=np.array([1.5, 2.5, math.inf]))
    s.observe(1.0, labels=np.linspace(0, 10, 101))
    assert s.labels == {}
    assert s.value_count == 103
    assert s.value_sum == pytest.approx(4.0 + 505.0)
    mean, std = s.value_mean_std()  # type: ignore[misc]
    values = np.concatenate([[1.5, 2.5], np.linspace(0, 10, 101)])
    assert mean == pytest.approx(values.mean()) and std == pytest.approx(values.std(ddof=1))


def test_an_unusable_prediction_does_not_fail_the_request() -> None:
    s = ArmStats()
    s.observe(3.0, scores=np.array([object()], dtype=object))
    assert s.requests == 1 and s.scores in ([], [0] * SCORE_BINS)


def _traffic(seed: int) -> list[tuple[float, bool, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(300):
        n = int(rng.integers(1, 40))
        out.append(
            (
                float(rng.lognormal(2, 1)),
                bool(rng.random() < 0.1),
                rng.random(n),
                rng.integers(0, 7, n),
            )
        )
    return out


def test_merging_split_observations_equals_observing_everything_at_once() -> None:
    traffic = _traffic(7)
    whole = ArmStats()
    parts = [ArmStats(), ArmStats(), ArmStats()]
    for i, (ms, error, scores, labels) in enumerate(traffic):
        values = labels.astype(float) / 4  # quarters: sums are exact in any order
        for target in (whole, parts[i % 3]):
            target.observe(ms, error=error, scores=scores, labels=labels)
            target.observe(ms, labels=values)
    merged = ArmStats()
    for part in parts:
        merged.merge(part)
    assert merged == whole
    assert merged.latency_quantile(0.95) == whole.latency_quantile(0.95)


def test_json_round_trip_survives_real_json() -> None:
    s = ArmStats()
    for ms, error, scores, labels in _traffic(2)[:50]:
        s.observe(ms, error=error, scores=scores, labels=labels)
    s.observe(4.0, labels=np.array([0.1, 0.2]))
    back = ArmStats.from_json(json.loads(json.dumps(s.to_json())))
    assert back == s
    assert ArmStats.from_json(ArmStats().to_json()) == ArmStats()


def _valid() -> dict[str, object]:
    s = ArmStats()
    s.observe(5.0, error=True, scores=np.array([0.2]))
    return s.to_json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"requests": -1}, "stats.requests"),
        ({"requests": "1"}, "stats.requests"),
        ({"errors": True}, "stats.errors"),
        ({"errors": 2}, "stats.errors"),  # more errors than requests
        ({"latency": [1, 2]}, "stats.latency"),
        ({"latency": None}, "stats.latency"),
        ({"scores": [1] * 19}, "stats.scores"),
        ({"scores": [0.5] * 20}, "stats.scores"),
        ({"labels": ["a"]}, "stats.labels"),
        ({"labels": {"a": -3}}, "stats.labels"),
        ({"labels": {str(i): 1 for i in range(MAX_LABELS + 1)}}, "stats.labels"),
        ({"value_sum": math.nan}, "stats.value_sum"),
        ({"value_sumsq": 4.0}, "stats.value_sumsq"),  # sums without any value
        ({"format": 9}, "stats.format"),
        ({"surprise": 1}, "stats.surprise"),
    ],
)
def test_from_json_refuses_garbage_naming_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        ArmStats.from_json({**_valid(), **change})
    assert err.value.field == field
    assert field in err.value.message


def test_from_json_refuses_a_request_count_the_latency_does_not_add_up_to() -> None:
    with pytest.raises(InvalidInput) as err:
        ArmStats.from_json({**_valid(), "requests": 5, "errors": 0})
    assert err.value.field == "stats.latency"
    for garbage in (None, [], "stats", {}):
        with pytest.raises(InvalidInput):
            ArmStats.from_json(garbage)  # type: ignore[arg-type]


def test_observing_a_single_row_request_is_cheap() -> None:
    s = ArmStats()
    scores = np.array([[0.3, 0.7]])[:, 1]  # the gateway passes a column view
    calls = 20_000
    started = time.perf_counter()
    for _ in range(calls):
        s.observe(12.5, scores=scores)
    per_call_us = (time.perf_counter() - started) / calls * 1e6
    # about 0.5 µs on a quiet machine; the bound leaves room for a busy one
    assert per_call_us < 25, f"{per_call_us:.2f} µs per observe()"
    assert s.requests == calls and s.scores[14] == calls
