"""The prediction log: a batch of predictions turned into hourly Parquet segments, and the
index of every logged prediction id.

A segment holds ``__id__`` (str), ``__ts__`` (int64 ms), the features in the order of the
baseline's inputs, ``__prediction__`` and, when given, ``__score__``; segments the online
gateway writes also hold ``__arm__`` and ``__latency_ms__``. The SDK builds and profiles
segments (see ``client/predictions.py``); the server re-reads each segment's ids and
timestamps from the stored blob before indexing them, so the id index always describes what
the blobs hold.
"""

from __future__ import annotations

import io
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelward.errors import Conflict, InvalidInput
from modelward.monitoring.log_schemas import ID_LENGTH

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    from sqlalchemy.orm import Session

ID, TS, PREDICTION, SCORE = "__id__", "__ts__", "__prediction__", "__score__"
# Written by the online gateway: which arm of a traffic plan answered, and how fast.
ARM, LATENCY = "__arm__", "__latency_ms__"
RESERVED = (ID, TS, PREDICTION, SCORE, ARM, LATENCY)
HOUR_MS = 3_600_000
MAX_TS_MS = 253_402_300_800_000  # 10000-01-01: what datetimes can represent


@dataclass
class Batch:
    """A validated batch, aligned to the endpoint's inputs."""

    frame: pd.DataFrame
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)


def prepare_batch(
    features: Any,
    predictions: Any,
    *,
    inputs: list[str],
    ids: Any = None,
    timestamps: Any = None,
    scores: Any = None,
    lenient: bool = False,
    what: str = "the endpoint",
) -> Batch:
    """Check a batch against the inputs and build the frame its segments are cut from.

    Missing or extra feature columns are refused, naming them; with ``lenient`` missing
    columns are logged as nulls and extra ones dropped.
    """
    import pandas as pd

    if not isinstance(features, pd.DataFrame):
        raise InvalidInput(
            f"features must be a pandas DataFrame, not {type(features).__name__}",
            field="features",
        )
    names = [str(c) for c in features.columns]
    reserved = [c for c in names if c in RESERVED]
    if reserved:
        raise InvalidInput(
            f"features: column name(s) {', '.join(reserved)} are reserved", field="features"
        )
    missing = [c for c in inputs if c not in names]
    extra = [c for c in names if c not in inputs]
    if (missing or extra) and not lenient:
        raise InvalidInput(_mismatch(what, missing, extra), field="features")
    n = len(features)
    frame = features.reindex(columns=inputs) if (missing or extra) else features[inputs]
    frame = frame.reset_index(drop=True)
    columns: dict[str, Any] = {
        ID: prediction_ids(ids, n),
        TS: timestamps_ms(timestamps, n),
    }
    columns.update({c: storable(frame[c]) for c in inputs})
    columns[PREDICTION] = storable(pd.Series(_column(predictions, n, "predictions")))
    if scores is not None:
        columns[SCORE] = score_values(scores, n)
    return Batch(pd.DataFrame(columns, copy=False), missing, extra)


def _mismatch(what: str, missing: list[str], extra: list[str]) -> str:
    parts = []
    if missing:
        parts.append(f"missing column(s) {', '.join(missing)}")
    if extra:
        parts.append(f"extra column(s) {', '.join(extra)}")
    return (
        f"features do not match the inputs of {what}: {'; '.join(parts)} "
        "(lenient=True logs them anyway)"
    )


def _column(values: Any, n: int, name: str) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise InvalidInput(f"{name}: expected one column, got {values.shape[1]}", field=name)
        values = values.iloc[:, 0]
    if isinstance(values, pd.Series):
        out = values.to_numpy()
    else:
        try:
            out = np.asarray(values)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{name}: not an array of values ({exc})", field=name) from None
        if out.ndim == 2 and out.shape[1] == 1:
            out = out[:, 0]
    if out.ndim != 1 or len(out) != n:
        shape = "x".join(map(str, out.shape)) or "a scalar"
        raise InvalidInput(f"{name}: {shape} values for {n} feature rows", field=name)
    return out


def new_ids(n: int) -> np.ndarray:
    """``n`` random UUID4s as 32 hex characters, without a Python call per row."""
    import binascii

    import numpy as np

    raw = np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    hexed = binascii.hexlify(raw.tobytes())
    return np.frombuffer(hexed, dtype="S32").astype(object).astype(str)


