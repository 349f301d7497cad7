"""The friendly prediction API's request decoding and response encoding."""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelward.errors import InvalidInput
from modelward.serving.codec import (
    Decoded,
    InputSpec,
    RequestError,
    decode_predict,
    encode_predict,
)

CREDIT = InputSpec([("age", "double"), ("income", "double"), ("debt", "double"), ("years", "long")])
MIXED = InputSpec(
    [
        ("age", "double"),
        ("score", "float"),
        ("children", "integer"),
        ("years", "long"),
        ("member", "boolean"),
        ("name", "string"),
        ("city", "category"),
        ("since", "datetime"),
        ("photo", "binary"),
        ("extra", "object"),
    ]
)
PHOTO = base64.b64encode(b"\x89PNG\x00").decode()
MIXED_ROWS = [
    {
        "age": 41,
        "score": 0.5,
        "children": 2,
        "years": 3.0,
        "member": True,
        "name": "Ada",
        "city": "Lyon",
        "since": "2024-05-01T12:00:00Z",
        "photo": PHOTO,
        "extra": {"tags": ["a", 1]},
    },
    {
        "age": 35.5,
        "score": -1e-3,
        "children": 0,
        "years": 12,
        "member": False,
        "name": "Bo",
        "city": "Oslo",
        "since": "2023-01-02",
        "photo": "",
        "extra": None,
    },
]


