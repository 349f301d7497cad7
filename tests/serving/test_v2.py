"""The Open Inference Protocol v2: tensors in, typed columns out, v2 responses back."""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
import pytest
import tritonclient.http as triton
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tritonclient.http._infer_result import InferResult
from tritonclient.http._utils import _get_inference_request
from tritonclient.utils import InferenceServerException

from conftest import ENDPOINT, FEATURES, Served, applicants
from modelward.serving.codec import InputSpec, RequestError, decode_predict
from modelward.serving.v2 import decode_infer, encode_infer, error_body, model_metadata
from support import LiveGateway

CREDIT = InputSpec([("age", "double"), ("income", "double"), ("debt", "double"), ("years", "long")])
FLAGS = InputSpec([("age", "double"), ("years", "long"), ("member", "boolean")])
MIXED = InputSpec(
    [("age", "double"), ("years", "long"), ("member", "boolean"), ("city", "string")]
    + [("since", "datetime"), ("photo", "binary")]
)
ROWS = [
    {"age": 41.5, "income": 3.0, "debt": 1.25, "years": 4},
    {"age": 29.0, "income": 2.5, "debt": 0.5, "years": 11},
]
MATRIX = [[r[n] for n in CREDIT.names] for r in ROWS]


def body(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def tensor(name: str, shape: list[int], datatype: str, data: Any) -> dict[str, Any]:
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


def per_column(rows: list[dict[str, Any]] = ROWS, **overrides: Any) -> list[dict[str, Any]]:
    types = {"age": "FP64", "income": "FP64", "debt": "FP64", "years": "INT64"}
    return [tensor(n, [len(rows)], types[n], [r[n] for r in rows]) for n in CREDIT.names] + list(
        overrides.values()
    )


def refused(raw: bytes | Any, spec: InputSpec = CREDIT, **kw: Any) -> RequestError:
    data = raw if isinstance(raw, bytes) else body(raw)
    with pytest.raises(RequestError) as info:
        decode_infer(data, spec, **kw)
    assert info.value.message and "\n" not in info.value.message
    return info.value


def columns_of(raw: bytes, spec: InputSpec = CREDIT, **kw: Any) -> dict[str, list[Any]]:
    out = decode_infer(raw, spec, **kw)
    assert list(out.columns) == spec.names
    return {k: v.tolist() for k, v in out.columns.items()}


def triton_body(inputs: list[Any], outputs: list[Any] | None = None, request_id: str = "") -> bytes:
    """The bytes tritonclient.http sends for these inputs (JSON header, then binary tensors)."""
    raw, _header_length = _get_inference_request(
        inputs=inputs,
        request_id=request_id,
        outputs=outputs,
        sequence_id=0,
        sequence_start=False,
        sequence_end=False,
        priority=0,
        timeout=None,
        custom_parameters=None,
    )
    return bytes(raw)


EXPECTED = {
    "age": [41.5, 29.0],
    "income": [3.0, 2.5],
    "debt": [1.25, 0.5],
    "years": [4, 11],
}


def test_every_tensor_layout_decodes_to_the_same_columns_as_the_friendly_api() -> None:
    friendly = decode_predict(body({"instances": ROWS}), CREDIT)
    flat = [r[n] for r in ROWS for n in CREDIT.names]
    layouts = [
        {"inputs": per_column()},
        {
            "inputs": [
                {**t, "shape": [2, 1], "data": [[v] for v in t["data"]]} for t in per_column()
            ]
        },
        {"inputs": [tensor("input-0", [2, 4], "FP64", flat)]},
        {"inputs": [tensor("input-0", [2, 4], "FP64", MATRIX)]},
        {"inputs": [tensor("x", [2, 4], "FP32", flat)]},
    ]
    for layout in layouts:
        out = decode_infer(body(layout), CREDIT)
        assert out.n == 2 and out.request_id is None and out.requested is None
        for name in CREDIT.names:
            assert out.columns[name].dtype == friendly.columns[name].dtype, name
            assert out.columns[name].tolist() == friendly.columns[name].tolist(), name


def test_integer_and_boolean_columns_take_the_datatypes_clients_send() -> None:
    matrix = [[41.5, 4.0, 1.0], [29.0, 11.0, 0.0]]
    out = columns_of(body({"inputs": [tensor("input-0", [2, 3], "FP64", matrix)]}), FLAGS)
    assert out == {"age": [41.5, 29.0], "years": [4, 11], "member": [True, False]}
    ints = [tensor("age", [2], "INT32", [41, 29]), tensor("years", [2], "UINT8", [4, 11])]
    ints.append(tensor("member", [2, 1], "BOOL", [[True], [False]]))
    assert columns_of(body({"inputs": ints}), FLAGS) == {
        "age": [41.0, 29.0],
        "years": [4, 11],
        "member": [True, False],
    }
    err = refused({"inputs": [tensor("input-0", [1, 3], "FP64", [1.0, 4.5, 1.0])]}, FLAGS)
    assert (
        err.status == 422
        and "input 'years'" in err.message
        and "expected an integer" in err.message
    )
    err = refused({"inputs": [tensor("input-0", [1, 3], "FP64", [1.0, 4.0, 2.0])]}, FLAGS)
    assert "input 'member'" in err.message and "0 or 1" in err.message


def test_tritonclient_json_requests_decode() -> None:
    x = triton.InferInput("input-0", [2, 4], "FP64")
    x.set_data_from_numpy(np.array(MATRIX, dtype=np.float64), binary_data=False)
    wanted = [triton.InferRequestedOutput("predict_proba", binary_data=False)]
    raw = triton_body([x], wanted, request_id="req-7")
    out = decode_infer(raw, CREDIT)
    assert {k: v.tolist() for k, v in out.columns.items()} == EXPECTED
    assert out.request_id == "req-7" and out.requested == ["predict_proba"]


def test_tritonclient_binary_requests_decode() -> None:
    x = triton.InferInput("input-0", [2, 4], "FP32")
    x.set_data_from_numpy(np.array(MATRIX, dtype=np.float32))  # binary_data=True by default
    raw = triton_body([x])
    assert b'"binary_data_size":32' in raw
    assert columns_of(raw) == EXPECTED
    inputs = []
    arrays = {
        "age": np.array([41.5, 29.0]),
        "years": np.array([4, 11], dtype=np.int64),
        "member": np.array([True, False]),
        "city": np.array(["Lyon", "Zürich"], dtype=object),
        "since": np.array([b"2024-05-01T12:00:00Z", b"2023-01-02"], dtype=object),
        "photo": np.array([b"\x89PNG\x00", b""], dtype=object),
    }
    datatypes = {"age": "FP64", "years": "INT64", "member": "BOOL"}
    for name, array in arrays.items():
        item = triton.InferInput(name, list(array.shape), datatypes.get(name, "BYTES"))
        item.set_data_from_numpy(array, binary_data=name != "member")  # mixed JSON and binary
        inputs.append(item)
    out = columns_of(triton_body(inputs, request_id="r-2"), MIXED)
    assert out == {
        "age": [41.5, 29.0],
        "years": [4, 11],
        "member": [True, False],
        "city": ["Lyon", "Zürich"],
        "since": ["2024-05-01T12:00:00Z", "2023-01-02"],
        "photo": ["iVBORwA=", ""],
    }


def test_binary_tensor_data_is_checked() -> None:
    header = {
        "inputs": [{**tensor("x", [1, 4], "FP64", None), "parameters": {"binary_data_size": 32}}]
    }
    del header["inputs"][0]["data"]
    good = struct.pack("<4d", 1, 2, 3, 4)
    assert columns_of(body(header) + good)["years"] == [4]
    assert "runs past the end" in refused(body(header) + good[:16]).message
    assert "no tensor claims" in refused(body(header) + good + b"xx").message
    assert (
        "NaN is not allowed"
        in refused(body(header) + struct.pack("<4d", 1, float("nan"), 3, 4)).message
    )
    odd = {"inputs": [{**header["inputs"][0], "parameters": {"binary_data_size": 31}}]}
    assert "whole number of FP64" in refused(body(odd) + good[:31]).message
    assert refused(b'{"inputs": [1]} trailing').status == 400


def test_wrong_datatypes_shapes_and_names_are_refused_naming_the_tensor() -> None:
    cases: list[tuple[Any, int, str]] = [
        (
            {"inputs": per_column(bad=None)[:3] + [tensor("years", [2], "BYTES", ["4", "11"])]},
            422,
            "tensor 'years' (inputs[3]): datatype BYTES does not fit input 'years' of type long",
        ),
        ({"inputs": per_column()[:3]}, 422, "no tensor for input 'years'"),
        (
            {"inputs": per_column(zip=tensor("zip", [2], "INT64", [1, 2]))},
            422,
            "tensor 'zip' (inputs[4]) is not an input",
        ),
        (
            {"inputs": [tensor("input-0", [2, 3], "FP64", [1.0] * 6)]},
            422,
            "this model takes [n, 4]",
        ),
        (
            {"inputs": [tensor("age", [2], "FP64", [1.0])] + per_column()[1:]},
            400,
            "shape [2] holds 2 values but data has 1",
        ),
        (
            {"inputs": [tensor("age", [3], "FP64", [1.0, 2, 3])] + per_column()[1:]},
            400,
            "different row counts",
        ),
        (
            {"inputs": [tensor("age", [], "FP64", [1.0])] + per_column()[1:]},
            400,
            "a column tensor is [n] or [n, 1]",
        ),
        (
            {"inputs": [tensor("age", [1, 2], "FP64", [1.0, 2])] + per_column()[1:]},
            400,
            "a column tensor is [n] or [n, 1]",
        ),
        ({"inputs": [tensor("age", [2], "FP8", [1.0, 2])]}, 400, 'unknown datatype "FP8"'),
        ({"inputs": [tensor("age", [-2], "FP64", [])]}, 400, "non-negative integers"),
        (
            {"inputs": [{"name": "age", "shape": [1], "datatype": "FP64", "data": [1], "x": 1}]},
            400,
            "unknown key 'x'",
        ),
        ({"inputs": per_column() + per_column()[:1]}, 400, "two tensors are named 'age'"),
        ({"inputs": []}, 400, "non-empty list"),
        (
            {"inputs": per_column(), "outputs": [{"name": "explain"}]},
            400,
            "unknown output 'explain'",
        ),
        ({"inputs": per_column(), "model": "x"}, 400, "unknown top-level key 'model'"),
        ({"inputs": per_column(), "id": 1.5}, 400, "id: expected text"),
        ({"inputs": per_column(), "id": "x" * 101}, 400, "1 to 100 characters"),
        ({"inputs": per_column(), "parameters": []}, 400, "parameters: expected an object"),
    ]
    for request, status, needle in cases:
        err = refused(request)
        assert (err.status, needle in err.message) == (status, True), (err.message, needle)


def test_values_are_checked_per_row_and_name_the_tensor() -> None:
    rows = [dict(ROWS[0]), dict(ROWS[1])]
    rows[1]["debt"] = "lots"
    err = refused({"inputs": per_column(rows)})
    assert err.status == 422 and err.field == "inputs[2].data"
    assert err.message == "tensor 'debt' (inputs[2]), row 1: expected a number, got \"lots\""
    matrix = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, None, 8.0]
    err = refused({"inputs": [tensor("input-0", [2, 4], "FP64", matrix)]})
    assert (
        err.message
        == "tensor 'input-0' (inputs[0]), row 1, input 'debt': expected a number, got null"
    )
    raw = body({"inputs": per_column()}).replace(b"1.25", b"NaN")
    assert "NaN is not allowed" in refused(raw).message
    err = refused({"inputs": per_column()[:3] + [tensor("years", [2], "INT64", [4, 1.5])]})
    assert err.status == 422 and "expected an integer, got 1.5" in err.message
    err = refused({"inputs": per_column()[:3] + [tensor("years", [2], "INT8", [4, 300])]})
    assert "INT8 holds integers from -128 to 127, got 300" in err.message
    err = refused({"inputs": [tensor("age", [2], "INT64", [1, 2.5])] + per_column()[1:]})
    assert "element 1: INT64 holds integers" in err.message
    strings = [tensor(n, [1], "BYTES", ["x"]) for n in ("city", "since", "photo")]
    numbers = [tensor("age", [1], "FP64", [1]), tensor("years", [1], "INT64", [1])]
    flags = [tensor("member", [1], "BOOL", [True])]
    assert (
        decode_infer(
            body(
                {
                    "inputs": numbers
                    + flags
                    + strings[:1]
                    + [
                        tensor("since", [1], "BYTES", ["2024-01-01"]),
                        tensor("photo", [1], "BYTES", ["AA=="]),
                    ]
                }
            ),
            MIXED,
        ).n
        == 1
    )
    err = refused({"inputs": numbers + flags + strings}, MIXED)
    assert "tensor 'since' (inputs[4]), row 0" in err.message and "ISO-8601" in err.message
    err = refused({"inputs": [tensor("input-0", [1, 6], "FP64", [1] * 6)]}, MIXED)
    assert (
        err.status == 422
        and "city (string)" in err.message
        and "one tensor per input" in err.message
    )