def prediction_ids(ids: Any, n: int) -> np.ndarray:
    """The batch's ids as text: unique, non-empty, at most 128 characters."""
    import numpy as np
    import pandas as pd

    if ids is None:
        return new_ids(n)
    values = _column(ids, n, "ids")
    if values.dtype.kind == "U":  # a list of str: no nulls, already text
        text = values.astype(object)
    else:
        s = pd.Series(values)
        if s.isna().any():
            row = int(s.isna().to_numpy().argmax())
            raise InvalidInput(f"ids: row {row} has no id", field="ids")
        text = s.astype(str).to_numpy(dtype=object)
    lengths = np.fromiter(map(len, text), dtype=np.intp, count=n)
    if n and (lengths.min() == 0 or lengths.max() > ID_LENGTH):
        bad = text[(lengths == 0) | (lengths > ID_LENGTH)][0]
        raise InvalidInput(f"ids: {bad[:40]!r} is not 1-{ID_LENGTH} characters long", field="ids")
    if len(set(text.tolist())) != n:
        dup = pd.Series(text).duplicated().to_numpy()
        raise InvalidInput(
            f"ids: {text[dup][0]!r} appears more than once in the batch", field="ids"
        )
    return text


def timestamps_ms(values: Any, n: int, name: str = "timestamps") -> np.ndarray:
    """Prediction times as int64 epoch milliseconds (naive datetimes are UTC)."""
    import numpy as np
    import pandas as pd

    if values is None:
        return np.full(n, time.time_ns() // 1_000_000, dtype="int64")
    if isinstance(values, str | int | float) or not hasattr(values, "__len__"):
        values = [values] * n
    s = pd.Series(_column(values, n, name))
    if pd.api.types.is_bool_dtype(s.dtype):
        raise InvalidInput(f"{name}: booleans are not times", field=name)
    if pd.api.types.is_numeric_dtype(s.dtype):
        if s.isna().any() or not np.isfinite(s.to_numpy(dtype="float64")).all():
            raise InvalidInput(f"{name}: every row needs a time", field=name)
        ms = s.to_numpy(dtype="int64")
    else:
        try:
            dt = pd.to_datetime(s, utc=True, errors="coerce", format="mixed")
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{name}: not times ({exc})", field=name) from None
        if dt.isna().any():
            row = int(dt.isna().to_numpy().argmax())
            raise InvalidInput(f"{name}: row {row} ({s.iloc[row]!r}) is not a time", field=name)
        ms = dt.dt.tz_convert(None).dt.as_unit("ms").to_numpy().astype("int64")
    if n and (ms.min() < 0 or ms.max() >= MAX_TS_MS):
        raise InvalidInput(f"{name}: prediction times must lie between 1970 and 9999", field=name)
    return ms


def score_values(scores: Any, n: int) -> np.ndarray:
    import numpy as np
    import pandas as pd

    s = pd.Series(_column(scores, n, "scores"))
    if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        raise InvalidInput("scores: must be numbers (positive-class probabilities)", field="scores")
    out: np.ndarray = s.to_numpy(dtype="float64", na_value=np.nan)
    return out


def storable(s: pd.Series) -> Any:
    """The column as Parquet can hold it: mixed-type text columns are stored as text."""
    import pandas as pd

    if s.dtype != object:
        return s.to_numpy() if not isinstance(s.dtype, pd.api.extensions.ExtensionDtype) else s
    kind = pd.api.types.infer_dtype(s, skipna=True)
    if kind in ("mixed", "mixed-integer"):
        return s.where(s.isna(), s.astype(str)).to_numpy()
    return s.to_numpy()


def by_hour(frame: pd.DataFrame) -> list[tuple[int, pd.DataFrame]]:
    """The frame cut into ``(hour_ms, rows of that hour)``, hours ascending."""
    import numpy as np

    hours = frame[TS].to_numpy() // HOUR_MS * HOUR_MS
    unique, inverse, counts = np.unique(hours, return_inverse=True, return_counts=True)
    if unique.size == 1:
        return [(int(unique[0]), frame)]
    order = np.argsort(inverse, kind="stable")
    ordered = frame.take(order)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    return [
        (int(h), ordered.iloc[bounds[i] : bounds[i + 1]].reset_index(drop=True))
        for i, h in enumerate(unique)
    ]


def encode_segment(frame: pd.DataFrame) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise InvalidInput(
            f"features: cannot be stored as Parquet ({exc})", field="features"
        ) from None
    # Dictionary encoding only where values repeat: on floats, ids and times it builds a
    # hash table per column only to give up on it, which was most of the writing time.
    repeating = [
        f.name for f in table.schema if f.name not in (ID, TS) and not pa.types.is_floating(f.type)
    ]
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd", use_dictionary=repeating)
    return sink.getvalue()


def decode_segment(data: bytes, columns: list[str] | None = None) -> pd.DataFrame:
    import pyarrow.parquet as pq

    return pq.read_table(io.BytesIO(data), columns=columns).to_pandas()


def read_present(data: bytes, wanted: list[str]) -> pa.Table:
    """Only the ``wanted`` columns the segment holds: reports that need ids, times and
    outputs skip decoding every feature column, most of a segment's bytes."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(io.BytesIO(data))
    names = set(parquet.schema_arrow.names)
    return parquet.read(columns=[c for c in wanted if c in names])


def decode_present(data: bytes, wanted: list[str]) -> pd.DataFrame:
    return read_present(data, wanted).to_pandas()


@dataclass
class SegmentIndex:
    columns: list[str]
    ids: list[str]
    ts: np.ndarray


def read_index(data: bytes) -> SegmentIndex:
    """The columns, ids and times a stored segment holds."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
        columns = list(parquet.schema_arrow.names)
        table = parquet.read(columns=[ID, TS])
    except (pa.ArrowException, OSError, KeyError, ValueError) as exc:
        raise InvalidInput(
            f"segments: not a prediction segment ({exc})", field="segments"
        ) from None
    return SegmentIndex(
        columns,
        table.column(ID).to_pylist(),
        table.column(TS).to_numpy().astype("int64"),
    )


# -- the id index -----------------------------------------------------------------------


def known_ids(session: Session, endpoint_id: int, ids: list[str]) -> list[str]:
    """Which of ``ids`` are already logged for the endpoint."""
    rows = rows_by_prediction_id(session, "prediction_ids", "t.prediction_id", endpoint_id, ids)
    return [r[0] for r in rows]


def rows_by_prediction_id(
    session: Session, table: str, columns: str, endpoint_id: int, ids: list[str]
) -> list[Any]:
    """``columns`` of the rows of ``table`` (aliased ``t``; both from code, never from
    input) whose endpoint is ``endpoint_id`` and whose prediction id is one of ``ids``."""
    import json

    from sqlalchemy import text

    if not ids:
        return []
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        query = text(
            f"SELECT {columns} FROM {table} AS t "
            "WHERE t.endpoint_id = :e AND t.prediction_id = ANY(:ids)"
        )
        return list(conn.execute(query, {"e": endpoint_id, "ids": list(ids)}))
    # One JSON parameter instead of thousands of placeholders. CROSS JOIN fixes the loop
    # order: each sent id probes the table's index (the planner would otherwise scan the
    # unindexed JSON once per stored row).
    query = text(
        f"SELECT {columns} FROM json_each(:ids) AS j CROSS JOIN {table} AS t "
        "WHERE t.endpoint_id = :e AND t.prediction_id = j.value"
    )
    return list(conn.execute(query, {"e": endpoint_id, "ids": json.dumps(list(ids))}))


def insert_ids(
    session: Session, endpoint_id: int, segment_id: int, ids: list[str], ts: np.ndarray
) -> None:
    """Index a segment's ids in the current transaction: COPY on PostgreSQL, one executemany
    on SQLite. An id already indexed for the endpoint raises Conflict (field ``ids``)."""
    from sqlalchemy.exc import IntegrityError

    conn = session.connection()
    rows = list(
        zip([endpoint_id] * len(ids), ids, [segment_id] * len(ids), ts.tolist(), strict=True)
    )
    try:
        if conn.dialect.name == "postgresql":
            _copy_rows(conn, rows)
        else:
            conn.exec_driver_sql(
                "INSERT INTO prediction_ids (endpoint_id, prediction_id, segment_id, ts_ms) "
                "VALUES (?, ?, ?, ?)",
                rows,
            )
    except IntegrityError as exc:
        raise _id_conflict() from exc


def _copy_rows(conn: Any, rows: list[tuple[Any, ...]]) -> None:
    import psycopg

    raw = conn.connection.dbapi_connection
    try:
        with raw.cursor() as cur:
            copy_sql = (
                "COPY prediction_ids (endpoint_id, prediction_id, segment_id, ts_ms) FROM STDIN"
            )
            with cur.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
    except psycopg.errors.UniqueViolation as exc:
        raise _id_conflict() from exc


def _id_conflict() -> Conflict:
    return Conflict(
        "ids: some prediction ids were logged concurrently by another call; log again to skip them",
        field="ids",
    )
