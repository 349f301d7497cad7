"""The prediction log through the SDK: idempotent by id, hourly segments, signature checks,
one transaction per call, one audit event per call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import modelward as mw
import modelward.monitoring.endpoints  # noqa: F401  (registers the endpoint verbs)
import modelward.monitoring.log_service  # noqa: F401  (registers the prediction-log verbs)
from modelward.errors import Conflict, InvalidInput, NotFound
from modelward.monitoring.endpoint_schemas import EndpointCreate
from modelward.monitoring.profiles import merge, profile_frame

ENDPOINT = "scoring"
FEATURES = ["age", "income", "purpose"]
HOUR = 3_600_000


MonitoredClient = mw.Client  # the SDK carries the prediction-log verbs


def credit_frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n),
            "income": rng.lognormal(8, 0.5, n),
            "purpose": rng.choice(["car", "house", "education"], n),
        }
    )
    frame["default"] = ((frame["age"] < 30) ^ (rng.random(n) < 0.2)).astype(int)
    return frame


def deploy(client: mw.Client) -> MonitoredClient:
    """A model trained on a registered dataset, deployed as ``scoring``."""
    train = credit_frame(400)
    x, y = train[FEATURES], train["default"]
    prep = ColumnTransformer(
        [("num", StandardScaler(), ["age", "income"]), ("cat", OneHotEncoder(), ["purpose"])]
    )
    model = Pipeline([("prep", prep), ("clf", LogisticRegression())]).fit(x, y)
    dataset = client.register_dataset("credit-train", train)
    with client.start_run("credit") as run:
        run.log_input(dataset, role="training")
        version = run.log_model(model, "credit-scorer", signature=mw.infer_signature(x))
    client._call("create_endpoint", body=EndpointCreate(name=ENDPOINT, model=version.ref))
    return MonitoredClient.over(client._transport)


@pytest.fixture
def monitored(client: mw.Client) -> MonitoredClient:
    return deploy(client)


def batch(n: int, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    frame = credit_frame(n, seed)
    ids = [f"p-{seed}-{i}" for i in range(n)]
    return frame[FEATURES], frame["default"].to_numpy(), ids


def predictions_audited(client: mw.Client) -> list[Any]:
    return [e for e in client.list_audit_events() if e.action == "predictions.log"]


def test_logging_the_same_batch_twice_stores_it_once(monitored: MonitoredClient) -> None:
    features, preds, ids = batch(50)
    first = monitored.log_predictions(ENDPOINT, features, preds, ids=ids)
    assert (first.rows, first.new, first.skipped) == (50, 50, 0)
    again = monitored.log_predictions(ENDPOINT, features, preds, ids=ids)
    assert (again.rows, again.new, again.skipped, again.segments) == (50, 0, 50, [])
    stored = monitored.read_segments(ENDPOINT)
    assert sorted(stored["__id__"]) == sorted(ids)
    assert list(stored.columns) == ["__id__", "__ts__", *FEATURES, "__prediction__"]
    events = predictions_audited(monitored)
    assert len(events) == 2  # one per call, not per row
    assert events[-1].summary == {"rows": 50, "new": 0, "skipped": 50, "segments": 0}


def test_backfilled_predictions_land_in_the_hour_they_were_made(
    monitored: MonitoredClient,
) -> None:
    features, preds, ids = batch(6)
    base = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    times = [base + timedelta(minutes=m) for m in (5, 59, 60, 61, 125, 179)]
    receipt = monitored.log_predictions(ENDPOINT, features, preds, ids=ids, timestamps=times)
    hours = [(s.hour.hour, s.rows) for s in receipt.segments]
    assert hours == [(9, 2), (10, 2), (11, 2)]
    assert all(
        s.min_ts >= s.hour and s.max_ts < s.hour + timedelta(hours=1) for s in receipt.segments
    )
    listed = monitored.list_segments(ENDPOINT, since=base + timedelta(hours=1))
    assert [s.hour.hour for s in listed] == [10, 11]
    window = monitored.read_segments(
        ENDPOINT, since=base + timedelta(minutes=59), until=base + timedelta(minutes=125)
    )
    assert sorted(window["__id__"]) == sorted(ids[1:4])


def test_segment_profiles_are_the_profiles_of_their_rows(monitored: MonitoredClient) -> None:
    features, preds, ids = batch(300, seed=4)
    scores = np.linspace(0, 1, 300)
    times = np.array([0, HOUR]).repeat(150) + 1_700_000_000_000 // HOUR * HOUR
    monitored.log_predictions(ENDPOINT, features, preds, ids=ids, timestamps=times, scores=scores)
    segments = monitored.list_segments(ENDPOINT, profiles=True)
    assert [s.rows for s in segments] == [150, 150]
    baseline = monitored.get_baseline(ENDPOINT).baseline
    assert set(baseline["features"]) == {*FEATURES, "__prediction__", "__score__"}
    assert segments[0].profile is not None and segments[1].profile is not None
    merged = merge(segments[0].profile, segments[1].profile)
    direct = profile_frame(features, baseline, prediction=preds, score=scores)
    for name in ("age", "income", "__score__"):  # float sums depend on the order of addition
        assert merged["features"][name].pop("sum") == pytest.approx(
            direct["features"][name].pop("sum")
        )
        assert merged["features"][name].pop("sum_sq") == pytest.approx(
            direct["features"][name].pop("sum_sq")
        )
    assert merged == direct


def test_signature_mismatch_is_refused_naming_columns_and_lenient_counts_it(
    monitored: MonitoredClient,
) -> None:
    features, preds, ids = batch(20)
    odd = features.drop(columns="income").assign(channel="web")
    with pytest.raises(
        InvalidInput, match="missing column\\(s\\) income; extra column\\(s\\) channel"
    ):
        monitored.log_predictions(ENDPOINT, odd, preds, ids=ids)
    assert monitored.list_segments(ENDPOINT) == []
    odd["age"] = odd["age"].astype(object)
    odd.loc[:4, "age"] = "unknown"
    receipt = monitored.log_predictions(ENDPOINT, odd, preds, ids=ids, lenient=True)
    assert (receipt.new, receipt.missing_columns, receipt.extra_columns) == (
        20,
        ["income"],
        ["channel"],
    )
    assert receipt.type_errors == {"age": 5}
    profile = monitored.list_segments(ENDPOINT, profiles=True)[0].profile
    assert profile is not None
    assert profile["features"]["income"]["nulls"] == 20
    assert profile["features"]["age"]["type_errors"] == 5
    stored = monitored.read_segments(ENDPOINT)
    assert "channel" not in stored.columns and stored["income"].isna().all()


def test_bad_batches_are_refused_with_the_field_named(monitored: MonitoredClient) -> None:
    features, preds, ids = batch(10)
    with pytest.raises(InvalidInput, match="'p-1-3' appears more than once") as dup:
        monitored.log_predictions(ENDPOINT, features, preds, ids=ids[:9] + ["p-1-3"])
    assert dup.value.field == "ids"
    with pytest.raises(InvalidInput) as short:
        monitored.log_predictions(ENDPOINT, features, preds[:5], ids=ids)
    assert short.value.field == "predictions"
    with pytest.raises(InvalidInput) as when:
        monitored.log_predictions(ENDPOINT, features, preds, ids=ids, timestamps="yesterday-ish")
    assert when.value.field == "timestamps"
    assert monitored.list_segments(ENDPOINT) == []


def test_default_ids_are_fresh_uuids_and_times_are_now(monitored: MonitoredClient) -> None:
    features, preds, _ = batch(30)
    before = datetime.now(UTC) - timedelta(seconds=1)
    receipt = monitored.log_predictions(ENDPOINT, features, preds)
    stored = monitored.read_segments(ENDPOINT)
    assert receipt.new == 30 and stored["__id__"].nunique() == 30
    assert all(len(i) == 32 and i[12] == "4" for i in stored["__id__"])
    assert receipt.segments[0].min_ts >= before.replace(microsecond=0)


def test_a_failed_registration_leaves_no_visible_segment(monitored: MonitoredClient) -> None:
    """The segment blob is written, then indexing its ids fails: nothing becomes visible."""
    from modelward.monitoring.log_schemas import PredictionLogRequest, SegmentUpload
    from modelward.monitoring.prediction_log import by_hour, encode_segment, prepare_batch

    features, preds, ids = batch(10)
    monitored.log_predictions(ENDPOINT, features.iloc[:1], preds[:1], ids=ids[:1], timestamps=0)
    baseline = monitored.get_baseline(ENDPOINT)
    # A writer that skipped the dedup (a concurrent call): its segment repeats id p-1-0.
    prepared = prepare_batch(features, preds, inputs=baseline.features, ids=ids, timestamps=0)
    [(hour, part)] = by_hour(prepared.frame)
    digest = monitored._transport.put_artifact(encode_segment(part))
    upload = SegmentUpload(
        digest=digest, hour_ms=hour, rows=10, profile=profile_frame(part, baseline.baseline)
    )
    body = PredictionLogRequest(baseline_digest=baseline.digest, segments=[upload])
    with pytest.raises(Conflict) as refused:
        monitored._call("log_predictions", endpoint=ENDPOINT, body=body)
    assert refused.value.field == "ids"
    assert [s.rows for s in monitored.list_segments(ENDPOINT)] == [1]
    assert len(monitored.read_segments(ENDPOINT)) == 1
    assert len(predictions_audited(monitored)) == 1
    # The SDK's own path dedups again and logs only the nine new ids.
    receipt = monitored.log_predictions(ENDPOINT, features, preds, ids=ids, timestamps=0)
    assert (receipt.new, receipt.skipped) == (9, 1)


def test_unknown_endpoint_and_version_without_training_data(client: mw.Client) -> None:
    monitored = MonitoredClient.over(client._transport)
    features, preds, ids = batch(3)
    with pytest.raises(NotFound):
        monitored.log_predictions("nowhere", features, preds, ids=ids)
    train = credit_frame(50)
    model = LogisticRegression().fit(train[["age"]], train["default"])
    version = client.create_model_version("bare", model)
    client._call("create_endpoint", body=EndpointCreate(name="bare-ep", model=version.ref))
    with pytest.raises(InvalidInput, match="version has no training dataset"):
        monitored.get_baseline("bare-ep")
