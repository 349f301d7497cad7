"""The online gateway under real HTTP: answers, plans, logging, feedback, faults."""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import modelward as mw
from conftest import ENDPOINT, FEATURES, Served, applicants, rows
from support import Exploding, LiveGateway


def predict(gw: LiveGateway, body: object, **kw: object) -> httpx.Response:
    return httpx.post(f"{gw.url}/v1/endpoints/{ENDPOINT}/predict", json=body, timeout=10, **kw)


def logged_rows(client: mw.Client, shadow: bool = False) -> int:
    return sum(s.rows for s in client.list_segments(ENDPOINT, shadow=shadow))


def wait_plan(gw: LiveGateway, kind: str) -> None:
    gw.wait_for(lambda rt: ENDPOINT in rt.endpoints and rt.endpoints[ENDPOINT].kind == kind)


def test_answers_rows_and_columns_with_the_models_own_probabilities(
    sqlite_served: Served, gateway: LiveGateway
) -> None:
    batch = rows(3)
    r = predict(gateway, {"instances": batch})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["version"] == sqlite_served.good and out["arm"] == "primary"
    model = sqlite_served.client.load_model(sqlite_served.good)
    expected = model.predict_proba(pd.DataFrame(batch)[FEATURES])
    assert np.allclose(out["probabilities"], expected)
    assert out["predictions"] == model.predict(pd.DataFrame(batch)[FEATURES]).tolist()
    assert len(out["ids"]) == 3 and out["request_id"]
    columns = {k: [r[k] for r in batch] for k in FEATURES}
    again = predict(gateway, {"inputs": columns}).json()
    assert again["probabilities"] == out["probabilities"]


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"instances": [{"age": 1, "income": 2, "debt": 3}]}, 422, "years"),
        ({"instances": [{"age": 1, "income": 2, "debt": 3, "years": 4, "zip": 5}]}, 422, "zip"),
        ({"instances": [{"age": "old", "income": 2, "debt": 3, "years": 4}]}, 422, "age"),
        ({"instances": [{"age": None, "income": 2, "debt": 3, "years": 4}]}, 422, "age"),
        ({"rows": []}, 400, ""),
        ({"instances": []}, 422, ""),
    ],
)
def test_bad_requests_get_a_4xx_naming_the_field_and_nothing_is_logged(
    sqlite_served: Served, gateway: LiveGateway, body: object, status: int, needle: str
) -> None:
    r = predict(gateway, body)
    assert r.status_code == status, r.text
    assert needle in r.json()["error"]["message"]
    gateway.runtime.flush()
    assert logged_rows(sqlite_served.client) == 0


def test_malformed_json_nan_oversized_and_unknown_endpoints(
    sqlite_served: Served, gateway: LiveGateway
) -> None:
    url = f"{gateway.url}/v1/endpoints/{ENDPOINT}/predict"
    assert httpx.post(url, content=b"{not json", timeout=10).status_code == 400
    nan = b'{"instances": [{"age": NaN, "income": 1, "debt": 1, "years": 1}]}'
    r = httpx.post(url, content=nan, timeout=10)
    assert r.status_code == 422 and "age" in r.text
    big = b'{"instances": [' + b"1," * 600_000 + b"1]}"
    assert httpx.post(url, content=big, timeout=10).status_code == 413
    r = httpx.post(f"{gateway.url}/v1/endpoints/nope/predict", json={"instances": rows(1)})
    assert r.status_code == 404 and "nope" in r.json()["error"]["message"]
    assert httpx.get(f"{gateway.url}/v1/nothing-here").status_code == 404


def test_every_answer_is_logged_with_its_arm_latency_and_id(
    sqlite_served: Served, gateway: LiveGateway
) -> None:
    ids = [predict(gateway, {"instances": rows(1, seed=i)}).json()["request_id"] for i in range(40)]
    batch = predict(gateway, {"instances": rows(5), "request_id": "batch-1"}).json()
    assert batch["ids"] == [f"batch-1.{i}" for i in range(5)]
    gateway.runtime.flush()
    frame = sqlite_served.client.read_segments(ENDPOINT)
    assert len(frame) == 45 and set(ids) <= set(frame["__id__"])
    assert set(frame["__arm__"]) == {"primary"} and (frame["__latency_ms__"] > 0).all()
    assert frame["__score__"].between(0, 1).all()
    events = sqlite_served.client.list_audit_events(action="predictions.log")
    assert events and events[0].summary["source"] == "gateway"


