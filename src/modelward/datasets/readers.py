"""Turning what a user registers (a DataFrame, a .parquet or a .csv file) into one DataFrame.

Every failure is an ``InvalidInput`` on the field ``data`` that says what is wrong with
which file, never a parser's traceback.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelward.errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

SUFFIXES = (".parquet", ".csv")


def read_data(data: Any) -> pd.DataFrame:
    """A DataFrame from ``data``: a DataFrame, or a path to a .parquet or .csv file."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return normalise_frame(data)
    if isinstance(data, str | os.PathLike):
        return normalise_frame(read_file(Path(data).expanduser()))
    raise InvalidInput(
        "data must be a pandas DataFrame or a path to a .parquet or .csv file, "
        f"not {type(data).__name__}",
        field="data",
    )


def read_file(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InvalidInput(
            f"{path}: unsupported file type {suffix or '(none)'!r}; use a .parquet or .csv file",
            field="data",
        )
    if not path.exists():
        raise InvalidInput(f"{path}: no such file", field="data")
    if not path.is_file():
        raise InvalidInput(f"{path}: not a regular file", field="data")
    if not os.access(path, os.R_OK):
        raise InvalidInput(f"{path}: permission denied", field="data")
    return _read_parquet(path) if suffix == ".parquet" else _read_csv(path)


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InvalidInput(f"{path}: not a readable Parquet file ({exc})", field="data") from None


def _read_csv(path: Path) -> pd.DataFrame:
    import pandas as pd

    try:
        return pd.read_csv(path, encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} cannot be decoded); "
            "re-save the file as UTF-8",
            field="data",
        ) from None
    except pd.errors.EmptyDataError:
        raise InvalidInput(f"{path}: the file is empty (no header row)", field="data") from None
    except (pd.errors.ParserError, ValueError, OSError) as exc:
        raise InvalidInput(f"{path}: not a readable CSV file ({exc})", field="data") from None


def normalise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The frame as it will be stored: string column names, a named index kept as columns.

    An unnamed index (0..n-1, or what a filter left of it) carries no meaning and is
    dropped; a named one (``df.set_index("customer_id")``) is data and becomes columns.
    """
    import pandas as pd

    if isinstance(df.columns, pd.MultiIndex):
        raise InvalidInput(
            "columns with several levels (MultiIndex) are not supported", field="data"
        )
    if any(name is not None for name in df.index.names):
        try:
            df = df.reset_index()
        except ValueError as exc:  # the index's name is also a column's
            raise InvalidInput(
                f"cannot keep the named index as a column: {exc}", field="data"
            ) from None
    if df.shape[1] == 0:
        raise InvalidInput("the data has no columns", field="data")
    names = [str(c) for c in df.columns]
    duplicated = sorted(n for n, k in Counter(names).items() if k > 1)
    if duplicated:
        raise InvalidInput(f"duplicate column names: {', '.join(duplicated)}", field="data")
    out = df.copy(deep=False)
    out.columns = pd.Index(names)
    return _strings_as_loaded(out.reset_index(drop=True))


def _strings_as_loaded(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding only strings take pandas' default string dtype.

    That is the dtype they come back with from Parquet, so the schema describes what
    ``load_dataset`` returns and a loaded frame registers as the same version. (On pandas
    versions whose default string dtype is ``object`` this changes nothing.)
    """
    import pandas as pd

    default = pd.Series(["a"]).dtype
    if pd.api.types.is_object_dtype(default):
        return df
    for name in df.columns:
        col = df[name]
        if (
            pd.api.types.is_object_dtype(col.dtype)
            and pd.api.types.infer_dtype(col, skipna=True) == "string"
        ):
            df[name] = col.astype(default)
    return df
