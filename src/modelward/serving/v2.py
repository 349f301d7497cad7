"""The Open Inference Protocol v2 (KServe, Seldon, Triton) over a model's signature.

Requests carry tensors. Either one tensor per signature input (shape ``[n]`` or ``[n, 1]``,
named after the input), or, when every input is numeric or boolean, a single ``[n, k]``
tensor of any name whose columns are the inputs in signature order (what ``tritonclient``
users of scikit-learn servers send). Tensor data may be JSON (flat or nested) or Triton's
binary tensor extension (``parameters.binary_data_size``, raw bytes after the JSON).

Outputs are ``predict`` (one value per row) and ``predict_proba`` (``[n, k]`` FP64, with the
class labels in its ``parameters.classes``).
"""

from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from modelward.serving.codec import (
    MAX_DETAILS,
    MAX_ID_CHARS,
    MAX_KEY_CHARS,
    NUMERIC_KINDS,
    Decoded,
    InputSpec,
    RequestError,
    as_list,
    build_columns,
    check_text,
    describe,
    encode_json,
    find_constant,
    group_kinds,
    object_column,
    parse_json,
    quote,
    routing_key_of,
)

OUTPUTS = ("predict", "predict_proba")
_TOP_KEYS = frozenset(("id", "parameters", "inputs", "outputs"))
_TENSOR_KEYS = frozenset(("name", "shape", "datatype", "data", "parameters"))
_INTEGER_RANGES = {
    "INT8": (-(2**7), 2**7 - 1),
    "INT16": (-(2**15), 2**15 - 1),
    "INT32": (-(2**31), 2**31 - 1),
    "INT64": (-(2**63), 2**63 - 1),
    "UINT8": (0, 2**8 - 1),
    "UINT16": (0, 2**16 - 1),
    "UINT32": (0, 2**32 - 1),
    "UINT64": (0, 2**64 - 1),
}
_FAMILY = {
    **dict.fromkeys(_INTEGER_RANGES, "integer"),
    **dict.fromkeys(("FP16", "FP32", "FP64", "BF16"), "float"),
    "BOOL": "bool",
    "BYTES": "bytes",
}
_RAW_DTYPES = {
    "BOOL": "?",
    "INT8": "<i1",
    "INT16": "<i2",
    "INT32": "<i4",
    "INT64": "<i8",
    "UINT8": "<u1",
    "UINT16": "<u2",
    "UINT32": "<u4",
    "UINT64": "<u8",
    "FP16": "<f2",
    "FP32": "<f4",
    "FP64": "<f8",
}
# Which tensor families a signature kind takes, and the check a family implies.
_FITS = {
    "float": {"float": "float", "integer": "float"},
    "int": {"integer": "int", "float": "int"},
    "bool": {"bool": "bool", "integer": "zero_one", "float": "zero_one"},
    "str": {"bytes": "str"},
    "datetime": {"bytes": "datetime"},
    "binary": {"bytes": "binary"},
    "object": {"bytes": "object"},
}
# The datatype that advertises each signature type in model metadata.
DATATYPE_OF_TYPE = {
    "double": "FP64",
    "float": "FP32",
    "integer": "INT32",
    "long": "INT64",
    "boolean": "BOOL",
}


@dataclass(slots=True)
class _Tensor:
    pos: int  # index in the request's inputs
    name: str
    shape: list[int]
    datatype: str
    values: list[Any]  # flat, row-major

    @property
    def family(self) -> str:
        return _FAMILY[self.datatype]

    @property
    def where(self) -> str:
        return f"tensor {quote(self.name)} (inputs[{self.pos}])"


# ---------------------------------------------------------------- request in


def decode_infer(
    body: bytes,
    spec: InputSpec,
    *,
    allowed_extra: frozenset[str] = frozenset(),
    key_field: str | None = None,
) -> Decoded:
    """Decode a v2 inference request against ``spec``; raise RequestError when anything is off.

    ``id`` becomes the request id, ``parameters.routing_key`` the routing key (else the
    value the rows carry in ``key_field``), ``outputs`` the requested output names."""
    obj, tail = _parse(body)
    if type(obj) is not dict:
        raise RequestError(400, "body must be a JSON object with inputs", "body")
    unknown = [k for k in obj if k not in _TOP_KEYS]
    if unknown:
        message = (
            f"unknown top-level key {quote(unknown[0])}; expected id, parameters, inputs, outputs"
        )
        raise RequestError(400, message, str(unknown[0])[:100])
    request_id = obj.get("id")
    if request_id is not None:
        request_id = check_text(request_id, "id", MAX_ID_CHARS)
    routing_key = _routing_parameter(obj.get("parameters"))
    requested = _requested(obj.get("outputs"))
    tensors = _tensors(obj.get("inputs"), tail)
    got = _columns(tensors, spec, allowed_extra)
    if routing_key is None and key_field is not None:
        routing_key = _key_from(got, key_field)
    extras = {name: object_column(values, got.n) for name, values in got.extras.items()}
    return Decoded(got.columns, got.n, request_id, routing_key, extras, requested)