def test_a_resent_request_id_is_logged_once(sqlite_served: Served, gateway: LiveGateway) -> None:
    for _ in range(3):
        assert predict(gateway, {"instances": rows(1), "request_id": "same"}).status_code == 200
        gateway.runtime.flush()
    assert logged_rows(sqlite_served.client) == 1


def test_a_plan_change_takes_effect_without_a_restart(
    sqlite_served: Served, gateway: LiveGateway
) -> None:
    sqlite_served.client.set_plan(ENDPOINT, "single", primary=sqlite_served.better)
    gateway.wait_for(
        lambda rt: rt.endpoints[ENDPOINT].primary.ref == sqlite_served.better, timeout=10
    )
    assert predict(gateway, {"instances": rows(1)}).json()["version"] == sqlite_served.better


def test_canary_share_is_within_statistical_tolerance(
    sqlite_served: Served, gateway: LiveGateway
) -> None:
    client = sqlite_served.client
    client.set_plan(ENDPOINT, "canary", challenger=sqlite_served.better, steps=[30], auto=False)
    wait_plan(gateway, "canary")
    n = 600
    with httpx.Client(timeout=10) as http:
        url = f"{gateway.url}/v1/endpoints/{ENDPOINT}/predict"
        arms = Counter(http.post(url, json={"instances": rows(1)}).json()["arm"] for _ in range(n))
    share = arms["challenger"] / n
    sigma = math.sqrt(0.3 * 0.7 / n)
    assert abs(share - 0.3) < 4.5 * sigma, arms


def test_shadow_answers_are_logged_never_returned(
    sqlite_served: Served, gateway: LiveGateway
) -> None:
    client = sqlite_served.client
    client.set_plan(ENDPOINT, "shadow", challenger=sqlite_served.flipped, share=100)
    wait_plan(gateway, "shadow")
    answers = [predict(gateway, {"instances": rows(1, seed=i)}).json() for i in range(30)]
    assert {a["version"] for a in answers} == {sqlite_served.good}
    assert {a["arm"] for a in answers} == {"primary"}
    # The shadow answers after the caller has its response: the last copy may still be
    # on its way into the log when the caller's loop ends.
    deadline = time.monotonic() + 10
    while True:
        gateway.runtime.flush()
        frame = client.read_segments(ENDPOINT, shadow=True)
        shadow = frame[frame["__arm__"] == "challenger"]
        if len(shadow) >= 30 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert logged_rows(client) == 30  # what callers got
    assert len(shadow) == 30
    assert set(shadow["__id__"]) == {f"{a['request_id']}#shadow" for a in answers}
    primary = frame[frame["__arm__"] == "primary"].set_index("__id__")["__score__"]
    mirrored = shadow.set_index(shadow["__id__"].str.removesuffix("#shadow"))["__score__"]
    # The flipped model answers the opposite: its score is one minus the primary's, roughly.
    assert np.corrcoef(primary.loc[mirrored.index], mirrored)[0, 1] < -0.9


def test_ab_is_sticky_per_key_and_splits_by_share(
    sqlite_served: Served, gateway: LiveGateway
) -> None:
    client = sqlite_served.client
    client.set_plan(ENDPOINT, "ab", challenger=sqlite_served.better, share=50, key="customer_id")
    wait_plan(gateway, "ab")
    seen: dict[str, set[str]] = {}
    with httpx.Client(timeout=10) as http:
        url = f"{gateway.url}/v1/endpoints/{ENDPOINT}/predict"
        for customer in range(120):
            for _ in range(3):
                row = {**rows(1)[0], "customer_id": f"c-{customer}"}
                seen.setdefault(f"c-{customer}", set()).add(
                    http.post(url, json={"instances": [row]}).json()["arm"]
                )
        missing = http.post(url, json={"instances": rows(1)})
    assert all(len(arms) == 1 for arms in seen.values())
    challengers = sum(arms == {"challenger"} for arms in seen.values())
    assert 30 < challengers < 90
    assert missing.status_code == 422 and "customer_id" in missing.text


def test_a_model_that_raises_gets_503_for_its_arm_only(
    sqlite_served: Served, gateway: LiveGateway
) -> None:
    client = sqlite_served.client
    x = applicants(50)[FEATURES]
    with client.start_run("broken") as run:
        broken = run.log_model(
            Exploding(), "scorer", flavor="pickle", trusted=True, signature=mw.infer_signature(x)
        ).ref
    client.set_plan(ENDPOINT, "canary", challenger=broken, steps=[50], auto=False)
    wait_plan(gateway, "canary")
    codes = Counter(predict(gateway, {"instances": rows(1)}).status_code for _ in range(60))
    assert set(codes) == {200, 503} and codes[200] > 10
    r = next(
        r
        for r in (predict(gateway, {"instances": rows(1)}) for _ in range(60))
        if r.status_code == 503
    )
    assert broken in r.json()["error"]["message"]


