"""Data quality monitor: nulls, out-of-range and unseen values, type errors, volume."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelward.errors import InvalidInput
from modelward.monitoring.profiles import profile_frame
from modelward.monitoring.quality import QualitySettings, compute_quality, quality_settings
from modelward.monitoring.windows import HOUR_MS

BASELINE: dict[str, Any] = {
    "features": {
        "x": {"kind": "numeric", "edges": [0.0, 0.5, 1.0], "sketch_edges": [0.0, 0.5, 1.0]},
        "k": {"kind": "categorical", "categories": ["a", "b"]},
    }
}
BASELINE["profile"] = profile_frame(
    pd.DataFrame({"x": [0.0, 0.5, 1.0, None], "k": ["a", "b", "a", "b"]}), BASELINE
)


def _window(x: list[Any], k: list[Any]) -> dict[str, Any]:
    return profile_frame(pd.DataFrame({"x": pd.Series(x, dtype=object), "k": k}), BASELINE)


def _rows(profiles: list[Any], settings: QualitySettings | None = None) -> list[Any]:
    spans = [(i * HOUR_MS, (i + 1) * HOUR_MS) for i in range(len(profiles))]
    return compute_quality(BASELINE, profiles, spans, settings or QualitySettings(), first=0)


def _feature(rows: list[Any], name: str, window: int = 0) -> Any:
    return [r for r in rows if r.feature == name and r.window_start_ms == window * HOUR_MS][0]


def test_clean_window_flags_nothing() -> None:
    rows = _rows([_window([0.1, 0.7, 0.9, 0.2], ["a", "b", "b", "a"])])
    assert not any(r.flagged for r in rows)
    assert _feature(rows, "x").details["checks"]["out_of_range"]["value"] == 0.0


def test_each_check_flags_its_own_problem() -> None:
    x = [0.1, 5.0, -3.0, "oops", None, None, 0.2, 0.3]  # 2 out of range, 1 type error
    k = ["a", "z", "z", None, "a", "b", "a", "b"]  # 2 unseen of 7 values
    rows = _rows([_window(x, k)])
    fx, fk = _feature(rows, "x"), _feature(rows, "k")
    # 3 nulls of 8 (the unparsable text counts as a type error, not a null) minus the
    # baseline's 1 in 4.
    assert fx.details["null_rate"] == pytest.approx(2 / 8 - 1 / 4)
    assert fx.details["out_of_range"] == pytest.approx(2 / 5)
    assert fx.details["type_errors"] == pytest.approx(1 / 8)
    assert set(fx.details["failed"]) == {"out_of_range", "type_errors"} and fx.flagged
    assert fk.details["unseen"] == pytest.approx(2 / 7)
    assert fk.details["unseen_values"] == {"z": 2}
    assert "unseen" in fk.details["failed"]


def test_thresholds_come_from_the_config() -> None:
    config = {"quality": {"out_of_range": 0.5, "features": {"k": {"unseen": 0.9}}}}
    settings = quality_settings(config, BASELINE)
    rows = _rows([_window([0.1, 5.0, -3.0, 0.3, 0.4], ["a", "z", "z", "a", "b"])], settings)
    assert not _feature(rows, "x").flagged and not _feature(rows, "k").flagged


def test_volume_against_the_median_of_previous_windows() -> None:
    def sized(n: int) -> dict[str, Any]:
        return _window(list(np.linspace(0, 1, n)), ["a"] * n)

    rows = _rows([sized(100), sized(110), sized(90), sized(100), sized(30), sized(250), None])
    volume = [r for r in rows if r.feature == "__volume__"]
    assert volume[0].statistic is None and volume[0].details["reason"] == "no history"
    assert [r.flagged for r in volume] == [False, False, False, False, True, True, True]
    assert volume[4].statistic == pytest.approx(30 / 100)
    assert volume[6].rows == 0  # nothing logged at all is a volume anomaly too


def test_all_null_window_is_a_null_rate_problem() -> None:
    rows = _rows([_window([None] * 4, [None] * 4)])
    assert _feature(rows, "x").details["null_rate"] == pytest.approx(1 - 1 / 4)
    assert _feature(rows, "x").flagged and _feature(rows, "k").flagged


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"quality": {"null_rate": 2}}, "config.quality.null_rate"),
        ({"quality": {"features": {"nope": {}}}}, "config.quality.features.nope"),
        ({"quality": {"volume": {"low": -1}}}, "config.quality.volume.low"),
        ({"quality": []}, "config.quality"),
    ],
)
def test_bad_quality_config_names_the_field(config: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        quality_settings(config, BASELINE)
    assert err.value.field == field