def _key_from(got: _Assigned, key_field: str) -> str | None:
    """The routing key the rows carry in ``key_field`` (an input or an extra tensor)."""
    if key_field in got.extras:
        values = got.extras[key_field]
    elif key_field in got.columns:
        values = got.columns[key_field].tolist()
    else:
        return None
    carrier = next((t for t in got.tensors if t.name == key_field), got.tensors[0])
    return routing_key_of(values, key_field, lambda r: f"inputs[{carrier.pos}].data")


def _parse(body: bytes) -> tuple[Any, bytes]:
    """The JSON header and the binary tensor bytes after it (Triton's binary extension)."""
    try:
        return parse_json(body), b""
    except RequestError as plain_error:
        first = body.lstrip()[:1]
        if first != b"{":
            raise
        try:  # latin-1 maps bytes 1:1 to characters, so the JSON's end is a byte offset
            _, end = json.JSONDecoder().raw_decode(
                body.decode("latin-1"), len(body) - len(body.lstrip())
            )
        except (ValueError, RecursionError):
            raise plain_error from None
        if end == len(body):
            raise
        return parse_json(body[:end]), body[end:]


def _routing_parameter(parameters: Any) -> str | None:
    if parameters is None:
        return None
    if type(parameters) is not dict:
        raise RequestError(
            400, f"parameters: expected an object, got {describe(parameters)}", "parameters"
        )
    bad = find_constant(parameters)
    if bad is not None:
        raise RequestError(400, f"parameters: {bad} is not allowed", "parameters")
    key = parameters.get("routing_key")
    if key is None:
        return None
    return check_text(key, "parameters.routing_key", MAX_KEY_CHARS, integers=True)


def _requested(outputs: Any) -> list[str] | None:
    """Requested output names, or None for all; unknown names are a 400."""
    if outputs is None:
        return None
    if type(outputs) is not list:
        raise RequestError(400, f"outputs: expected a list, got {describe(outputs)}", "outputs")
    names: list[str] = []
    for i, output in enumerate(outputs):
        name = output.get("name") if type(output) is dict else None
        if type(name) is not str:
            message = f"outputs[{i}] must be an object with a name"
            raise RequestError(400, message, f"outputs[{i}]")
        if name not in OUTPUTS:
            message = (
                f"outputs[{i}]: unknown output {quote(name)}; this model has {', '.join(OUTPUTS)}"
            )
            raise RequestError(400, message, f"outputs[{i}].name")
        params = output.get("parameters")
        if params is not None and (type(params) is not dict or find_constant(params)):
            raise RequestError(400, f"outputs[{i}].parameters must be an object", f"outputs[{i}]")
        if name not in names:
            names.append(name)
    return names or None


# ---------------------------------------------------------------- tensors


def _tensors(inputs: Any, tail: bytes) -> list[_Tensor]:
    if type(inputs) is not list or not inputs:
        raise RequestError(400, "inputs must be a non-empty list of tensors", "inputs")
    tensors = []
    offset = 0
    for pos, obj in enumerate(inputs):
        tensor = _plain_tensor(obj, pos)
        if tensor is None:
            tensor, offset = _tensor(obj, pos, tail, offset)
        tensors.append(tensor)
    if offset != len(tail):
        message = f"body has {len(tail) - offset} bytes after the JSON that no tensor claims"
        raise RequestError(400, message, "body")
    if len({t.name for t in tensors}) != len(tensors):
        names = [t.name for t in tensors]
        twice = next(name for name in names if names.count(name) > 1)
        raise RequestError(400, f"inputs: two tensors are named {quote(twice)}", "inputs")
    return tensors