def test_a_corrupted_artifact_is_refused_for_that_arm_and_recorded(
    sqlite_served: Served, gateway: LiveGateway, tmp_path: Path
) -> None:
    client = sqlite_served.client
    x, y = applicants(200)[FEATURES], applicants(200)["bad"]
    with client.start_run("corrupt") as run:
        version = run.log_model(
            LogisticRegression(C=0.1).fit(x, y), "scorer", signature=mw.infer_signature(x)
        )
    blob = tmp_path / "artifacts" / "sha256" / version.digest[:2] / version.digest
    blob.write_bytes(blob.read_bytes()[:-10] + b"0123456789")
    client.set_plan(ENDPOINT, "canary", challenger=version.ref, steps=[50], auto=False)
    wait_plan(gateway, "canary")
    codes = Counter(predict(gateway, {"instances": rows(1)}).status_code for _ in range(40))
    assert set(codes) == {200, 503}
    events = client.list_audit_events(action="serving.load_failed")
    assert events and version.ref in str(events[0].summary)


def test_feedback_labels_join_the_logged_predictions(
    sqlite_served: Served, gateway: LiveGateway
) -> None:
    ids = [predict(gateway, {"instances": rows(1, seed=i)}).json()["request_id"] for i in range(10)]
    r = httpx.post(
        f"{gateway.url}/v1/endpoints/{ENDPOINT}/feedback",
        json={"ids": ids + ["never-seen"], "labels": [1] * 10 + [0]},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    assert (r.json()["stored"], r.json()["unknown"]) == (10, 1)
    bad = httpx.post(f"{gateway.url}/v1/endpoints/{ENDPOINT}/feedback", json={"ids": 3})
    assert bad.status_code == 422 and "ids" in bad.json()["error"]["field"]


def test_metrics_count_requests_by_endpoint_version_and_arm(
    sqlite_served: Served, gateway: LiveGateway
) -> None:
    for _ in range(5):
        predict(gateway, {"instances": rows(1)})
    predict(gateway, {"instances": [{"age": "x"}]})
    text = httpx.get(f"{gateway.url}/metrics").text
    version = sqlite_served.good
    line = (
        f'modelward_gateway_requests_total{{arm="primary",code="200",endpoint="{ENDPOINT}",'
        f'version="{version}"}} 5.0'
    )
    assert line in text
    assert "modelward_gateway_log_dropped_total 0.0" in text
    assert "modelward_gateway_request_seconds_bucket" in text
    assert "modelward_gateway_model_load_seconds" in text


def test_open_inference_protocol_v2(sqlite_served: Served, gateway: LiveGateway) -> None:
    base = f"{gateway.url}/v2"
    assert httpx.get(f"{base}/health/live").status_code == 200
    assert httpx.get(f"{base}/health/ready").status_code == 200
    assert httpx.get(f"{base}/models/{ENDPOINT}/ready").status_code == 200
    meta = httpx.get(f"{base}/models/{ENDPOINT}").json()
    assert [i["name"] for i in meta["inputs"]] == FEATURES
    batch = rows(2)
    # What tritonclient.http sends for one FP64 input tensor of shape [2, 4].
    tensor = {
        "inputs": [
            {
                "name": "input-0",
                "shape": [2, 4],
                "datatype": "FP64",
                "data": [r[f] for r in batch for f in FEATURES],
            }
        ],
        "outputs": [{"name": "predict_proba"}],
        "id": "req-7",
    }
    r = httpx.post(f"{base}/models/{ENDPOINT}/infer", json=tensor, timeout=10)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["model_name"] == ENDPOINT and out["id"] == "req-7"
    assert [o["name"] for o in out["outputs"]] == ["predict_proba"]
    proba = np.array(out["outputs"][0]["data"]).reshape(out["outputs"][0]["shape"])
    model = sqlite_served.client.load_model(sqlite_served.good)
    assert np.allclose(proba, model.predict_proba(pd.DataFrame(batch)[FEATURES]))
    per_column = {
        "inputs": [
            {"name": f, "shape": [2], "datatype": "FP64", "data": [r[f] for r in batch]}
            for f in FEATURES
        ]
    }
    r2 = httpx.post(f"{base}/models/{ENDPOINT}/infer", json=per_column, timeout=10)
    assert r2.status_code == 200
    bad = dict(per_column, inputs=per_column["inputs"][:3])
    r3 = httpx.post(f"{base}/models/{ENDPOINT}/infer", json=bad, timeout=10)
    assert r3.status_code in (400, 422) and "years" in r3.json()["error"]
    unknown_output = dict(per_column, outputs=[{"name": "explanation"}])
    r4 = httpx.post(f"{base}/models/{ENDPOINT}/infer", json=unknown_output, timeout=10)
    assert r4.status_code == 400 and "explanation" in r4.json()["error"]
    assert httpx.get(f"{base}/models/unknown").status_code == 404


def test_nothing_a_client_sends_produces_a_500(sqlite_served: Served, gateway: LiveGateway) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    values = st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        ),
        max_leaves=12,
    )
    row = st.fixed_dictionaries({f: scalars for f in FEATURES})
    bodies = (
        st.builds(lambda r: {"instances": r}, st.lists(row | values, max_size=3))
        | st.builds(lambda v: {"inputs": v}, values)
        | st.builds(lambda v: {"inputs": [v], "outputs": v}, values)
        | values
    )
    paths = st.sampled_from(
        [f"/v1/endpoints/{ENDPOINT}/predict", f"/v2/models/{ENDPOINT}/infer",
         f"/v1/endpoints/{ENDPOINT}/feedback", f"/v2/models/{ENDPOINT}/versions/9/infer"]
    )  # fmt: skip
    http = httpx.Client(base_url=gateway.url, timeout=10)

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(path=paths, body=bodies, raw=st.binary(max_size=64), as_raw=st.booleans())
    def check(path: str, body: object, raw: bytes, as_raw: bool) -> None:
        # json.dumps writes NaN and Infinity as bare words, as careless clients do.
        content = raw if as_raw else json.dumps(body).encode()
        r = http.post(path, content=content)
        assert r.status_code < 500 or r.status_code == 503, (r.status_code, r.text)
        assert "Traceback" not in r.text

    try:
        check()
    finally:
        http.close()