def test_row_limits() -> None:
    assert refused({"inputs": [tensor("input-0", [0, 4], "FP64", [])]}).status == 422
    small = InputSpec([("age", "double")], max_rows=2)
    assert decode_infer(body({"inputs": [tensor("age", [2], "FP64", [1, 2])]}), small).n == 2
    assert refused({"inputs": [tensor("age", [3], "FP64", [1, 2, 3])]}, small).status == 413
    assert refused({"inputs": [tensor("x", [3, 1], "FP64", [1, 2, 3])]}, small).status == 413


def test_routing_keys_from_parameters_or_an_extra_tensor() -> None:
    kw: dict[str, Any] = {"allowed_extra": frozenset({"customer_id"}), "key_field": "customer_id"}
    key = tensor("customer_id", [2], "BYTES", ["c-1", "c-1"])
    out = decode_infer(body({"inputs": per_column(key=key)}), CREDIT, **kw)
    assert out.routing_key == "c-1" and out.extras["customer_id"].tolist() == ["c-1", "c-1"]
    given = {"inputs": per_column(key=key), "parameters": {"routing_key": "p-3"}}
    assert decode_infer(body(given), CREDIT, **kw).routing_key == "p-3"
    assert decode_infer(body({"inputs": per_column()}), CREDIT, **kw).routing_key is None
    split = tensor("customer_id", [2], "BYTES", ["c-1", "c-2"])
    err = refused({"inputs": per_column(key=split)}, **kw)
    assert err.status == 422 and "different routing keys" in err.message
    assert err.field == "inputs[4].data"
    by_input = decode_infer(
        body({"inputs": [tensor("m", [1, 4], "FP64", [1, 2, 3, 7])]}), CREDIT, key_field="years"
    )
    assert by_input.routing_key == "7"