def _plain_tensor(obj: Any, pos: int) -> _Tensor | None:
    """The common case at little cost: flat JSON data, shape [n] or [n, k], no parameters.
    None sends the tensor to the full check, which also explains what is wrong."""
    if type(obj) is not dict or len(obj) != 4:
        return None
    try:
        name, shape, datatype, data = obj["name"], obj["shape"], obj["datatype"], obj["data"]
    except KeyError:
        return None
    if type(name) is not str or not name or datatype not in _FAMILY or type(data) is not list:
        return None
    if type(shape) is not list:
        return None
    if len(data) == 1:  # the common single row, without building a set
        if type(data[0]) is list:
            return None
    elif list in set(map(type, data)):
        return None
    if len(shape) == 1:
        (n,) = shape
        fits = type(n) is int and n == len(data)
    elif len(shape) == 2:
        n, k = shape
        fits = type(n) is int and type(k) is int and n >= 0 and k >= 0 and n * k == len(data)
    else:
        fits = False
    if not fits:
        return None
    return _Tensor(pos, name, shape, datatype, data)


def _tensor(obj: Any, pos: int, tail: bytes, offset: int) -> tuple[_Tensor, int]:
    where = f"inputs[{pos}]"
    if type(obj) is not dict:
        raise RequestError(
            400, f"{where} must be an object with name, shape, datatype and data", where
        )
    unknown = [k for k in obj if k not in _TENSOR_KEYS]
    if unknown:
        raise RequestError(400, f"{where}: unknown key {quote(unknown[0])}", where)
    name, shape, datatype = obj.get("name"), obj.get("shape"), obj.get("datatype")
    if type(name) is not str or not name:
        raise RequestError(400, f"{where}.name must be a non-empty string", f"{where}.name")
    if type(shape) is not list or any(type(d) is not int or d < 0 for d in shape):
        message = f"{where}.shape must be a list of non-negative integers, got {describe(shape)}"
        raise RequestError(400, message, f"{where}.shape")
    if datatype not in _FAMILY:
        message = (
            f"{where}.datatype: unknown datatype {describe(datatype)}; "
            f"use one of {', '.join(_FAMILY)}"
        )
        raise RequestError(400, message, f"{where}.datatype")
    size = _binary_size(obj.get("parameters"), where)
    if size is None:
        values = _json_values(obj.get("data"), where)
    else:
        if "data" in obj:
            raise RequestError(400, f"{where}: send data or binary_data_size, not both", where)
        if offset + size > len(tail):
            message = f"{where}: binary_data_size {size} runs past the end of the body"
            raise RequestError(400, message, f"{where}.parameters")
        values = _binary_values(tail[offset : offset + size], datatype, where)
        offset += size
    expected = math.prod(shape)
    if expected != len(values):
        message = f"{where}: shape {shape} holds {expected} values but data has {len(values)}"
        raise RequestError(400, message, f"{where}.data")
    return _Tensor(pos, name, shape, datatype, values), offset


def _binary_size(parameters: Any, where: str) -> int | None:
    if parameters is None:
        return None
    if type(parameters) is not dict or find_constant(parameters) is not None:
        raise RequestError(400, f"{where}.parameters must be an object", f"{where}.parameters")
    size = parameters.get("binary_data_size")
    if size is not None and (type(size) is not int or size < 0):
        message = f"{where}.parameters.binary_data_size must be a non-negative integer"
        raise RequestError(400, message, f"{where}.parameters")
    return size


def _json_values(data: Any, where: str) -> list[Any]:
    if type(data) is not list:
        raise RequestError(
            400, f"{where}.data: expected a list, got {describe(data)}", f"{where}.data"
        )
    if list not in set(map(type, data)):
        return data
    flat: list[Any] = []
    stack = [iter(data)]
    while stack:  # row-major flattening without recursion: nesting depth is the client's
        for item in stack[-1]:
            if type(item) is list:
                stack.append(iter(item))
                break
            flat.append(item)
        else:
            stack.pop()
    return flat


def _binary_values(chunk: bytes, datatype: str, where: str) -> list[Any]:
    """Values of a binary tensor: numbers as Python numbers, BYTES elements as bytes."""
    if datatype == "BYTES":
        return _byte_elements(chunk, where)
    if datatype == "BF16":
        raw = np.frombuffer(chunk, "<u2") if len(chunk) % 2 == 0 else None
        array = None if raw is None else (raw.astype("<u4") << 16).view("<f4")
    else:
        dtype = np.dtype(_RAW_DTYPES[datatype])
        array = np.frombuffer(chunk, dtype) if len(chunk) % dtype.itemsize == 0 else None
    if array is None:
        message = f"{where}: {len(chunk)} bytes is not a whole number of {datatype} values"
        raise RequestError(400, message, f"{where}.parameters")
    return array.tolist()


