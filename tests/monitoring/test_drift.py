"""Drift monitor: injected shifts are flagged exactly, on large and small windows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

import modelward as mw
from modelward.errors import InvalidInput
from modelward.monitoring import log_service as _log_service  # noqa: F401  (registers its verbs)
from modelward.monitoring import monitor_service as _monitor_service  # noqa: F401
from modelward.monitoring.drift import DriftSettings, compute_drift, drift_settings
from modelward.monitoring.windows import DAY_MS, HOUR_MS

NUMERIC = [f"n{i:02d}" for i in range(15)]
CATEGORICAL = [f"q{j}" for j in range(5)]
SHIFTED_NUMERIC = ["n02", "n05", "n09"]
SHIFTED_CATEGORICAL = ["q1", "q3"]
SHIFTED = set(SHIFTED_NUMERIC + SHIFTED_CATEGORICAL)
MIX = [0.5, 0.3, 0.2]
DAY0 = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp() * 1000)
ENDPOINT = "credit-api"


Monitoring = mw.Client


def sdk(client: mw.Client) -> mw.Client:
    """The SDK carries the monitoring and logging verbs."""
    return client


def frame(rows: int, seed: int, shifted: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {n: rng.normal(size=rows) for n in NUMERIC}
    for n in CATEGORICAL:
        mix = MIX[::-1] if shifted and n in SHIFTED_CATEGORICAL else MIX
        data[n] = rng.choice(["a", "b", "c"], size=rows, p=mix)
    out = pd.DataFrame(data)
    if shifted:
        for n in SHIFTED_NUMERIC:
            out[n] += 0.5  # half a standard deviation
    return out


@dataclass
class Scenario:
    train: pd.DataFrame
    target: pd.Series
    model: Any


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    train = frame(5000, seed=1)
    rng = np.random.default_rng(2)
    target = ((train["n00"] + train["n01"] + rng.normal(size=len(train))) > 0).astype(int)
    encoder = make_column_transformer(
        (OneHotEncoder(handle_unknown="ignore"), CATEGORICAL), remainder="passthrough"
    )
    model = make_pipeline(encoder, LogisticRegression(max_iter=1000)).fit(train, target)
    return Scenario(train, target, model)


def deploy(client: mw.Client, s: Scenario, config: dict[str, Any] | None = None) -> None:
    train = client.register_dataset("credit-train", s.train.assign(default=s.target))
    with client.start_run("credit") as run:
        run.log_input(train, role="training")
        run.log_model(s.model, "credit-scorer", signature=mw.infer_signature(s.train))
    client.create_endpoint(ENDPOINT, "credit-scorer/1", config=config or {})


def log_hours(
    m: Monitoring, s: Scenario, start_ms: int, hours: int, rows: int, *, shifted: bool,
    seed: int = 100,
) -> None:  # fmt: skip
    """``rows`` predictions in each of ``hours`` hours from ``start_ms``."""
    for h in range(hours):
        x = frame(rows, seed=seed + h, shifted=shifted)
        ts = start_ms + h * HOUR_MS + np.arange(rows) * (HOUR_MS // rows)
        m.log_predictions(
            ENDPOINT, x, s.model.predict(x), scores=s.model.predict_proba(x)[:, 1], timestamps=ts,
            ids=[f"{start_ms + h * HOUR_MS}-{i}" for i in range(rows)],
        )  # fmt: skip


def flagged(df: pd.DataFrame, start_ms: int) -> set[str]:
    window = df[df["window_start"] == pd.Timestamp(start_ms, unit="ms", tz="UTC")]
    inputs = window[~window["feature"].str.startswith("__")]
    return set(inputs.loc[inputs["drifted"], "feature"])


@pytest.fixture
def local(sqlite_url: str, tmp_path: Any, scenario: Scenario) -> Monitoring:
    client = mw.Client(sqlite_url, artifacts=str(tmp_path / "artifacts"))
    deploy(client, scenario)
    return sdk(client)


def test_drift_api_flags_exactly_the_shifted_features(
    client: mw.Client, scenario: Scenario
) -> None:
    deploy(client, scenario)
    m = sdk(client)
    log_hours(m, scenario, DAY0, 4, 500, shifted=False)
    log_hours(m, scenario, DAY0 + DAY_MS, 4, 500, shifted=True, seed=200)
    df = m.drift(ENDPOINT, since="2026-01-05", until="2026-01-07", window="1d")
    assert list(df.columns[:10]) == [
        "window_start", "window_end", "feature", "method", "statistic", "threshold",
        "p_value", "drifted", "rows", "error_bound",
    ]  # fmt: skip
    assert len(df) == 2 * (20 + 3)  # 20 inputs, __prediction__, __score__, __dataset__
    assert flagged(df, DAY0) == set()
    assert flagged(df, DAY0 + DAY_MS) == SHIFTED
    day2 = df[df["window_start"] == pd.Timestamp(DAY0 + DAY_MS, unit="ms", tz="UTC")]
    assert (day2["rows"] == 2000).all()
    dataset = day2[day2["feature"] == "__dataset__"].iloc[0]
    assert dataset["statistic"] == pytest.approx(5 / 20)
    assert not dataset["drifted"]  # 25 % < the default share threshold of 50 %
    numeric = day2[day2["feature"].isin(NUMERIC)]
    assert set(numeric["method"]) == {"wasserstein"}  # 2000 values: a distance, not a p-value
    assert (numeric["error_bound"] >= 0).all()


def test_small_windows_use_tests_with_bh_and_flag_exactly_the_shifted(
    local: Monitoring, scenario: Scenario
) -> None:
    log_hours(local, scenario, DAY0, 3, 600, shifted=True)
    df = local.drift(ENDPOINT, since="2026-01-05T00:00Z", until="2026-01-05T03:00Z", window="1h")
    for h in range(3):
        assert flagged(df, DAY0 + h * HOUR_MS) == SHIFTED
    inputs = df[~df["feature"].str.startswith("__")]
    assert set(inputs["method"]) == {"ks", "chi_square"}
    assert (inputs["threshold"] == 0.05).all()  # the false discovery rate
    assert all(d["bh_rejected"] for d in inputs.loc[inputs["drifted"], "details"])


def test_empty_windows_are_rows_without_a_statistic(local: Monitoring, scenario: Scenario) -> None:
    log_hours(local, scenario, DAY0, 1, 300, shifted=True)
    df = local.drift(ENDPOINT, since="2026-01-05", until="2026-01-07", window="1d")
    empty = df[df["window_start"] == pd.Timestamp(DAY0 + DAY_MS, unit="ms", tz="UTC")]
    assert len(empty) == 23
    assert (empty["rows"] == 0).all() and not empty["drifted"].any()
    assert empty["statistic"].isna().all()
    assert all(d["reason"] == "no data" for d in empty["details"])


def test_windows_smaller_than_the_hourly_segments_are_refused(local: Monitoring) -> None:
    with pytest.raises(InvalidInput, match="whole number of hours"):
        local.drift(ENDPOINT, since="2026-01-05", until="2026-01-06", window="30m")


# -- the engine on profiles: persistence, rolling reference, constant and all-null features --


def _baseline() -> dict[str, Any]:
    from modelward.monitoring.profiles import profile_frame

    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"x": rng.normal(size=4000), "k": rng.choice(["a", "b"], size=4000)})
    edges = np.quantile(ref["x"], np.linspace(0, 1, 11)).tolist()
    sketch = np.quantile(ref["x"], np.linspace(0, 1, 201)).tolist()
    baseline: dict[str, Any] = {
        "features": {
            "x": {"kind": "numeric", "edges": edges, "sketch_edges": sketch,
                  "std": float(ref["x"].std(ddof=0))},
            "k": {"kind": "categorical", "categories": ["a", "b"]},
        }
    }  # fmt: skip
    baseline["profile"] = profile_frame(ref, baseline)
    return baseline


def _profiles(baseline: dict[str, Any], shifts: list[float | None]) -> list[Any]:
    from modelward.monitoring.profiles import profile_frame

    out = []
    for i, shift in enumerate(shifts):
        if shift is None:
            out.append(None)
            continue
        rng = np.random.default_rng(50 + i)
        cur = pd.DataFrame({"x": rng.normal(size=3000) + shift, "k": rng.choice(["a", "b"], 3000)})
        out.append(profile_frame(cur, baseline))
    return out


def _x_rows(rows: list[Any]) -> list[Any]:
    return [r for r in rows if r.feature == "x"]


def test_persistence_suppresses_a_single_noisy_window() -> None:
    baseline = _baseline()
    shifts: list[float | None] = [0.0, 1.0, 0.0, 1.0, 1.0, 1.0]
    spans = [(i * HOUR_MS, (i + 1) * HOUR_MS) for i in range(len(shifts))]
    profiles = _profiles(baseline, shifts)
    once = _x_rows(compute_drift(baseline, profiles, spans, DriftSettings(), first=0))
    assert [r.flagged for r in once] == [False, True, False, True, True, True]
    twice = _x_rows(compute_drift(baseline, profiles, spans, DriftSettings(persistence=2), first=0))
    assert [r.flagged for r in twice] == [False, False, False, False, True, True]
    assert [r.details["raw_flag"] for r in twice] == [False, True, False, True, True, True]


def test_rolling_reference_compares_with_the_previous_windows() -> None:
    baseline = _baseline()
    shifts: list[float | None] = [1.0, 1.0, 1.0, 0.0]
    spans = [(i * HOUR_MS, (i + 1) * HOUR_MS) for i in range(len(shifts))]
    settings = drift_settings({"reference": {"kind": "rolling", "windows": 2}}, baseline)
    rows = _x_rows(compute_drift(baseline, _profiles(baseline, shifts), spans, settings, first=0))
    # The first window has no previous data; the steady shift is the new normal; the
    # return to the training distribution is what drifts against the rolling reference.
    assert rows[0].statistic is None and rows[0].details["reason"] == "no reference data"
    assert [r.flagged for r in rows[1:]] == [False, False, True]
    assert rows[1].details["reference"] == "rolling:2"


def test_constant_and_all_null_features_never_fail() -> None:
    from modelward.monitoring.profiles import profile_frame

    baseline = _baseline()
    constant = pd.DataFrame({"x": np.full(500, 0.25), "k": ["a"] * 500})
    nulls = pd.DataFrame({"x": [None] * 500, "k": [None] * 500})
    spans = [(0, HOUR_MS), (HOUR_MS, 2 * HOUR_MS)]
    profiles = [profile_frame(constant, baseline), profile_frame(nulls, baseline)]
    rows = compute_drift(baseline, profiles, spans, DriftSettings(), first=0)
    constant_x = [r for r in rows if r.feature == "x" and r.window_start_ms == 0][0]
    assert constant_x.flagged and constant_x.statistic is not None
    for r in [r for r in rows if r.window_start_ms == HOUR_MS and r.feature in ("x", "k")]:
        assert r.statistic is None and not r.flagged
        assert r.details["reason"].startswith("no values")


def test_importance_weights_the_dataset_share() -> None:
    baseline = _baseline()
    spans = [(0, HOUR_MS)]
    profiles = _profiles(baseline, [1.0])
    uniform = compute_drift(baseline, profiles, spans, DriftSettings(), first=0)[-1]
    assert uniform.feature == "__dataset__" and uniform.statistic == pytest.approx(0.5)
    weighted = compute_drift(
        baseline, profiles, spans, DriftSettings(), first=0, importance={"x": 0.9, "k": 0.1}
    )[-1]
    assert weighted.statistic == pytest.approx(0.9)
    assert weighted.flagged and weighted.details["weights"] == "importance"


def test_config_overrides_the_method_and_threshold() -> None:
    baseline = _baseline()
    config = {"drift": {"features": {"x": {"method": "psi", "threshold": 5.0}}}}
    rows = compute_drift(
        baseline, _profiles(baseline, [1.0]), [(0, HOUR_MS)], drift_settings(config, baseline),
        first=0,
    )  # fmt: skip
    x = _x_rows(rows)[0]
    assert (x.method, x.threshold, x.flagged) == ("psi", 5.0, False)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"drift": {"features": {"x": {"method": "magic"}}}}, "config.drift.features.x.method"),
        ({"drift": {"features": {"k": {"method": "ks"}}}}, "config.drift.features.k.method"),
        ({"drift": {"features": {"x": {"method": "ks", "threshold": 0.1}}}},
         "config.drift.features.x.threshold"),
        ({"drift": {"features": {"nope": {}}}}, "config.drift.features.nope"),
        ({"drift": {"persistence": 0}}, "config.drift.persistence"),
        ({"drift": {"alpha": "low"}}, "config.drift.alpha"),
        ({"reference": {"kind": "yesterday"}}, "config.reference.kind"),
    ],
)  # fmt: skip
def test_bad_drift_config_names_the_field(config: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        drift_settings(config, _baseline())
    assert err.value.field == field
