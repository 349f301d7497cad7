"""``modelward.infer_signature``: named, typed inputs and outputs from example data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import modelward as mw
from modelward.registry.signature import ModelSignature


def _spec(sig: ModelSignature, part: str) -> list[tuple[str, str]]:
    return [(c.name, c.type) for c in getattr(sig, part)]


def test_dataframe_columns_keep_their_names_and_types() -> None:
    X = pd.DataFrame(
        {
            "amount": np.array([1.5, 2.5], dtype="float64"),
            "score": np.array([0.1, 0.2], dtype="float32"),
            "months": np.array([6, 12], dtype="int64"),
            "dependents": np.array([0, 1], dtype="int32"),
            "owns_home": [True, False],
            "purpose": ["car", "tv"],
            "housing": pd.Categorical(["own", "rent"]),
            "applied": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "mixed": [1, "a"],
        }
    )
    y = pd.Series([0, 1], name="bad")
    sig = mw.infer_signature(X, y)
    assert _spec(sig, "inputs") == [
        ("amount", "double"),
        ("score", "float"),
        ("months", "long"),
        ("dependents", "integer"),
        ("owns_home", "boolean"),
        ("purpose", "string"),
        ("housing", "category"),
        ("applied", "datetime"),
        ("mixed", "object"),
    ]
    assert _spec(sig, "outputs") == [("bad", "long")]


def test_arrays_get_positional_names() -> None:
    sig = mw.infer_signature(np.zeros((3, 2), dtype="float32"), np.array([1, 0, 1]))
    assert _spec(sig, "inputs") == [("x0", "float"), ("x1", "float")]
    assert _spec(sig, "outputs") == [("y", "long")]
    assert mw.infer_signature([[1, 2]]).outputs == []
    two_outputs = mw.infer_signature(np.zeros((2, 1)), np.zeros((2, 2), dtype=bool))
    assert _spec(two_outputs, "outputs") == [("y0", "boolean"), ("y1", "boolean")]


def test_signature_survives_json_and_rejects_unknown_types() -> None:
    sig = mw.infer_signature(pd.DataFrame({"a": [1.0]}))
    assert ModelSignature.model_validate_json(sig.model_dump_json()) == sig
    with pytest.raises(mw.InvalidInput) as none:
        mw.infer_signature(None)
    assert none.value.field == "X"
    with pytest.raises(mw.InvalidInput) as cube:
        mw.infer_signature(np.zeros((2, 2, 2)))
    assert cube.value.field == "X"
