"""Canary analysis on synthetic arms: each check, the overall verdict and the thresholds."""

from __future__ import annotations

import json

import numpy as np
import pytest

from modelward.errors import InvalidInput
from modelward.serving.analysis import Check, Quality, Thresholds, Verdict, judge
from modelward.serving.arm_stats import ArmStats

CHECKS = ["sample", "error_rate", "latency_p95", "latency_p99", "prediction_drift", "quality"]


def arm(
    n: int,
    *,
    seed: int,
    errors: int = 0,
    latency_ms: float = 20.0,
    beta: tuple[float, float] | None = (2.0, 5.0),
) -> ArmStats:
    """``n`` single-row requests, the first ``errors`` of them failed (no prediction)."""
    rng = np.random.default_rng(seed)
    s = ArmStats()
    latencies = rng.lognormal(np.log(latency_ms), 0.2, n)
    scores = rng.beta(*beta, n) if beta else None
    for i in range(n):
        if i < errors:
            s.observe(float(latencies[i]), error=True)
        else:
            s.observe(float(latencies[i]), scores=None if scores is None else scores[i : i + 1])
    return s


def check(verdict: Verdict, name: str) -> Check:
    return next(c for c in verdict.checks if c.name == name)


def test_equal_arms_pass_every_check() -> None:
    verdict = judge(arm(3000, seed=1), arm(600, seed=2), Thresholds())
    assert verdict.outcome == "pass", verdict.reason
    assert [c.name for c in verdict.checks] == CHECKS
    assert [c.outcome for c in verdict.checks] == ["pass"] * 5 + ["n/a"]
    body = verdict.to_dict()
    json.dumps(body, allow_nan=False)
    assert body["outcome"] == "pass" and len(body["checks"]) == 6


def test_too_little_traffic_pauses_and_says_how_many_are_missing() -> None:
    verdict = judge(arm(5000, seed=1), arm(120, seed=2, latency_ms=500.0), Thresholds())
    assert verdict.outcome == "pause"
    sample = check(verdict, "sample")
    assert sample.outcome == "pause" and sample.challenger == 120 and sample.limit == 200
    assert "80 more" in sample.message and verdict.reason.startswith("sample: ")
    # a far slower challenger is not judged on 120 requests
    assert check(verdict, "latency_p95").outcome == "pause"


def test_a_five_percent_error_challenger_pauses_before_min_requests_and_fails_after() -> None:
    primary = arm(4000, seed=1)
    early = judge(primary, arm(100, seed=2, errors=5), Thresholds())
    assert early.outcome == "pause"
    assert check(early, "error_rate").outcome == "pause"
    late = judge(primary, arm(400, seed=2, errors=20), Thresholds())
    assert late.outcome == "fail"
    errors = check(late, "error_rate")
    assert errors.outcome == "fail" and errors.challenger == pytest.approx(0.05)
    assert errors.primary == 0.0 and errors.limit == pytest.approx(0.01)
    assert late.reason.startswith("error_rate: ") and "5%" in late.reason


def test_overwhelming_errors_fail_before_min_requests() -> None:
    primary = arm(4000, seed=1)
    # 100 failed requests are half of min_requests: 50% errors at best by then
    broken = judge(primary, arm(100, seed=2, errors=100), Thresholds())
    assert broken.outcome == "fail"
    assert check(broken, "sample").outcome == "pause"
    assert check(broken, "error_rate").outcome == "fail"
    assert "already 100 errors" in broken.reason
    assert judge(primary, arm(99, seed=2, errors=99), Thresholds()).outcome == "pause"


def test_overwhelming_errors_shared_by_the_primary_do_not_fail_early() -> None:
    # 123 of 150 failed (82%), but the primary fails 80% too: no significant increase
    outage = judge(arm(400, seed=1, errors=320), arm(150, seed=2, errors=123), Thresholds())
    assert outage.outcome == "pause"
    assert check(outage, "error_rate").outcome == "pause"


def test_a_small_insignificant_error_increase_passes() -> None:
    primary = arm(2000, seed=1, errors=20)  # 1.0%
    challenger = arm(250, seed=2, errors=6)  # 2.4%: above +1 point, but on 250 requests
    verdict = judge(primary, challenger, Thresholds())
    errors = check(verdict, "error_rate")
    assert errors.challenger - errors.primary > 0.01  # type: ignore[operator]
    assert errors.outcome == "pass" and "not significantly" in errors.message
    assert verdict.outcome == "pass"