def _byte_elements(chunk: bytes, where: str) -> list[bytes]:
    """BYTES tensor data: each element a 4-byte little-endian length, then that many bytes."""
    out = []
    at = 0
    while at < len(chunk):
        if at + 4 > len(chunk):
            raise RequestError(400, f"{where}: BYTES data ends inside a length prefix", where)
        (length,) = struct.unpack_from("<I", chunk, at)
        at += 4
        if at + length > len(chunk):
            raise RequestError(400, f"{where}: BYTES element runs past its data", where)
        out.append(chunk[at : at + length])
        at += length
    return out


# ---------------------------------------------------------------- tensors -> columns


@dataclass(slots=True)
class _Assigned:
    columns: dict[str, np.ndarray]
    n: int
    extras: dict[str, list[Any]]  # allowed extra tensors, values as sent
    tensors: list[_Tensor]  # as sent: where each column's values sit in the body


def _columns(tensors: list[_Tensor], spec: InputSpec, allowed_extra: frozenset[str]) -> _Assigned:
    if len(tensors) == 1 and _is_matrix(tensors[0], spec, allowed_extra):
        return _from_matrix(tensors[0], spec)
    return _from_tensors(tensors, spec, allowed_extra)


def _is_matrix(tensor: _Tensor, spec: InputSpec, allowed_extra: frozenset[str]) -> bool:
    """Whether a lone tensor not named after an input carries every input as a column;
    a 422 when it is shaped like a table the signature cannot take."""
    k = len(spec.names)
    if tensor.name in spec.index or tensor.name in allowed_extra or k == 0:
        return False
    if len(tensor.shape) != 2:
        return len(tensor.shape) == 1 and k == 1  # [n] for a one-input model
    if k == 1 and tensor.shape[1] == 1:
        return True
    field = f"inputs[{tensor.pos}]"
    if not spec.all_numeric:
        text = [
            f"{name} ({sig_type})"
            for name, sig_type, kind in zip(spec.names, spec.types, spec.kinds, strict=True)
            if kind not in NUMERIC_KINDS
        ]
        message = (
            f"{tensor.where}: a single [n, k] tensor is accepted only when every input is "
            f"numeric or boolean, and this model takes {', '.join(text[:5])}; send one tensor "
            "per input"
        )
        raise RequestError(422, message, field)
    if tensor.shape[1] != k:
        message = (
            f"{tensor.where} has shape {tensor.shape}; this model takes [n, {k}] with columns "
            f"{', '.join(spec.names[:20])}"
        )
        raise RequestError(422, message, f"{field}.shape")
    return True


def _from_matrix(tensor: _Tensor, spec: InputSpec) -> _Assigned:
    k = len(spec.names)
    n = tensor.shape[0]
    _check_rows(n, tensor, spec)
    kinds, groups = _checks_for(spec, [tensor] * k)
    if tensor.datatype in _INTEGER_RANGES:
        _check_integers(tensor)
    values = tensor.values
    columns_values = [values[j::k] for j in range(k)] if k > 1 else [values]
    path = f"inputs[{tensor.pos}].data"

    def locate(row: int, pos: int) -> tuple[str, str]:
        return f"{tensor.where}, row {row}, input {quote(spec.names[pos])}", path

    columns = build_columns(spec, columns_values, locate, groups)
    return _Assigned(columns, n, {}, [tensor])


def _from_tensors(
    tensors: list[_Tensor], spec: InputSpec, allowed_extra: frozenset[str]
) -> _Assigned:
    by_name = {t.name: t for t in tensors}
    if by_name.keys() != spec.name_set:
        _check_names(tensors, by_name, spec, allowed_extra)
    n = _row_count(tensors)
    _check_rows(n, tensors[0], spec)
    ordered = [by_name[name] for name in spec.names]
    kinds, groups = _checks_for(spec, ordered)
    columns_values = []
    for tensor, kind in zip(ordered, kinds, strict=True):
        values = tensor.values
        if tensor.datatype in _INTEGER_RANGES and (tensor.datatype, kind) != ("INT64", "int"):
            _check_integers(tensor)
        if values and type(values[0]) is bytes:
            values = _column_values(tensor, kind)
        columns_values.append(values)

    def locate(row: int, pos: int) -> tuple[str, str]:
        tensor = ordered[pos]
        return f"{tensor.where}, row {row}", f"inputs[{tensor.pos}].data"

    columns = build_columns(spec, columns_values, locate, groups)
    extras = {}
    if len(tensors) > len(ordered):
        extras = {t.name: _extra_values(t) for t in tensors if t.name not in spec.index}
    return _Assigned(columns, n, extras, tensors)


