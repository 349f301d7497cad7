"""Prediction requests in, answers out: the friendly JSON API and the pieces v2 shares.

A request body becomes one typed numpy column per signature input (``Decoded.columns``),
checked value by value against the model version's signature; anything else is refused with
a :class:`RequestError` that names the row and the field. Predictions become response bytes.

Accepted request shapes (exactly one per body, plus optional ``request_id``/``routing_key``)::

    {"instances": [{"age": 41, "city": "Lyon"}, ...]}                 rows
    {"inputs": {"age": [41, 35], "city": ["Lyon", "Oslo"]}}           columns
    {"dataframe_split": {"columns": ["age", "city"], "data": [[41, "Lyon"]]}}   MLflow
    {"dataframe_records": [{"age": 41, "city": "Lyon"}]}              MLflow

Column types per signature type: double/float -> float64, integer/long -> int64,
boolean -> bool, string/category/datetime/binary/object -> object arrays (of str for all but
object). NaN and infinity are refused wherever they appear in a body.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from operator import itemgetter
from typing import Any, cast

import numpy as np

from modelward.errors import InvalidInput

MAX_DETAILS = 20  # further problems listed after the first one
MAX_ID_CHARS = 100
MAX_KEY_CHARS = 200
PAYLOAD_KEYS = ("instances", "inputs", "dataframe_split", "dataframe_records")
_TOP_KEYS = frozenset((*PAYLOAD_KEYS, "request_id", "routing_key"))

# Signature type -> how its values are checked and stored.
KIND_OF_TYPE = {
    "double": "float",
    "float": "float",
    "integer": "int",
    "long": "int",
    "boolean": "bool",
    "string": "str",
    "category": "str",
    "datetime": "datetime",
    "binary": "binary",
    "object": "object",
}
NUMERIC_KINDS = frozenset(("float", "int", "bool"))
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class RequestError(Exception):
    """A request the gateway refuses: ``status`` 400 (malformed), 413 (too many rows),
    422 (a value does not fit the signature), ``message`` one line naming row and field."""

    def __init__(
        self,
        status: int,
        message: str,
        field: str | None = None,
        details: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.details = list(details or [])


class InputSpec:
    """Compiled once per model version from its signature: the inputs, in order, and how
    each one's values are checked."""

    def __init__(self, inputs: list[tuple[str, str]], *, max_rows: int = 10_000) -> None:
        if max_rows < 1:
            raise InvalidInput(f"max_rows must be at least 1, got {max_rows}", field="max_rows")
        pairs = [(str(name), str(kind)) for name, kind in inputs]
        unknown = [f"{n} ({t})" for n, t in pairs if t not in KIND_OF_TYPE]
        if unknown:
            raise InvalidInput(
                f"signature input has an unknown type: {', '.join(unknown)}", field="signature"
            )
        self.names: list[str] = [n for n, _ in pairs]
        if len(set(self.names)) != len(self.names):
            raise InvalidInput("signature names an input twice", field="signature")
        self.types: list[str] = [t for _, t in pairs]
        self.kinds: list[str] = [KIND_OF_TYPE[t] for t in self.types]
        self.index: dict[str, int] = {n: i for i, n in enumerate(self.names)}
        self.name_set = frozenset(self.names)
        self.cache: dict[Any, Any] = {}  # per-protocol compiled checks, filled on first use
        self.max_rows = max_rows
        self.groups = group_kinds(self.kinds)
        self.all_numeric = all(k in NUMERIC_KINDS for k in self.kinds)
        self._getter = itemgetter(*self.names) if len(self.names) > 1 else None

    def row_values(self, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Signature columns from row objects; KeyError when a row lacks an input."""
        if self._getter is not None:
            return list(zip(*map(self._getter, rows), strict=True))
        if not self.names:
            return []
        name = self.names[0]
        return [tuple(row[name] for row in rows)]


@dataclass(slots=True)
class Decoded:
    """A request that passed every check: typed columns ready for the model."""

    columns: dict[str, np.ndarray]
    n: int
    request_id: str | None
    routing_key: str | None
    extras: dict[str, np.ndarray] = field(default_factory=dict)
    requested: list[str] | None = None  # v2 only: the outputs asked for, None = all


# ---------------------------------------------------------------- JSON in


class _Constant:
    """What ``NaN``/``Infinity`` parse to, so the check that meets one can name its field."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


_CONSTANTS = {name: _Constant(name) for name in ("NaN", "Infinity", "-Infinity")}
_DECODER = json.JSONDecoder(parse_constant=_CONSTANTS.__getitem__)


def parse_json(body: bytes) -> Any:
    """The body as JSON; 400 when it is not UTF-8 JSON."""
    try:
        return _DECODER.decode(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RequestError(400, f"body is not UTF-8 text (byte {exc.start})", "body") from None
    except json.JSONDecodeError as exc:
        message = f"body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        raise RequestError(400, message, "body") from None
    except (ValueError, RecursionError) as exc:
        raise RequestError(400, f"body is not valid JSON: {_parse_reason(exc)}", "body") from None


def _parse_reason(exc: Exception) -> str:
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return "a number has too many digits" if "digits" in str(exc) else "unreadable value"


def find_constant(value: Any) -> str | None:
    """The first NaN/Infinity (or non-finite float) anywhere inside ``value``, if any."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is _Constant:
            return item.text
        elif kind is float and not math.isfinite(item):
            return "NaN" if item != item else "infinity"
    return None


def describe(value: Any) -> str:
    """A value as a message shows it: JSON-like, short, one line."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, _Constant):
        return value.text
    if isinstance(value, str):
        return json.dumps(value if len(value) <= 40 else value[:40] + "...", ensure_ascii=False)
    if isinstance(value, int | float):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, bytes):
        return f"{len(value)} bytes"
    return type(value).__name__


def quote(name: Any) -> str:
    """A client-supplied name, quoted for a message, on one line and not too long."""
    text = str(name)
    return repr(text if len(text) <= 60 else text[:60] + "...")


def check_text(
    value: Any, where: str, limit: int, status: int = 400, *, integers: bool = False
) -> str:
    """Short client text (request ids, routing keys; ``integers`` takes those as text too):
    1 to ``limit`` characters, no control characters."""
    if integers and type(value) is int:
        value = str(value)
    if type(value) is not str:
        raise RequestError(status, f"{where}: expected text, got {describe(value)}", where)
    if not value or len(value) > limit:
        raise RequestError(status, f"{where}: must be 1 to {limit} characters", where)
    if _CONTROL.search(value):
        raise RequestError(status, f"{where}: must not contain control characters", where)
    return value


# ---------------------------------------------------------------- values


class _Reject(Exception):
    """One value does not fit its column; ``args[0]`` is the reason, a short phrase."""


def _expected(what: str, value: Any) -> _Reject:
    if isinstance(value, _Constant):
        return _Reject(f"{value.text} is not allowed")
    return _Reject(f"expected {what}, got {describe(value)}")


def _non_finite(value: float) -> _Reject:
    return _Reject("NaN is not allowed" if value != value else "infinity is not allowed")


def to_float(value: Any) -> float:
    kind = type(value)
    if kind is float:
        if math.isfinite(value):
            return value
        raise _non_finite(value)
    if kind is int:
        try:
            return float(value)
        except OverflowError:
            raise _Reject(f"{describe(value)} is too large for a double") from None
    raise _expected("a number", value)


def to_int(value: Any) -> int:
    kind = type(value)
    if kind is float:
        if not math.isfinite(value):
            raise _non_finite(value)
        if not value.is_integer():
            raise _expected("an integer", value)
        value, kind = int(value), int
    if kind is int:
        if _INT64_MIN <= value <= _INT64_MAX:
            return int(value)
        raise _Reject(f"{describe(value)} is out of range for a 64-bit integer")
    raise _expected("an integer", value)


def to_bool(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise _expected("true or false", value)


def to_zero_one(value: Any) -> bool:
    """Booleans sent in a numeric tensor: 0 or 1 only."""
    if type(value) is bool:
        return value
    if type(value) in (int, float) and value in (0, 1):
        return bool(value)
    raise _expected("0 or 1", value)


def to_str(value: Any) -> str:
    if type(value) is str:
        return value
    if type(value) in (int, float):
        raise _Reject(
            f"expected a string, got the number {describe(value)} (numbers are not accepted "
            "for this field: send it in quotes)"
        )
    raise _expected("a string", value)


def to_datetime(value: Any) -> str:
    if type(value) is str:
        try:
            datetime.fromisoformat(value)
            return value
        except ValueError:
            pass
    raise _expected("an ISO-8601 date-time text such as 2024-05-01T12:00:00Z", value)


def to_binary(value: Any) -> str:
    if type(value) is str:
        try:
            base64.b64decode(value, validate=True)
            return value
        except (binascii.Error, ValueError):
            pass
    raise _expected("base64 text", value)


def to_object_reason(value: Any) -> str | None:
    """Why a free-form value is refused (it holds NaN or infinity), or None."""
    bad = find_constant(value)
    return None if bad is None else f"{bad} is not allowed"


def to_object(value: Any) -> Any:
    reason = to_object_reason(value)
    if reason is not None:
        raise _Reject(reason)
    return value


CHECKS: dict[str, Callable[[Any], Any]] = {
    "float": to_float,
    "int": to_int,
    "bool": to_bool,
    "zero_one": to_zero_one,
    "str": to_str,
    "datetime": to_datetime,
    "binary": to_binary,
    "object": to_object,
}
_DTYPES = {"float": np.float64, "int": np.int64, "bool": np.bool_, "zero_one": np.bool_}
# Kinds whose whole block is checked by the set of Python types it holds, then converted at once.
_FAST_TYPES = {
    "float": frozenset((float, int)),
    "int": frozenset((int,)),
    "bool": frozenset((bool,)),
    "str": frozenset((str,)),
}


def group_kinds(kinds: Sequence[str]) -> list[tuple[str, tuple[int, ...]]]:
    """Column positions per kind, in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for i, kind in enumerate(kinds):
        groups.setdefault(kind, []).append(i)
    return [(kind, tuple(idx)) for kind, idx in groups.items()]


# (row, column position) -> (message prefix, field path) for a problem found there.
Locate = Callable[[int, int], tuple[str, str]]


def build_columns(
    spec: InputSpec,
    values: Sequence[Sequence[Any]],
    locate: Locate,
    groups: Sequence[tuple[str, tuple[int, ...]]] | None = None,
) -> dict[str, np.ndarray]:
    """Typed arrays from per-column value lists (all one length), in signature order.

    ``groups`` (from :func:`group_kinds`) overrides the signature's checks (v2 tensors of
    another datatype family); a 422 lists the first problem and up to 20 more."""
    if groups is None:
        groups = spec.groups
    arrays: list[Any] = [None] * len(values)
    problems: list[tuple[int, int, str]] = []
    for kind, idx in groups:
        if _fast_block(kind, idx, values, arrays):
            continue
        for i in idx:
            arrays[i] = _checked_column(kind, values[i], i, problems)
            if len(problems) > MAX_DETAILS:
                break
        if len(problems) > MAX_DETAILS:
            break
    if problems:
        raise problems_error(problems, locate)
    return dict(zip(spec.names, arrays, strict=True))


def _fast_block(kind: str, idx: tuple[int, ...], values: Sequence[Any], out: list[Any]) -> bool:
    """Convert a block of same-kind columns in one numpy call when every value is plainly
    of the right Python type; False sends the block to the value-by-value check."""
    allowed = _FAST_TYPES.get(kind)
    if allowed is None:
        return False
    block = [values[i] for i in idx]
    if not allowed.issuperset(map(type, chain.from_iterable(block))):
        return False
    try:
        array: np.ndarray = np.array(block, dtype=_DTYPES.get(kind, object))
    except OverflowError:  # an integer beyond int64 (or beyond a double)
        return False
    if kind == "float" and not np.isfinite(array).all():  # 1e999 parses to infinity
        return False
    for i, column in zip(idx, array, strict=True):
        out[i] = column
    return True


def _checked_column(
    kind: str, column: Sequence[Any], pos: int, problems: list[tuple[int, int, str]]
) -> np.ndarray | None:
    check = CHECKS[kind]
    converted = []
    failed = False
    for row, value in enumerate(column):
        try:
            converted.append(check(value))
        except _Reject as exc:
            failed = True
            problems.append((row, pos, str(exc)))
            if len(problems) > MAX_DETAILS:
                break
    if failed:
        return None
    dtype = _DTYPES.get(kind)
    if dtype is None:
        return np.fromiter(converted, dtype=object, count=len(converted))
    return np.array(converted, dtype=dtype)


def problems_error(problems: list[tuple[int, int, str]], locate: Locate) -> RequestError:
    lines = []
    first_field = None
    for row, pos, reason in problems[: MAX_DETAILS + 1]:
        prefix, path = locate(row, pos)
        first_field = first_field or path
        lines.append(f"{prefix}: {reason}")
    return RequestError(422, lines[0], first_field, lines[1:])


def object_column(values: Iterable[Any], n: int) -> np.ndarray:
    return np.fromiter(values, dtype=object, count=n)


def routing_key_of(values: Sequence[Any], key_field: str, path: Callable[[int], str]) -> str | None:
    """The one routing key the rows carry in ``key_field``; None when no row carries one.

    ``path(row)`` is where a row's key sits in the body, for the error's field."""
    seen: dict[str | None, int] = {}
    for row, value in enumerate(values):
        if value is not None and type(value) is not str and type(value) is not int:
            message = (
                f"row {row}, field {quote(key_field)}: a routing key must be text or an "
                f"integer, got {describe(value)}"
            )
            raise RequestError(422, message, path(row))
        seen.setdefault(None if value is None else str(value), row)
        if len(seen) > 1:
            shown = ", ".join("missing" if k is None else quote(k) for k in seen)
            message = (
                f"row {row}: rows carry different routing keys in {quote(key_field)} ({shown}); "
                "send one key per request or set routing_key"
            )
            raise RequestError(422, message, path(row))
    key = next(iter(seen), None)
    return None if key is None else check_text(key, path(0), MAX_KEY_CHARS, 422)


# ---------------------------------------------------------------- friendly API in


def decode_predict(
    body: bytes,
    spec: InputSpec,
    *,
    allowed_extra: frozenset[str] = frozenset(),
    key_field: str | None = None,
) -> Decoded:
    """Decode a friendly prediction request; raise RequestError when anything is off.

    Columns not in the signature are refused unless named in ``allowed_extra``; those come
    back in ``extras`` as sent. Without a top-level ``routing_key`` the routing key is the
    value every row carries in ``key_field`` (rows that disagree are refused)."""
    obj = parse_json(body)
    payload_key = _envelope(obj)
    request_id = obj.get("request_id")
    if request_id is not None:
        request_id = check_text(request_id, "request_id", MAX_ID_CHARS)
    routing_key = obj.get("routing_key")
    if routing_key is not None:
        routing_key = check_text(routing_key, "routing_key", MAX_KEY_CHARS, integers=True)
    payload = obj[payload_key]
    if payload_key == "inputs":
        table = _from_columns(payload, spec, allowed_extra)
    elif payload_key == "dataframe_split":
        table = _from_split(payload, spec, allowed_extra)
    else:
        table = _from_rows(payload, payload_key, spec, allowed_extra)
    columns = build_columns(spec, table.values, lambda r, pos: table.locate(r, spec.names[pos]))
    extras = {name: _extra_column(table, name) for name in table.extras}
    if routing_key is None and key_field is not None:
        routing_key = _key_from_table(table, spec, key_field)
    return Decoded(columns, table.n, request_id, routing_key, extras)


def _extra_column(table: _Table, name: str) -> np.ndarray:
    values = table.extras[name]
    for row, value in enumerate(values):
        bad = to_object_reason(value)
        if bad is not None:
            prefix, path = table.locate(row, name)
            raise RequestError(422, f"{prefix}: {bad}", path)
    return object_column(values, table.n)


def _envelope(obj: Any) -> str:
    """The one payload key of a well-formed friendly body."""
    if type(obj) is not dict:
        raise RequestError(
            400, f"body must be a JSON object with one of {', '.join(PAYLOAD_KEYS)}", "body"
        )
    for key in obj:
        if key not in _TOP_KEYS:
            raise RequestError(
                400,
                f"unknown top-level key {quote(key)}; expected {', '.join(PAYLOAD_KEYS)}, "
                "request_id or routing_key",
                str(key)[:100],
            )
    present = [k for k in PAYLOAD_KEYS if k in obj]
    if len(present) != 1:
        got = " and ".join(present) if present else "none of them"
        raise RequestError(
            400, f"send exactly one of {', '.join(PAYLOAD_KEYS)} (got {got})", "body"
        )
    return present[0]


@dataclass(slots=True)
class _Table:
    values: Sequence[Sequence[Any]]  # one sequence per signature input
    n: int
    path: Callable[[int, str], str]  # (row, column name) -> field path in the body
    extras: Mapping[str, Sequence[Any]]

    def locate(self, row: int, name: str) -> tuple[str, str]:
        return f"row {row}, field {quote(name)}", self.path(row, name)


def _check_count(n: int, where: str, spec: InputSpec) -> None:
    if n == 0:
        raise RequestError(422, f"{where}: no rows to predict", where)
    if n > spec.max_rows:
        message = f"{where}: {n} rows is more than the limit of {spec.max_rows} per request"
        raise RequestError(413, message, where)


def _naming_error(problems: list[tuple[str, str]]) -> RequestError:
    """422 from (message, field) pairs about missing or unknown columns."""
    details = [message for message, _ in problems[1 : MAX_DETAILS + 1]]
    return RequestError(422, problems[0][0], problems[0][1], details)


def _not_an_input(spec: InputSpec) -> str:
    shown = ", ".join(spec.names[:10]) + (", ..." if len(spec.names) > 10 else "")
    return f"not an input of this model (inputs: {shown})"


def _from_rows(rows: Any, where: str, spec: InputSpec, allowed_extra: frozenset[str]) -> _Table:
    if type(rows) is not list:
        raise RequestError(400, f"{where} must be a list of row objects", where)
    _check_count(len(rows), where, spec)
    if {dict} != set(map(type, rows)):
        bad = next(i for i, row in enumerate(rows) if type(row) is not dict)
        message = f"{where}[{bad}] must be an object of column values, got {describe(rows[bad])}"
        raise RequestError(400, message, f"{where}[{bad}]")
    width = len(spec.names)
    try:
        values = spec.row_values(rows)
        plain = all(len(row) == width for row in rows)
    except KeyError:
        plain = False
    extra_names: list[str] = []
    if not plain:
        extra_names = _row_extras(rows, where, spec, allowed_extra)
        values = spec.row_values(rows)
    extras = {name: [row.get(name) for row in rows] for name in extra_names}
    return _Table(values, len(rows), lambda r, name: f"{where}[{r}].{name}", extras)


def _row_extras(
    rows: list[dict[str, Any]], where: str, spec: InputSpec, allowed_extra: frozenset[str]
) -> list[str]:
    """The allowed extra columns rows carry; 422 for every missing input and every column
    that is neither an input nor allowed."""
    problems: list[tuple[str, str]] = []
    extra_names: dict[str, None] = {}
    for r, row in enumerate(rows):
        for name in spec.names:
            if name not in row:
                problems.append((f"row {r}, field {quote(name)}: missing", f"{where}[{r}].{name}"))
        for key in row:
            if key in spec.index:
                continue
            if key in allowed_extra:
                extra_names[key] = None
            else:
                message = f"row {r}, field {quote(key)}: {_not_an_input(spec)}"
                problems.append((message, f"{where}[{r}].{key}"[:200]))
        if len(problems) > MAX_DETAILS:
            break
    if problems:
        raise _naming_error(problems)
    return list(extra_names)


def _check_columns_named(
    names: Iterable[str], spec: InputSpec, allowed_extra: frozenset[str], where: str
) -> None:
    given = set(names)
    problems = [
        (f"field {quote(name)}: missing from {where}", f"{where}.{name}")
        for name in spec.names
        if name not in given
    ]
    problems += [
        (f"field {quote(name)}: {_not_an_input(spec)}", f"{where}.{name}"[:200])
        for name in given
        if name not in spec.index and name not in allowed_extra
    ]
    if problems:
        raise _naming_error(problems)


def _from_columns(columns: Any, spec: InputSpec, allowed_extra: frozenset[str]) -> _Table:
    if type(columns) is not dict:
        raise RequestError(400, "inputs must be an object mapping each column to a list", "inputs")
    for name, values in columns.items():
        if type(values) is not list:
            message = f"inputs.{name}: expected a list of values, got {describe(values)}"
            raise RequestError(400, message, f"inputs.{name}"[:200])
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        shown = ", ".join(f"{quote(k)}: {len(v)}" for k, v in list(columns.items())[:10])
        raise RequestError(400, f"inputs: columns have different lengths ({shown})", "inputs")
    _check_columns_named(columns, spec, allowed_extra, "inputs")
    n = lengths.pop() if lengths else 0
    _check_count(n, "inputs", spec)
    values = [columns[name] for name in spec.names]
    extras = {k: v for k, v in columns.items() if k not in spec.index}
    return _Table(values, n, lambda r, name: f"inputs.{name}", extras)


def _from_split(split: Any, spec: InputSpec, allowed_extra: frozenset[str]) -> _Table:
    where = "dataframe_split"
    if type(split) is not dict or not {"columns", "data"} <= split.keys():
        raise RequestError(400, f"{where} must be an object with columns and data", where)
    unknown = [k for k in split if k not in ("columns", "data", "index")]
    if unknown:
        raise RequestError(400, f"{where}: unknown key {quote(unknown[0])}", where)
    if find_constant(split.get("index")) is not None:
        raise RequestError(400, f"{where}.index: NaN and infinity are not allowed", where)
    names, data = split["columns"], split["data"]
    if type(names) is not list or set(map(type, names)) - {str} or len(set(names)) != len(names):
        message = f"{where}.columns must be a list of distinct column names"
        raise RequestError(400, message, f"{where}.columns")
    if type(data) is not list:
        raise RequestError(400, f"{where}.data must be a list of rows", f"{where}.data")
    for r, row in enumerate(data):
        if type(row) is not list or len(row) != len(names):
            message = f"{where}.data[{r}] must be a list of {len(names)} values"
            raise RequestError(400, message, f"{where}.data[{r}]")
    _check_columns_named(names, spec, allowed_extra, where)
    _check_count(len(data), where, spec)
    position = {name: j for j, name in enumerate(names)}
    by_name = dict(zip(names, zip(*data, strict=True), strict=True))
    values = [by_name[name] for name in spec.names]
    extras = {k: v for k, v in by_name.items() if k not in spec.index}
    return _Table(values, len(data), lambda r, name: f"{where}.data[{r}][{position[name]}]", extras)


def _key_from_table(table: _Table, spec: InputSpec, key_field: str) -> str | None:
    if key_field in spec.index:
        values = table.values[spec.index[key_field]]
    elif key_field in table.extras:
        values = table.extras[key_field]
    else:
        return None
    return routing_key_of(values, key_field, lambda r: table.path(r, key_field))


# ---------------------------------------------------------------- JSON out


def _plain(value: Any) -> Any:
    """numpy scalars and bytes the JSON encoder does not know, as plain values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


_ENCODER = json.JSONEncoder(separators=(",", ":"), default=_plain, ensure_ascii=False)


def _nulls(value: Any) -> Any:
    """Non-finite floats as null, everywhere inside ``value``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return _nulls(value.item())
    if isinstance(value, list | tuple):
        return [_nulls(v) for v in value]
    if isinstance(value, dict):
        return {k: _nulls(v) for k, v in value.items()}
    return value


def encode_json(body: dict[str, Any]) -> bytes:
    """Compact JSON with NaN and infinity written as null."""
    text = _ENCODER.encode(body)
    if "NaN" in text or "Infinity" in text:  # rare: redo with non-finite values nulled
        text = _ENCODER.encode(_nulls(body))
    return text.encode()


def as_list(values: Any) -> list[Any]:
    """An array (or list) as a list of plain values: numpy scalars unwrapped, datetimes as
    ISO-8601 text, durations as text."""
    if isinstance(values, list | tuple):
        return [_unwrapped(v) for v in values]
    values = np.asarray(values)
    kind = values.dtype.kind
    if kind == "M":
        return cast(list[Any], np.datetime_as_string(values).tolist())
    if kind == "m":
        return [str(v) for v in values.tolist()]
    if kind == "O":
        return [_unwrapped(v) for v in values.tolist()]
    return cast(list[Any], values.tolist())


def _unwrapped(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list):
        return [_unwrapped(v) for v in value]
    return value


def encode_predict(
    *,
    predictions: np.ndarray,
    probabilities: np.ndarray | None,
    classes: list[Any] | None,
    version: str,
    arm: str,
    request_id: str,
    ids: list[str] | None,
) -> bytes:
    """The friendly answer: predictions, then probabilities and classes when the model has
    them, the version and arm that answered, the request id, and per-row ids when given."""
    body: dict[str, Any] = {"predictions": as_list(predictions)}
    if probabilities is not None:
        body["probabilities"] = as_list(probabilities)
    if classes is not None:
        body["classes"] = as_list(classes)
    body["version"] = version
    body["arm"] = arm
    body["request_id"] = request_id
    if ids is not None:
        body["ids"] = ids
    return encode_json(body)
