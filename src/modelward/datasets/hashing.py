"""A dataset's content hash, and its Parquet encoding for the artifact store.

The content hash identifies what the data says, not how a file lays it out, so the same
table hashes the same whether it came from a DataFrame, a CSV or a Parquet file written
by any pyarrow version with any compression::

    sha256( b"modelward.dataset.v1\\n"
          + canonical JSON {"columns": [[name, dtype], ...], "num_rows": n} + b"\\n"
          + pandas.util.hash_pandas_object(df, index=False) as uint64 little-endian )

``hash_pandas_object`` gives one 64-bit hash per row from the row's values (the index
is not data; see ``readers.normalise_frame``), so column names, dtypes, values and row
order all count. Rows are hashed in chunks, which yields the same bytes as hashing the
whole frame at once. The hash is an identity for deduplication; the integrity of the
stored bytes is guarded separately by the blob's sha256 ``digest``.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from modelward.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

Progress = Callable[[str, int, int], None]
HASH_CHUNK_ROWS = 250_000
HASH_PREFIX = b"modelward.dataset.v1\n"


def schema_of(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Column names and pandas dtypes, in order."""
    return [{"name": str(name), "dtype": str(dtype)} for name, dtype in df.dtypes.items()]


def content_hash(df: pd.DataFrame, progress: Progress | None = None) -> str:
    """The sha256 content hash described in this module's docstring."""
    import pandas as pd

    header = {"columns": [[c["name"], c["dtype"]] for c in schema_of(df)], "num_rows": len(df)}
    h = hashlib.sha256(HASH_PREFIX)
    h.update(json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode())
    h.update(b"\n")
    total = len(df)
    for start in range(0, total, HASH_CHUNK_ROWS):
        chunk = df.iloc[start : start + HASH_CHUNK_ROWS]
        try:
            rows = pd.util.hash_pandas_object(chunk, index=False)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"cannot hash the data: {exc}", field="data") from None
        h.update(rows.to_numpy().astype("<u8", copy=False).tobytes())
        if progress is not None:
            progress("hash", min(start + HASH_CHUNK_ROWS, total), total)
    return h.hexdigest()


def to_parquet(df: pd.DataFrame) -> bytes:
    """The frame as Parquet bytes (zstd), keeping pandas dtypes for ``from_parquet``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise InvalidInput(f"cannot store the data as Parquet: {exc}", field="data") from None
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def from_parquet(data: bytes) -> pd.DataFrame:
    """The DataFrame a ``to_parquet`` blob holds."""
    import pyarrow.parquet as pq

    return pq.read_table(io.BytesIO(data)).to_pandas()