def test_a_slow_challenger_fails_on_p95() -> None:
    verdict = judge(arm(2000, seed=1), arm(400, seed=2, latency_ms=60.0), Thresholds())
    assert verdict.outcome == "fail"
    p95 = check(verdict, "latency_p95")
    assert p95.outcome == "fail" and p95.challenger > 2 * p95.primary  # type: ignore[operator]
    assert p95.limit == pytest.approx(1.5 * p95.primary)  # type: ignore[operator]
    assert verdict.reason.startswith("latency_p95: ")


def test_a_sub_millisecond_slowdown_is_noise_even_at_three_times() -> None:
    verdict = judge(
        arm(2000, seed=1, latency_ms=0.2), arm(400, seed=2, latency_ms=0.6), Thresholds()
    )
    p95 = check(verdict, "latency_p95")
    assert p95.challenger / p95.primary > 2.5  # type: ignore[operator]
    assert p95.outcome == "pass" and verdict.outcome == "pass"


def test_a_few_slow_requests_are_not_a_p99_on_a_small_sample() -> None:
    primary, challenger = arm(300, seed=1), arm(300, seed=2)
    for _ in range(4):
        challenger.observe(900.0)  # four hiccups: among 304 requests they are the p99
    verdict = judge(primary, challenger, Thresholds(min_requests=50))
    p99 = check(verdict, "latency_p99")
    assert p99.challenger == pytest.approx(1000, rel=0.4)  # shown as measured
    assert p99.outcome == "n/a" and "needs 500 requests" in p99.message
    assert check(verdict, "latency_p95").outcome == "pass"  # 15 requests lie beyond it
    assert verdict.outcome == "pass"
    for _ in range(300):
        challenger.observe(900.0)  # slow for real, on enough requests: judged, and failed
        primary.observe(20.0)
    later = judge(primary, challenger, Thresholds(min_requests=50))
    assert check(later, "latency_p99").outcome == "fail"


def test_p95_is_judged_from_a_hundred_requests_per_arm() -> None:
    slow = arm(99, seed=2, latency_ms=60.0)
    early = judge(arm(99, seed=1), slow, Thresholds(min_requests=50))
    assert check(early, "latency_p95").outcome == "n/a"
    slow.observe(60.0)
    primary = arm(100, seed=1)
    later = judge(primary, slow, Thresholds(min_requests=50))
    assert check(later, "latency_p95").outcome == "fail"


def test_a_shifted_score_distribution_fails_drift() -> None:
    verdict = judge(arm(3000, seed=1), arm(500, seed=2, beta=(5.0, 2.0)), Thresholds())
    drift = check(verdict, "prediction_drift")
    assert drift.outcome == "fail" and drift.challenger > 1.0  # type: ignore[operator]
    assert "PSI of scores" in drift.message and verdict.outcome == "fail"


def test_the_same_score_distribution_has_psi_near_zero() -> None:
    verdict = judge(arm(5000, seed=1), arm(5000, seed=2), Thresholds())
    drift = check(verdict, "prediction_drift")
    assert drift.outcome == "pass"
    assert drift.challenger is not None and 0 <= drift.challenger < 0.02


def labelled(counts: dict[str, int], seed: int) -> ArmStats:
    s = ArmStats()
    rows = np.random.default_rng(seed).permutation(np.repeat(list(counts), list(counts.values())))
    for label in rows:
        s.observe(5.0, labels=np.array([label], dtype=object))
    return s


def test_label_drift_is_judged_when_there_are_no_scores() -> None:
    primary = labelled({"approve": 700, "refer": 200, "decline": 100}, seed=1)
    same = labelled({"approve": 350, "refer": 100, "decline": 50}, seed=2)
    flipped = labelled({"approve": 100, "refer": 200, "decline": 700}, seed=3)
    assert check(judge(primary, same, Thresholds()), "prediction_drift").outcome == "pass"
    drift = check(judge(primary, flipped, Thresholds()), "prediction_drift")
    assert drift.outcome == "fail" and "PSI of labels" in drift.message


def regression(n: int, mean: float, seed: int) -> ArmStats:
    s = ArmStats()
    for v in np.random.default_rng(seed).normal(mean, 10.0, n):
        s.observe(5.0, labels=np.array([v]))
    return s


def test_regression_drift_is_a_standardized_mean_difference() -> None:
    primary = regression(2000, 100.0, seed=1)
    same = check(judge(primary, regression(500, 100.0, seed=2), Thresholds()), "prediction_drift")
    assert same.outcome == "pass" and same.challenger < 0.15  # type: ignore[operator]
    shifted = judge(primary, regression(500, 105.0, seed=3), Thresholds())
    drift = check(shifted, "prediction_drift")
    assert drift.outcome == "fail" and drift.challenger == pytest.approx(0.5, abs=0.12)
    assert "standardized mean difference" in drift.message