def body(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def refused(raw: bytes | Any, spec: InputSpec = CREDIT, **kw: Any) -> RequestError:
    data = raw if isinstance(raw, bytes) else body(raw)
    with pytest.raises(RequestError) as info:
        decode_predict(data, spec, **kw)
    err = info.value
    assert "\n" not in err.message and err.message
    return err


def good_row(**changes: Any) -> dict[str, Any]:
    return {"age": 40.0, "income": 3.2, "debt": 1.1, "years": 5, **changes}


def assert_same_columns(a: Decoded, b: Decoded) -> None:
    assert list(a.columns) == list(b.columns)
    for name in a.columns:
        x, y = a.columns[name], b.columns[name]
        assert x.dtype == y.dtype, name
        assert x.tolist() == y.tolist(), name


def test_every_accepted_form_decodes_to_the_same_typed_columns() -> None:
    names = MIXED.names
    forms = [
        {"instances": MIXED_ROWS},
        {"dataframe_records": MIXED_ROWS},
        {"inputs": {n: [r[n] for r in MIXED_ROWS] for n in names}},
        {
            "dataframe_split": {
                "columns": names,
                "data": [[r[n] for n in names] for r in MIXED_ROWS],
            }
        },
        {
            "dataframe_split": {
                "index": [0, 1],
                "columns": names[::-1],
                "data": [[r[n] for n in names[::-1]] for r in MIXED_ROWS],
            }
        },
    ]
    decoded = [decode_predict(body(f), MIXED) for f in forms]
    first = decoded[0]
    assert first.n == 2 and list(first.columns) == names
    cols = first.columns
    assert cols["age"].dtype == np.float64 and cols["age"].tolist() == [41.0, 35.5]
    assert cols["score"].dtype == np.float64
    assert cols["children"].dtype == np.int64 and cols["years"].tolist() == [3, 12]
    assert cols["member"].dtype == np.bool_ and cols["member"].tolist() == [True, False]
    for name in ("name", "city", "since", "photo", "extra"):
        assert cols[name].dtype == object and cols[name].shape == (2,)
    assert cols["city"].tolist() == ["Lyon", "Oslo"]
    assert cols["extra"][0] == {"tags": ["a", 1]} and cols["extra"][1] is None
    for other in decoded[1:]:
        assert_same_columns(first, other)


def test_one_row_of_a_numeric_signature_is_one_value_per_column() -> None:
    out = decode_predict(body({"instances": [good_row()]}), CREDIT)
    assert out.n == 1 and out.request_id is None and out.routing_key is None
    assert {k: v.tolist() for k, v in out.columns.items()} == {
        "age": [40.0],
        "income": [3.2],
        "debt": [1.1],
        "years": [5],
    }
    assert out.extras == {}


def test_the_error_names_row_and_field_in_one_line() -> None:
    rows = [good_row() for _ in range(4)]
    rows[3]["age"] = "abc"
    err = refused({"instances": rows})
    assert err.status == 422
    assert err.message == "row 3, field 'age': expected a number, got \"abc\""
    assert err.field == "instances[3].age"
    columns = {"inputs": {k: [r[k] for r in rows] for k in CREDIT.names}}
    err = refused(columns)
    assert err.message.startswith("row 3, field 'age'") and err.field == "inputs.age"
    split = {"dataframe_split": {"columns": CREDIT.names, "data": [list(r.values()) for r in rows]}}
    assert refused(split).field == "dataframe_split.data[3][0]"


def test_many_bad_values_list_the_first_and_twenty_more() -> None:
    rows = [good_row(age="x") for _ in range(50)]
    err = refused({"instances": rows})
    assert err.message.startswith("row 0, field 'age'")
    assert len(err.details) == 20 and err.details[0].startswith("row 1, field 'age'")


@pytest.mark.parametrize(
    ("column", "value", "needle"),
    [
        ("age", None, "expected a number, got null"),
        ("age", True, "expected a number, got true"),
        ("age", [1], "expected a number, got a list"),
        ("age", "12", 'expected a number, got "12"'),
        ("age", 10**400, "too large for a double"),
        ("years", 1.5, "expected an integer, got 1.5"),
        ("years", 2**63, "out of range for a 64-bit integer"),
        ("years", -(2**63) - 1, "out of range for a 64-bit integer"),
        ("years", False, "expected an integer, got false"),
    ],
)
def test_numbers_are_checked_per_signature_type(column: str, value: Any, needle: str) -> None:
    err = refused({"instances": [good_row(), good_row(**{column: value})]})
    assert err.status == 422 and needle in err.message
    assert err.message.startswith(f"row 1, field '{column}'")


@pytest.mark.parametrize(
    ("literal", "needle"),
    [("NaN", "NaN is not allowed"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity")],
)
def test_nan_and_infinity_literals_are_refused_naming_the_field(literal: str, needle: str) -> None:
    raw = b'{"instances": [{"age": 1, "income": %s, "debt": 1, "years": 1}]}' % literal.encode()
    err = refused(raw)
    assert err.status == 422 and needle in err.message and err.field == "instances[0].income"


def test_overflowing_numbers_parse_to_infinity_and_are_refused() -> None:
    err = refused(b'{"instances": [{"age": 1e999, "income": 1, "debt": 1, "years": 1}]}')
    assert err.status == 422 and "infinity is not allowed" in err.message


def test_nan_is_refused_in_free_form_and_extra_columns_and_request_ids() -> None:
    spec = InputSpec([("payload", "object")])
    err = refused(b'{"instances": [{"payload": {"a": [1, NaN]}}]}', spec)
    assert err.status == 422 and "NaN is not allowed" in err.message
    raw = b'{"instances": [{"payload": 1, "customer": [Infinity]}]}'
    err = refused(raw, spec, allowed_extra=frozenset({"customer"}))
    assert err.status == 422 and err.field == "instances[0].customer"
    assert refused(b'{"request_id": NaN, "instances": [{"payload": 1}]}', spec).status == 400
    raw = b'{"dataframe_split": {"index": [NaN], "columns": ["payload"], "data": [[1]]}}'
    assert refused(raw, spec).status == 400


@pytest.mark.parametrize(
    ("column", "value", "needle"),
    [
        ("member", 1, "expected true or false, got 1"),
        ("member", "true", "expected true or false"),
        ("name", 5, "got the number 5 (numbers are not accepted"),
        ("city", 2.5, "numbers are not accepted"),
        ("name", None, "expected a string, got null"),
        ("since", "yesterday", "ISO-8601"),
        ("since", 1700000000, "ISO-8601"),
        ("photo", "not base64!", "base64"),
    ],
)
def test_text_and_boolean_types_are_strict(column: str, value: Any, needle: str) -> None:
    rows = [dict(MIXED_ROWS[0]), dict(MIXED_ROWS[1])]
    rows[1][column] = value
    err = refused({"instances": rows}, MIXED)
    assert err.status == 422 and needle in err.message and err.field == f"instances[1].{column}"


def test_missing_and_unknown_columns_are_named() -> None:
    row = good_row()
    del row["years"]
    err = refused({"instances": [good_row(), row]})
    assert (err.status, err.field) == (422, "instances[1].years")
    assert err.message == "row 1, field 'years': missing"
    err = refused({"instances": [good_row(zip=75001)]})
    assert err.status == 422 and "'zip'" in err.message and "not an input" in err.message
    columns = {k: [1.0] for k in ("age", "income", "debt")}
    err = refused({"inputs": columns})
    assert err.status == 422 and "'years'" in err.message and err.field == "inputs.years"
    err = refused({"inputs": {**columns, "years": [1], "zip": [1]}})
    assert err.status == 422 and "'zip'" in err.message
    split = {"dataframe_split": {"columns": ["age", "income", "debt"], "data": [[1, 2, 3]]}}
    assert "'years'" in refused(split).message


@pytest.mark.parametrize(
    ("raw", "needle"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "JSON object"),
        (b'{"instances": [], "inputs": {}}', "exactly one of"),
        (b'{"request_id": "a"}', "got none of them"),
        (b'{"instances": [{}], "rows": 1}', "unknown top-level key 'rows'"),
        (b'{"instances": {"age": 1}}', "list of row objects"),
        (b'{"instances": [[1, 2, 3, 4]]}', "instances[0] must be an object"),
        (b'{"inputs": [[1, 2, 3, 4]]}', "inputs must be an object"),
        (b'{"inputs": {"age": 1}}', "expected a list"),
        (b'{"inputs": {"age": [1, 2], "income": [1]}}', "different lengths"),
        (b'{"dataframe_split": {"columns": ["age"]}}', "columns and data"),
        (b'{"dataframe_split": {"columns": ["a", "a"], "data": []}}', "distinct"),
        (b'{"dataframe_split": {"columns": ["age"], "data": [[1, 2]]}}', "data[0] must be"),
        (b'{"instances": [{}], "request_id": 5.5}', "request_id: expected text"),
        (b'{"instances": [{}], "request_id": ""}', "1 to 100 characters"),
        (b'{"instances": [{}], "request_id": "a\\nb"}', "control characters"),
        (b'{"instances": [{}], "routing_key": ["k"]}', "routing_key: expected text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"instances": [{"age": 1' + b"1" * 5000 + b"}]}", "too many digits"),
    ],
)
def test_malformed_bodies_are_400_with_a_reason(raw: bytes, needle: str) -> None:
    err = refused(raw)
    assert err.status == 400 and needle in err.message