def test_a_plan_change_under_load_drops_no_request(
    sqlite_served: Served, gateway: LiveGateway
) -> None:
    import threading

    codes: list[int] = []
    versions: set[str] = set()
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(timeout=10) as http:
            url = f"{gateway.url}/v1/endpoints/{ENDPOINT}/predict"
            while not stop.is_set():
                r = http.post(url, json={"instances": rows(1)})
                codes.append(r.status_code)
                versions.add(r.json().get("version", ""))

    workers = [threading.Thread(target=load) for _ in range(3)]
    for w in workers:
        w.start()
    sqlite_served.client.set_plan(ENDPOINT, "single", primary=sqlite_served.better)
    gateway.wait_for(lambda rt: rt.endpoints[ENDPOINT].primary.ref == sqlite_served.better)
    time.sleep(0.3)
    stop.set()
    for w in workers:
        w.join()
    assert codes and set(codes) == {200}
    assert versions == {sqlite_served.good, sqlite_served.better}


def test_replicas_share_the_store_and_analysis_sees_them_all(sqlite_served: Served) -> None:
    client = sqlite_served.client
    client.set_plan(ENDPOINT, "canary", challenger=sqlite_served.better, steps=[50], auto=False)
    replicas = [LiveGateway(sqlite_served.store) for _ in range(2)]
    try:
        for gw in replicas:
            gw.wait_for(lambda rt: rt.endpoints[ENDPOINT].kind == "canary")
            for i in range(40):
                assert predict(gw, {"instances": rows(1, seed=i)}).status_code == 200
            gw.runtime.flush()
    finally:
        for gw in replicas:
            gw.stop()
    status = client.deployment_status(ENDPOINT)
    assert sum(a.requests for a in status.arms) == 80
    assert logged_rows(client) == 80


def test_a_taken_port_is_refused_before_the_gateway_starts(sqlite_served: Served) -> None:
    # Bound in the caller's thread: a second gateway (or a second demo) cannot race for the
    # port between a check and the bind, and the caller can fall back to another.
    from modelward.serving.background import BackgroundGateway

    first = BackgroundGateway(sqlite_served.store)
    try:
        port = int(first.url.rsplit(":", 1)[1])
        with pytest.raises(OSError):
            BackgroundGateway(sqlite_served.store, port=port)
        assert predict_at(first.url).status_code == 200  # the first one still answers
    finally:
        first.stop()


def predict_at(url: str) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/endpoints/{ENDPOINT}/predict", json={"instances": rows(1)}, timeout=30
    )