def test_drift_is_not_applicable_without_predictions() -> None:
    verdict = judge(arm(500, seed=1, beta=None), arm(500, seed=2, beta=None), Thresholds())
    drift = check(verdict, "prediction_drift")
    assert drift.outcome == "n/a" and drift.message == "no predictions observed"
    assert verdict.outcome == "pass"


def accuracy(challenger: float, n: int) -> Quality:
    return Quality("accuracy", True, 0.90, challenger, n + 40, n)


def test_a_quality_drop_fails_only_once_labels_suffice() -> None:
    p, c = arm(1000, seed=1), arm(500, seed=2)
    waiting = judge(p, c, Thresholds(), accuracy(0.70, 60))
    assert check(waiting, "quality").outcome == "n/a" and waiting.outcome == "pass"
    assert "100 labels per arm" in check(waiting, "quality").message
    dropped = judge(p, c, Thresholds(), accuracy(0.80, 150))
    quality = check(dropped, "quality")
    assert quality.outcome == "fail" and quality.limit == pytest.approx(0.85)
    assert dropped.outcome == "fail" and "accuracy" in dropped.reason
    assert judge(p, c, Thresholds(), accuracy(0.86, 150)).outcome == "pass"


def test_an_accuracy_drop_chance_explains_does_not_roll_back() -> None:
    p, c = arm(1000, seed=1), arm(500, seed=2)
    small = Quality("accuracy", True, 0.76, 0.70, 100, 100)  # 6 points on 100 labels each
    quality = check(judge(p, c, Thresholds(), small), "quality")
    assert quality.outcome == "pass" and "not significant" in quality.message
    large = Quality("accuracy", True, 0.76, 0.70, 2000, 2000)  # the same drop, well measured
    assert check(judge(p, c, Thresholds(), large), "quality").outcome == "fail"


def test_an_error_metric_may_rise_by_a_share_of_the_primary() -> None:
    p, c = arm(1000, seed=1), arm(500, seed=2)
    small = Quality("rmse", False, 1000.0, 1040.0, 300, 300)  # 4% worse
    assert check(judge(p, c, Thresholds(), small), "quality").outcome == "pass"
    large = Quality("rmse", False, 1000.0, 1100.0, 300, 300)  # 10% worse
    quality = check(judge(p, c, Thresholds(), large), "quality")
    assert quality.outcome == "fail" and quality.limit == pytest.approx(1050.0)


def test_thresholds_round_trip_and_override() -> None:
    assert Thresholds.from_dict(None) == Thresholds() == Thresholds.from_dict({})
    custom = Thresholds.from_dict({"min_requests": 50.0, "max_p95_ratio": 2})
    assert custom.min_requests == 50 and isinstance(custom.min_requests, int)
    assert custom.max_p95_ratio == 2.0
    assert Thresholds.from_dict(custom.to_dict()) == custom
    assert judge(arm(60, seed=1), arm(60, seed=2), custom).outcome == "pass"


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"min_request": 10}, "analysis.min_request", "unknown threshold"),
        ({"min_requests": 0}, "analysis.min_requests", "from 1 to"),
        ({"min_requests": 10.5}, "analysis.min_requests", "whole number"),
        ({"min_requests": True}, "analysis.min_requests", "whole number"),
        ({"max_error_rate_increase": 1.5}, "analysis.max_error_rate_increase", "from 0 to 1"),
        ({"max_p95_ratio": 0.5}, "analysis.max_p95_ratio", "from 1 to 1000"),
        ({"max_p99_ratio": "2"}, "analysis.max_p99_ratio", "a number"),
        ({"min_latency_delta_ms": -1}, "analysis.min_latency_delta_ms", "from 0 to"),
        ({"max_prediction_drift": float("nan")}, "analysis.max_prediction_drift", "a number"),
        ({"max_quality_drop": None}, "analysis.max_quality_drop", "from 0 to 1"),
        ({"min_labels": -5}, "analysis.min_labels", "from 1 to"),
    ],
)
def test_thresholds_refuse_unknown_keys_and_out_of_range_values(
    body: dict[str, object], field: str, says: str
) -> None:
    with pytest.raises(InvalidInput) as err:
        Thresholds.from_dict(body)
    assert err.value.field == field
    assert err.value.message.startswith(field) and says in err.value.message


def test_thresholds_must_be_an_object() -> None:
    with pytest.raises(InvalidInput) as err:
        Thresholds.from_dict([1, 2])  # type: ignore[arg-type]
    assert err.value.field == "analysis"