def test_request_ids_of_100_characters_pass_and_101_do_not() -> None:
    rows = [good_row()]
    assert decode_predict(body({"instances": rows, "request_id": "r" * 100}), CREDIT).request_id
    assert refused({"instances": rows, "request_id": "r" * 101}).field == "request_id"


def test_row_counts_zero_is_422_and_beyond_the_limit_is_413() -> None:
    assert refused({"instances": []}).status == 422
    assert refused({"inputs": {k: [] for k in CREDIT.names}}).status == 422
    assert refused({"dataframe_split": {"columns": CREDIT.names, "data": []}}).status == 422
    small = InputSpec([("age", "double")], max_rows=3)
    assert decode_predict(body({"inputs": {"age": [1, 2, 3]}}), small).n == 3
    err = refused({"inputs": {"age": [1, 2, 3, 4]}}, small)
    assert err.status == 413 and "limit of 3" in err.message
    assert refused({"instances": [{"age": 1}] * 4}, small).status == 413


def test_allowed_extra_columns_come_back_as_sent() -> None:
    extra = frozenset({"customer_id"})
    rows = [good_row(customer_id="c-1"), good_row(customer_id="c-1")]
    out = decode_predict(body({"instances": rows}), CREDIT, allowed_extra=extra)
    assert list(out.columns) == CREDIT.names
    assert out.extras["customer_id"].dtype == object
    assert out.extras["customer_id"].tolist() == ["c-1", "c-1"]
    cols = {"inputs": {**{k: [1, 2] for k in CREDIT.names}, "customer_id": [7, 7]}}
    assert decode_predict(body(cols), CREDIT, allowed_extra=extra).extras[
        "customer_id"
    ].tolist() == [
        7,
        7,
    ]


