"""Schemas of the prediction log and of delayed labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

MAX_IDS = 2_000_000
MAX_SEGMENTS = 10_000
ID_LENGTH = 128


class BaselinePublic(BaseModel):
    endpoint: str
    version: str
    dataset: str
    digest: str
    features: list[str] = Field(description="the input columns predictions must carry")
    baseline: dict[str, Any]


class PredictionIdsQuery(BaseModel):
    ids: list[str] = Field(max_length=MAX_IDS)


class SegmentUpload(BaseModel):
    """A Parquet segment already in the artifact store, with its client-computed profile."""

    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    hour_ms: int
    rows: int = Field(ge=1)
    profile: dict[str, Any]


class PredictionLogRequest(BaseModel):
    baseline_digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    segments: list[SegmentUpload] = Field(default_factory=list, max_length=MAX_SEGMENTS)
    skipped: int = Field(default=0, ge=0, description="ids the client found already logged")
    missing_columns: list[str] = Field(default_factory=list)
    extra_columns: list[str] = Field(default_factory=list)
    source: str = Field(default="batch", max_length=16)


class SegmentPublic(BaseModel):
    id: int
    endpoint: str
    version: int
    hour: datetime
    digest: str
    rows: int
    min_ts: datetime
    max_ts: datetime
    source: str
    baseline_digest: str
    created_at: datetime
    profile: dict[str, Any] | None = None


class LogReceipt(BaseModel):
    endpoint: str
    version: int
    rows: int = Field(description="rows sent")
    new: int = Field(description="rows stored")
    skipped: int = Field(description="rows whose id was already logged")
    segments: list[SegmentPublic]
    missing_columns: list[str] = Field(description="logged as nulls (lenient)")
    extra_columns: list[str] = Field(description="dropped (lenient)")
    type_errors: dict[str, int] = Field(
        default_factory=dict, description="numeric features holding text, per column"
    )
    baseline_digest: str


class LabelsRequest(BaseModel):
    ids: list[str] = Field(max_length=MAX_IDS)
    labels: list[Any] = Field(max_length=MAX_IDS, description="JSON values (str, number, bool)")
    label_times_ms: list[int] | None = Field(default=None, max_length=MAX_IDS)


class LabelReceipt(BaseModel):
    endpoint: str
    received: int
    stored: int
    relabeled: int = Field(description="stored labels for ids that already had one")
    unknown: int = Field(description="ids never logged for the endpoint: not stored")
    unknown_ids: list[str] = Field(description="the first 20 unknown ids")
