"""Dataset schemas: the register request, a version, a dataset summary and the profile.

The profile is the baseline later monitoring compares production data against; its
numbers are finite floats (``FiniteFloat``), so they survive JSON, SQLite and PostgreSQL
JSONB exactly and a NaN can never be stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, FiniteFloat, NonNegativeInt, field_validator

from modelward.validation import Name, Text

HEX64 = r"^[0-9a-f]{64}$"
MAX_COUNT = 2**63 - 1  # BIGINT: the largest count a database column holds
OTHER = "__other__"
Kind = Literal["numeric", "categorical", "datetime", "other"]


# Names, labels and dtypes are stored as JSON, which PostgreSQL refuses to hold a NUL in.
class ColumnSchema(BaseModel):
    name: Text
    dtype: Text = Field(description="the pandas dtype, e.g. int64, float64, str, category")


class Histogram(BaseModel):
    """Counts of values per bin.

    Bin ``i`` holds ``edges[i] <= x < edges[i+1]``; the last bin also holds ``x == edges[-1]``.
    ``edges[0]`` and ``edges[-1]`` are the baseline's finite minimum and maximum, so values
    later seen below or above them are counted in ``underflow`` / ``overflow``.
    See ``modelward.datasets.profile.bin_counts``.
    """

    edges: list[FiniteFloat]
    counts: list[NonNegativeInt]
    underflow: NonNegativeInt = 0
    overflow: NonNegativeInt = 0


class NumericStats(BaseModel):
    """Statistics over the finite values; nulls are left out and ±inf only counted."""

    infinite: NonNegativeInt = 0
    min: FiniteFloat | None = None
    max: FiniteFloat | None = None
    mean: FiniteFloat | None = None
    std: FiniteFloat | None = Field(default=None, description="sample standard deviation")
    quantiles: dict[Text, FiniteFloat] = Field(
        default_factory=dict, description="p01 p05 p25 p50 p75 p95 p99 (linear interpolation)"
    )
    histogram: Histogram | None = None


class CategoricalStats(BaseModel):
    distinct: NonNegativeInt
    categories: dict[Text, NonNegativeInt] = Field(
        description='the 100 most frequent values; the rest summed under "__other__"'
    )

    @field_validator("categories")
    @classmethod
    def _most_frequent_first(cls, value: dict[str, int]) -> dict[str, int]:
        # PostgreSQL JSONB reorders keys; put them back in frequency order, "__other__" last.
        return dict(sorted(value.items(), key=lambda kv: (kv[0] == OTHER, -kv[1], kv[0])))


class DatetimeStats(BaseModel):
    min: Text | None = Field(default=None, description="ISO 8601")
    max: Text | None = Field(default=None, description="ISO 8601")


class ColumnProfile(BaseModel):
    name: Text
    dtype: Text
    kind: Kind
    count: NonNegativeInt = Field(description="non-null values")
    nulls: NonNegativeInt
    numeric: NumericStats | None = None
    categorical: CategoricalStats | None = None
    datetime: DatetimeStats | None = None


class DatasetProfile(BaseModel):
    num_rows: NonNegativeInt
    columns: list[ColumnProfile]

    def column(self, name: str) -> ColumnProfile:
        """The profile of column ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


class DatasetVersionCreate(BaseModel):
    """What the SDK sends after hashing, profiling and uploading the data."""

    model_config = ConfigDict(
        validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )

    name: Name
    description: Text = Field(default="", max_length=5000)
    content_hash: str = Field(pattern=HEX64)
    digest: str = Field(pattern=HEX64, description="sha256 of the uploaded Parquet blob")
    size_bytes: NonNegativeInt = Field(le=MAX_COUNT)
    num_rows: NonNegativeInt = Field(le=MAX_COUNT)
    num_columns: int = Field(ge=1)
    schema_: list[ColumnSchema] = Field(alias="schema", min_length=1)
    profile: DatasetProfile


class DatasetVersion(BaseModel):
    """A registered dataset version. ``ref`` (``name/3``) finds it again."""

    model_config = ConfigDict(
        validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )

    id: int
    name: str
    version: int
    content_hash: str
    digest: str
    size_bytes: int
    num_rows: int
    num_columns: int
    schema_: list[ColumnSchema] = Field(alias="schema")
    profile: DatasetProfile
    description: str
    created_by: str
    created_at: datetime

    @property
    def ref(self) -> str:
        return f"{self.name}/{self.version}"


class DatasetSummary(BaseModel):
    """A dataset with its latest version."""

    id: int
    name: str
    latest_version: int
    num_versions: int
    num_rows: int
    num_columns: int
    description: str
    created_by: str
    created_at: datetime
    updated_at: datetime
