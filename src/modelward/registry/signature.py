"""Model signatures: the named, typed columns a model takes and returns.

pandas and numpy are imported only inside :func:`infer_signature`, so the server, which
only validates signatures, never loads them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from modelward.validation import Key

ColumnType = Literal[
    "boolean",
    "integer",
    "long",
    "float",
    "double",
    "string",
    "binary",
    "datetime",
    "category",
    "object",
]
MAX_COLUMNS = 10_000


class ColumnSpec(BaseModel):
    name: Key
    type: ColumnType


class ModelSignature(BaseModel):
    """What a model takes (``inputs``) and returns (``outputs``)."""

    inputs: list[ColumnSpec] = Field(default_factory=list, max_length=MAX_COLUMNS)
    outputs: list[ColumnSpec] = Field(default_factory=list, max_length=MAX_COLUMNS)


def infer_signature(X: Any, y: Any = None) -> ModelSignature:
    """Infer a signature from example inputs and, optionally, example outputs.

    Parameters
    ----------
    X:
        A pandas DataFrame or Series, a numpy array, or anything ``numpy.asarray`` accepts.
        DataFrame columns keep their names; array columns are named ``x0``, ``x1``, ...
    y:
        Example outputs (predictions or the target), in the same forms; an unnamed
        one-dimensional output is named ``y``.

    Returns
    -------
    ModelSignature
    """
    from modelward.errors import InvalidInput

    if X is None:
        raise InvalidInput("infer_signature needs example inputs, got None", field="X")
    inputs = _columns(X, prefix="x", field="X")
    outputs = [] if y is None else _columns(y, prefix="y", field="y")
    return ModelSignature(inputs=inputs, outputs=outputs)


def _columns(data: Any, prefix: str, field: str) -> list[ColumnSpec]:
    import numpy as np
    import pandas as pd

    from modelward.errors import InvalidInput

    if isinstance(data, pd.DataFrame):
        return [ColumnSpec(name=str(c), type=_series_type(data[c])) for c in data.columns]
    if isinstance(data, pd.Series):
        name = str(data.name) if data.name is not None else prefix
        return [ColumnSpec(name=name, type=_series_type(data))]
    try:
        array = np.asarray(data)
    except Exception as exc:
        raise InvalidInput(
            f"cannot read {type(data).__name__} as a table: {exc}", field=field
        ) from None
    if array.ndim == 0 or array.ndim > 2:
        raise InvalidInput(
            f"expected a table (1 or 2 dimensions), got an array of shape {array.shape}",
            field=field,
        )
    if array.ndim == 1:
        return [ColumnSpec(name=prefix, type=_series_type(pd.Series(array)))]
    frame = pd.DataFrame(array)
    return [ColumnSpec(name=f"{prefix}{i}", type=_series_type(frame[i])) for i in frame.columns]


_INFERRED = {
    "string": "string",
    "boolean": "boolean",
    "integer": "long",
    "floating": "double",
    "mixed-integer-float": "double",
    "decimal": "double",
    "bytes": "binary",
    "datetime": "datetime",
    "datetime64": "datetime",
    "date": "datetime",
}


def _series_type(series: Any) -> ColumnType:
    import pandas as pd
    from pandas.api import types as pdt

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pdt.is_bool_dtype(dtype):
        return "boolean"
    if pdt.is_integer_dtype(dtype):
        return "long" if dtype.itemsize >= 8 else "integer"
    if pdt.is_float_dtype(dtype):
        return "double" if dtype.itemsize >= 8 else "float"
    if pdt.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pdt.is_string_dtype(dtype) and not pdt.is_object_dtype(dtype):
        return "string"
    inferred = pd.api.types.infer_dtype(series, skipna=True)
    return _INFERRED.get(inferred, "object")  # type: ignore[return-value]