def test_encode_infer_answers_every_output_by_default() -> None:
    raw = encode_infer(
        model_name="credit-api",
        model_version="4",
        request_id="req-7",
        predictions=np.array([1, 0]),
        probabilities=np.array([[0.2, 0.8], [0.9, 0.1]]),
        classes=[np.int64(0), np.int64(1)],
        requested=None,
        parameters={"arm": "primary"},
    )
    out = json.loads(raw)
    assert (out["model_name"], out["model_version"], out["id"]) == ("credit-api", "4", "req-7")
    assert out["parameters"] == {"arm": "primary"}
    predict, proba = out["outputs"]
    assert predict == {"name": "predict", "datatype": "INT64", "shape": [2], "data": [1, 0]}
    assert proba["datatype"] == "FP64" and proba["shape"] == [2, 2]
    assert proba["data"] == [0.2, 0.8, 0.9, 0.1] and proba["parameters"] == {"classes": [0, 1]}
    result = InferResult.from_response_body(raw)  # what a tritonclient caller gets back
    assert result.as_numpy("predict_proba").tolist() == [[0.2, 0.8], [0.9, 0.1]]
    assert result.as_numpy("predict").dtype == np.int64


@pytest.mark.parametrize(
    ("predictions", "datatype", "data"),
    [
        (np.array([1.5, np.nan]), "FP64", [1.5, None]),
        (np.array([True, False]), "BOOL", [True, False]),
        (np.array(["good", "bad"]), "BYTES", ["good", "bad"]),
        (np.array(["good", 3], dtype=object), "BYTES", ["good", "3"]),
        (np.array([np.int64(2), 3], dtype=object), "INT64", [2, 3]),
        (np.array([1, 2.5], dtype=object), "FP64", [1, 2.5]),
    ],
)
def test_predict_datatype_follows_the_labels(predictions: Any, datatype: str, data: Any) -> None:
    raw = encode_infer(
        model_name="m",
        model_version="1",
        request_id="r",
        predictions=predictions,
        probabilities=None,
        classes=None,
        requested=None,
    )
    out = json.loads(raw)
    assert "parameters" not in out
    assert out["outputs"] == [{"name": "predict", "datatype": datatype, "shape": [2], "data": data}]