def test_the_routing_key_comes_from_the_body_or_the_key_column() -> None:
    extra = frozenset({"customer_id"})
    rows = [good_row(customer_id="c-9"), good_row(customer_id="c-9")]
    kw: dict[str, Any] = {"allowed_extra": extra, "key_field": "customer_id"}
    assert decode_predict(body({"instances": rows}), CREDIT, **kw).routing_key == "c-9"
    given = {"instances": rows, "routing_key": "chosen"}
    assert decode_predict(body(given), CREDIT, **kw).routing_key == "chosen"
    numeric = [good_row(customer_id=42)]
    assert decode_predict(body({"instances": numeric}), CREDIT, **kw).routing_key == "42"
    assert decode_predict(body({"instances": [good_row()]}), CREDIT, **kw).routing_key is None
    by_input = decode_predict(body({"instances": [good_row(years=3)]}), CREDIT, key_field="years")
    assert by_input.routing_key == "3"
    mixed = [good_row(customer_id="c-1"), good_row(customer_id="c-2")]
    err = refused({"instances": mixed}, **kw)
    assert err.status == 422 and "different routing keys" in err.message
    assert "send one key per request or set routing_key" in err.message
    assert err.field == "instances[1].customer_id"
    half = [good_row(customer_id="c-1"), good_row()]
    assert "different routing keys" in refused({"instances": half}, **kw).message
    err = refused({"instances": [good_row(customer_id=["x"])]}, **kw)
    assert err.status == 422 and "text or an integer" in err.message


def test_encode_predict_round_trips_values() -> None:
    raw = encode_predict(
        predictions=np.array([1, 0, 1]),
        probabilities=np.array([[0.1, 0.9], [0.8, 0.2], [0.4, 0.6]]),
        classes=[np.int64(0), np.int64(1)],
        version="credit-scorer/4",
        arm="primary",
        request_id="batch-1",
        ids=["batch-1.0", "batch-1.1", "batch-1.2"],
    )
    out = json.loads(raw)
    assert list(out) == [
        "predictions",
        "probabilities",
        "classes",
        "version",
        "arm",
        "request_id",
        "ids",
    ]
    assert out["predictions"] == [1, 0, 1] and out["classes"] == [0, 1]
    assert out["probabilities"] == [[0.1, 0.9], [0.8, 0.2], [0.4, 0.6]]
    assert (out["version"], out["arm"], out["request_id"]) == (
        "credit-scorer/4",
        "primary",
        "batch-1",
    )
    assert out["ids"] == ["batch-1.0", "batch-1.1", "batch-1.2"]