def _check_names(
    tensors: list[_Tensor],
    by_name: dict[str, _Tensor],
    spec: InputSpec,
    allowed_extra: frozenset[str],
) -> None:
    """422 for every input without a tensor and every tensor that is not an input."""
    problems = [
        (f"inputs: no tensor for input {quote(name)} of type {sig_type}", "inputs")
        for name, sig_type in zip(spec.names, spec.types, strict=True)
        if name not in by_name
    ]
    shown = ", ".join(spec.names[:10]) + (", ..." if len(spec.names) > 10 else "")
    problems += [
        (f"{t.where} is not an input of this model (inputs: {shown})", f"inputs[{t.pos}].name")
        for t in tensors
        if t.name not in spec.index and t.name not in allowed_extra
    ]
    if problems:
        details = [message for message, _ in problems[1 : MAX_DETAILS + 1]]
        raise RequestError(422, problems[0][0], problems[0][1], details)


def _row_count(tensors: list[_Tensor]) -> int:
    """Every tensor holds one column: shape [n] or [n, 1], one n for all."""
    n = -1
    for tensor in tensors:
        shape = tensor.shape
        if not (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1)):
            message = f"{tensor.where} has shape {shape}; a column tensor is [n] or [n, 1]"
            raise RequestError(400, message, f"inputs[{tensor.pos}].shape")
        n = shape[0] if n < 0 else n
        if shape[0] != n:
            shown = ", ".join(f"{quote(t.name)}: {t.shape[0]}" for t in tensors[:10])
            raise RequestError(
                400, f"inputs: tensors have different row counts ({shown})", "inputs"
            )
    return n


def _check_rows(n: int, tensor: _Tensor, spec: InputSpec) -> None:
    field = f"inputs[{tensor.pos}].shape"
    if n == 0:
        raise RequestError(422, f"{tensor.where}: no rows to predict", field)
    if n > spec.max_rows:
        message = f"{tensor.where}: {n} rows is more than the limit of {spec.max_rows} per request"
        raise RequestError(413, message, field)


_CACHE_LIMIT = 64  # datatype combinations remembered per model version


def _checks_for(spec: InputSpec, tensors: Sequence[_Tensor]) -> tuple[list[str], Any]:
    """Each column's check (and those grouped) for these tensors' datatypes; remembered,
    since a client sends the same datatypes request after request."""
    key = tuple([t.datatype for t in tensors])
    known = spec.cache.get(key)
    if known is None:
        kinds = _kinds_for(spec, tensors)
        known = (kinds, group_kinds(kinds))
        if len(spec.cache) < _CACHE_LIMIT:
            spec.cache[key] = known
    return known


def _kinds_for(spec: InputSpec, tensors: Sequence[_Tensor]) -> list[str]:
    """The check each column gets, from its signature kind and its tensor's datatype."""
    kinds = []
    for name, sig_type, kind, tensor in zip(
        spec.names, spec.types, spec.kinds, tensors, strict=True
    ):
        check = _FITS[kind].get(tensor.family)
        if check is None:
            accepted = ", ".join(d for d, family in _FAMILY.items() if family in _FITS[kind])
            message = (
                f"{tensor.where}: datatype {tensor.datatype} does not fit input {quote(name)} "
                f"of type {sig_type}; send one of {accepted}"
            )
            raise RequestError(422, message, f"inputs[{tensor.pos}].datatype")
        kinds.append(check)
    return kinds


def _extra_values(tensor: _Tensor) -> list[Any]:
    values = _column_values(tensor, "object")
    bad = find_constant(values)
    if bad is not None:
        message = f"{tensor.where}: {bad} is not allowed"
        raise RequestError(422, message, f"inputs[{tensor.pos}].data")
    return values