def test_only_requested_outputs_are_answered_in_the_order_asked() -> None:
    common: dict[str, Any] = {
        "model_name": "m",
        "model_version": "1",
        "request_id": "r",
        "predictions": np.array([0]),
        "classes": None,
    }
    raw = encode_infer(probabilities=np.array([[0.5, 0.5]]), requested=["predict_proba"], **common)
    assert [o["name"] for o in json.loads(raw)["outputs"]] == ["predict_proba"]
    both = encode_infer(
        probabilities=np.array([[0.5, 0.5]]), requested=["predict_proba", "predict"], **common
    )
    assert [o["name"] for o in json.loads(both)["outputs"]] == ["predict_proba", "predict"]
    with pytest.raises(RequestError) as info:
        encode_infer(probabilities=None, requested=["predict_proba"], **common)
    assert info.value.status == 400 and "no probabilities" in info.value.message


def test_model_metadata_and_error_shapes() -> None:
    meta = json.loads(
        model_metadata(
            name="credit-api",
            versions=["3", "4"],
            platform="modelward_sklearn",
            spec=MIXED,
            outputs=[("predict", "FP64"), ("predict_proba", "FP64")],
        )
    )
    assert meta["name"] == "credit-api" and meta["versions"] == ["3", "4"]
    assert meta["platform"] == "modelward_sklearn"
    assert meta["inputs"] == [
        {"name": "age", "datatype": "FP64", "shape": [-1]},
        {"name": "years", "datatype": "INT64", "shape": [-1]},
        {"name": "member", "datatype": "BOOL", "shape": [-1]},
        {"name": "city", "datatype": "BYTES", "shape": [-1]},
        {"name": "since", "datatype": "BYTES", "shape": [-1]},
        {"name": "photo", "datatype": "BYTES", "shape": [-1]},
    ]
    assert [o["name"] for o in meta["outputs"]] == ["predict", "predict_proba"]
    assert json.loads(error_body('no model "x" here')) == {"error": 'no model "x" here'}