def test_encode_predict_writes_nan_as_null_and_leaves_out_what_is_none() -> None:
    raw = encode_predict(
        predictions=np.array([1.5, np.nan, np.inf]),
        probabilities=None,
        classes=None,
        version="price/2",
        arm="challenger",
        request_id="r",
        ids=None,
    )
    out = json.loads(raw)  # strict JSON: no NaN tokens
    assert out == {
        "predictions": [1.5, None, None],
        "version": "price/2",
        "arm": "challenger",
        "request_id": "r",
    }
    labels = encode_predict(
        predictions=np.array(["NaN-risk", "low"], dtype=object),
        probabilities=np.array([[math.nan, 1.0], [0.5, 0.5]]),
        classes=["NaN-risk", "low"],
        version="v/1",
        arm="primary",
        request_id="q",
        ids=None,
    )
    back = json.loads(labels)
    assert back["predictions"] == ["NaN-risk", "low"] and back["probabilities"][0] == [None, 1.0]


def test_encode_predict_handles_numpy_scalars_bools_and_datetimes() -> None:
    raw = encode_predict(
        predictions=np.array([np.int64(3), "x", np.float32(0.5)], dtype=object),
        probabilities=None,
        classes=[True, False],
        version="v/1",
        arm="primary",
        request_id="q",
        ids=None,
    )
    assert json.loads(raw)["predictions"] == [3, "x", 0.5]
    times = np.array(["2024-05-01T12:00:00"], dtype="datetime64[s]")
    raw = encode_predict(
        predictions=times,
        probabilities=None,
        classes=None,
        version="v",
        arm="a",
        request_id="r",
        ids=None,
    )
    assert json.loads(raw)["predictions"] == ["2024-05-01T12:00:00"]


def test_input_specs_refuse_unknown_types_and_duplicate_names() -> None:
    with pytest.raises(InvalidInput, match="unknown type"):
        InputSpec([("a", "tensor")])
    with pytest.raises(InvalidInput, match="twice"):
        InputSpec([("a", "double"), ("a", "long")])
    with pytest.raises(InvalidInput, match="max_rows"):
        InputSpec([("a", "double")], max_rows=0)


# ---------------------------------------------------------------- arbitrary input

KEYS = st.sampled_from(
    [*MIXED.names, "instances", "inputs", "dataframe_split", "dataframe_records", "columns"]
    + ["data", "index", "request_id", "routing_key", "customer_id", "zip"]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["2024-05-01", PHOTO, "Lyon", "abc=="])
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=25,
)
ROW = st.dictionaries(st.sampled_from(MIXED.names + ["customer_id", "zip"]), JSONISH, max_size=11)
NUMBERS = st.floats(allow_nan=False) | st.integers(min_value=-(2**65), max_value=2**65)
FULL_ROW = st.fixed_dictionaries(
    {name: NUMBERS for name in CREDIT.names}, optional={"customer_id": SCALARS}
)
BODIES = st.one_of(
    JSONISH.map(lambda v: json.dumps(v).encode()),
    st.builds(
        lambda key, rows, extra: json.dumps({key: rows, **extra}).encode(),
        st.sampled_from(["instances", "dataframe_records"]),
        st.lists(ROW | FULL_ROW, max_size=3),
        st.dictionaries(st.sampled_from(["request_id", "routing_key"]), SCALARS, max_size=2),
    ),
    st.builds(
        lambda cols: json.dumps({"inputs": cols}).encode(),
        st.dictionaries(
            st.sampled_from(MIXED.names + ["customer_id"]), st.lists(SCALARS, max_size=3)
        ),
    ),
    st.binary(max_size=200),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=BODIES)
def test_arbitrary_bodies_either_decode_or_raise_request_error(raw: bytes) -> None:
    kw: dict[str, Any] = {"allowed_extra": frozenset({"customer_id"}), "key_field": "customer_id"}
    for spec in (MIXED, CREDIT):
        try:
            out = decode_predict(raw, spec, **kw)
        except RequestError as err:
            assert err.status in (400, 413, 422) and err.message and "\n" not in err.message
            assert len(err.details) <= 20
        else:
            assert out.n >= 1 and list(out.columns) == spec.names
            assert all(len(v) == out.n for v in out.columns.values())
