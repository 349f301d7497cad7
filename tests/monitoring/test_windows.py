"""Monitoring windows: sizes, alignment to the UTC epoch, hourly segments, merged profiles."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from modelward.errors import InvalidInput
from modelward.monitoring.profiles import merge, profile_frame
from modelward.monitoring.windows import (
    DAY_MS,
    HOUR_MS,
    complete,
    hourly_window,
    merge_profiles,
    parse_window,
    to_ms,
    windows,
)

T0 = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("size", "ms"),
    [("30m", 1_800_000), ("1h", HOUR_MS), ("6h", 6 * HOUR_MS), ("1d", DAY_MS),
     ("7d", 7 * DAY_MS), ("1w", 7 * DAY_MS), ("30d", 30 * DAY_MS)],
)  # fmt: skip
def test_window_sizes(size: str, ms: int) -> None:
    assert parse_window(size) == ms


@pytest.mark.parametrize("size", ["", "0h", "1y", "h", "-1d", "1.5h", "1 day"])
def test_bad_window_sizes_are_refused_naming_the_field(size: str) -> None:
    with pytest.raises(InvalidInput, match="window") as err:
        parse_window(size)
    assert err.value.field == "window"


def test_windows_smaller_than_an_hour_are_refused_for_monitors() -> None:
    with pytest.raises(InvalidInput, match="whole number of hours"):
        hourly_window("30m")
    with pytest.raises(InvalidInput, match="whole number of hours"):
        hourly_window("90m")
    assert hourly_window("120m") == 2 * HOUR_MS


def test_windows_are_aligned_to_the_epoch_and_cover_the_period() -> None:
    spans = windows(T0 + 5 * HOUR_MS, T0 + DAY_MS + HOUR_MS, "1d")
    assert spans == [(T0, T0 + DAY_MS), (T0 + DAY_MS, T0 + 2 * DAY_MS)]
    assert all(s % DAY_MS == 0 for s, _ in spans)
    six = windows(T0 + 7 * HOUR_MS, T0 + 13 * HOUR_MS, "6h")
    assert six == [(T0 + 6 * HOUR_MS, T0 + 12 * HOUR_MS), (T0 + 12 * HOUR_MS, T0 + 18 * HOUR_MS)]
    assert windows(T0, T0, "1h") == []


def test_complete_windows_have_ended() -> None:
    spans = windows(T0, T0 + 30 * HOUR_MS, "1d")
    assert complete(spans, T0 + 30 * HOUR_MS) == [(T0, T0 + DAY_MS)]


def test_too_many_windows_are_refused() -> None:
    with pytest.raises(InvalidInput, match="at most"):
        windows(0, 10 * 365 * DAY_MS, "1h")


def test_instants_in_every_form() -> None:
    assert to_ms("2026-01-05", "since") == T0
    assert to_ms("2026-01-05T00:00:00Z", "since") == T0
    assert to_ms(datetime(2026, 1, 5), "since") == T0
    assert to_ms(T0, "since") == T0
    assert to_ms(str(T0), "since") == T0
    assert to_ms(None, "since") is None
    with pytest.raises(InvalidInput, match="until"):
        to_ms("yesterday", "until")


def test_merging_many_profiles_equals_folding_merge() -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(["a", "b", "z"], size=300)})
    baseline = {
        "features": {
            "x": {"kind": "numeric", "edges": [-1.0, 0.0, 1.0], "sketch_edges": [-2.0, 0.0, 2.0]},
            "c": {"kind": "categorical", "categories": ["a", "b"]},
        }
    }
    parts = [profile_frame(frame.iloc[i : i + 100], baseline) for i in (0, 100, 200)]
    folded = merge(merge(parts[0], parts[1]), parts[2])
    assert merge_profiles(parts, baseline) == folded
    whole, merged = profile_frame(frame, baseline), merge_profiles(parts, baseline)
    for key in ("sum", "sum_sq"):  # float addition in another order
        assert merged["features"]["x"].pop(key) == pytest.approx(whole["features"]["x"].pop(key))
    assert merged == whole