def test_tritonclient_talks_to_the_gateway_unchanged(
    sqlite_served: Served, gateway: LiveGateway
) -> None:
    ready = sqlite_served.good
    gateway.wait_for(lambda rt: ENDPOINT in rt.endpoints and rt.endpoints[ENDPOINT].primary.spec)
    client = triton.InferenceServerClient(gateway.url.removeprefix("http://"))
    meta = client.get_model_metadata(ENDPOINT)
    assert [i["name"] for i in meta["inputs"]] == FEATURES
    frame = applicants(3)[FEATURES]
    x = triton.InferInput("input-0", [3, len(FEATURES)], "FP64")
    x.set_data_from_numpy(frame.to_numpy())  # the binary tensor extension, tritonclient's default
    wanted = [triton.InferRequestedOutput("predict_proba")]
    result = client.infer(ENDPOINT, [x], outputs=wanted, request_id="t-1")
    model = sqlite_served.client.load_model(ready)
    assert np.allclose(result.as_numpy("predict_proba"), model.predict_proba(frame))
    assert result.get_response()["id"] == "t-1"
    wrong = triton.InferInput("input-0", [1, 3], "FP64")
    wrong.set_data_from_numpy(np.ones((1, 3)))
    with pytest.raises(InferenceServerException) as info:
        client.infer(ENDPOINT, [wrong])
    assert info.value.status() == "422" and "[n, 4]" in info.value.message()