def _check_integers(tensor: _Tensor) -> None:
    """INT*/UINT* tensors hold integers within their width."""
    low, high = _INTEGER_RANGES[tensor.datatype]
    values = tensor.values
    if not values:
        return
    if {int} == set(map(type, values)) and low <= min(values) and max(values) <= high:
        return
    for i, value in enumerate(values):
        if type(value) is not int or not low <= value <= high:
            message = (
                f"{tensor.where}, element {i}: {tensor.datatype} holds integers from {low} "
                f"to {high}, got {describe(value)}"
            )
            raise RequestError(422, message, f"inputs[{tensor.pos}].data")


def _column_values(tensor: _Tensor, kind: str) -> list[Any]:
    """Binary BYTES elements as the text the column kind expects."""
    values = tensor.values
    if not values or type(values[0]) is not bytes:
        return values
    if kind == "binary":
        return [base64.b64encode(v).decode("ascii") for v in values]
    try:
        return [v.decode("utf-8") for v in values]
    except UnicodeDecodeError:
        bad = next(i for i, v in enumerate(values) if not _is_utf8(v))
        message = f"{tensor.where}, row {bad}: BYTES element is not UTF-8 text"
        raise RequestError(422, message, f"inputs[{tensor.pos}].data") from None


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


# ---------------------------------------------------------------- response out


def encode_infer(
    *,
    model_name: str,
    model_version: str,
    request_id: str,
    predictions: np.ndarray,
    probabilities: np.ndarray | None,
    classes: list[Any] | None,
    requested: list[str] | None,
    parameters: dict[str, Any] | None = None,
) -> bytes:
    """A v2 inference response with the requested outputs (all when ``requested`` is None).

    Raises RequestError (400) when ``predict_proba`` was requested of a model without
    probabilities."""
    wanted = list(OUTPUTS) if requested is None else requested
    outputs = []
    for name in wanted:
        if name == "predict":
            outputs.append(_predict_output(predictions))
        elif probabilities is not None:
            outputs.append(_proba_output(probabilities, classes))
        elif requested is not None:
            message = (
                f"output 'predict_proba' is not available: {model_name} gives no probabilities"
            )
            raise RequestError(400, message, "outputs")
    body: dict[str, Any] = {
        "model_name": model_name,
        "model_version": model_version,
        "id": request_id,
    }
    if parameters is not None:
        body["parameters"] = parameters
    body["outputs"] = outputs
    return encode_json(body)


def _predict_output(predictions: np.ndarray) -> dict[str, Any]:
    array = np.asarray(predictions)
    data = as_list(array.reshape(-1))
    datatype = _datatype(array, data)
    if datatype == "BYTES":
        data = [v if type(v) is str else str(v) for v in data]
    return {"name": "predict", "datatype": datatype, "shape": list(array.shape), "data": data}


def _datatype(array: np.ndarray, data: list[Any]) -> str:
    kind = array.dtype.kind
    if kind == "b":
        return "BOOL"
    if kind in "iu":
        return "INT64"
    if kind == "f":
        return "FP64"
    if kind == "O" and data:
        types = set(map(type, data))
        if types == {bool}:
            return "BOOL"
        if types <= {int}:
            return "INT64"
        if types <= {int, float}:
            return "FP64"
    return "BYTES"


def _proba_output(probabilities: np.ndarray, classes: list[Any] | None) -> dict[str, Any]:
    array = np.asarray(probabilities, dtype=np.float64)
    output: dict[str, Any] = {
        "name": "predict_proba",
        "datatype": "FP64",
        "shape": list(array.shape),
        "data": array.reshape(-1).tolist(),
    }
    if classes is not None:
        output["parameters"] = {"classes": as_list(classes)}
    return output


def model_metadata(
    *,
    name: str,
    versions: list[str],
    platform: str,
    spec: InputSpec,
    outputs: list[tuple[str, str]],
) -> bytes:
    """v2 model metadata: one input per signature column, shape [-1]."""
    body = {
        "name": name,
        "versions": versions,
        "platform": platform,
        "inputs": [
            {"name": n, "datatype": DATATYPE_OF_TYPE.get(t, "BYTES"), "shape": [-1]}
            for n, t in zip(spec.names, spec.types, strict=True)
        ],
        "outputs": [{"name": n, "datatype": d, "shape": [-1]} for n, d in outputs],
    }
    return encode_json(body)


def error_body(message: str) -> bytes:
    """The v2 error shape: ``{"error": "..."}``."""
    return encode_json({"error": message})