# ---------------------------------------------------------------- arbitrary input

NAMES = st.sampled_from([*MIXED.names, *CREDIT.names, "input-0", "customer_id"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
)
DATA = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4), max_leaves=12)
TENSORS = st.fixed_dictionaries(
    {
        "name": NAMES,
        "shape": st.lists(st.integers(min_value=-1, max_value=5), max_size=3),
        "datatype": st.sampled_from(
            ["FP64", "FP32", "INT64", "INT8", "UINT8", "BOOL", "BYTES", "BF16", "X"]
        ),
    },
    optional={
        "data": DATA,
        "parameters": st.fixed_dictionaries({}, optional={"binary_data_size": st.integers(-1, 40)}),
    },
)
REQUESTS = st.fixed_dictionaries(
    {"inputs": st.lists(TENSORS, max_size=5)},
    optional={
        "id": SCALARS,
        "outputs": st.lists(
            st.fixed_dictionaries({"name": st.sampled_from(["predict", "predict_proba", "x"])}),
            max_size=2,
        ),
        "parameters": st.dictionaries(
            st.sampled_from(["routing_key", "binary_data_output"]), SCALARS
        ),
    },
)
COLUMN_TENSORS = st.integers(min_value=1, max_value=3).flatmap(
    lambda n: st.tuples(
        *[
            st.fixed_dictionaries(
                {
                    "name": st.just(name),
                    "shape": st.sampled_from([[n], [n, 1], [], [n, 2]]),
                    "datatype": st.sampled_from(
                        ["FP64", "FP16", "INT64", "UINT8", "BOOL", "BYTES"]
                    ),
                    "data": st.lists(SCALARS, min_size=n, max_size=n),
                }
            )
            for name in CREDIT.names
        ]
    )
)
BODIES = st.one_of(
    COLUMN_TENSORS.map(lambda ts: body({"inputs": list(ts)})),
    st.builds(lambda r, tail: body(r) + tail, REQUESTS, st.binary(max_size=48)),
    REQUESTS.map(body),
    st.binary(max_size=200),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=BODIES)
def test_arbitrary_bodies_either_decode_or_raise_request_error(raw: bytes) -> None:
    kw: dict[str, Any] = {"allowed_extra": frozenset({"customer_id"}), "key_field": "customer_id"}
    for spec in (MIXED, CREDIT):
        try:
            out = decode_infer(raw, spec, **kw)
        except RequestError as err:
            assert err.status in (400, 413, 422) and err.message and "\n" not in err.message
        else:
            assert out.n >= 1 and list(out.columns) == spec.names
            assert all(len(v) == out.n for v in out.columns.values())
