"""Tracking schemas: what goes over the wire for experiments and runs.

Limits live here so the SDK refuses bad input before sending it and the server refuses
it again on arrival, with the same message naming the same field.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import InitErrorDetails

from modelward.validation import MAX_KEY, MAX_PARAM_VALUE, MAX_TAG_VALUE, Name

MAX_METRICS_PER_BATCH = 1000
MAX_PARAMS_PER_BATCH = 100
MAX_TAGS_PER_BATCH = 100
MAX_RUN_NAME = 250
MAX_SEARCH_RESULTS = 10_000
INT64 = 2**63 - 1
# A run's start and end are shown as dates: the last millisecond of the year 9999 is the
# latest instant a date can hold.
MAX_INSTANT_MS = 253_402_300_799_999

RunStatus = Literal["RUNNING", "FINISHED", "FAILED", "KILLED"]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# Keys repeat in almost every batch; remembering the valid ones skips re-checking them.
_valid_keys: set[str] = set()


def check_key(key: str) -> str:
    """A metric, param or tag key: 1-250 characters, no control characters."""
    if key in _valid_keys:
        return key
    if not key:
        raise ValueError("key must not be empty")
    if len(key) > MAX_KEY:
        raise ValueError(f"key {key[:40]!r}… is {len(key)} characters long; the limit is {MAX_KEY}")
    if _CONTROL.search(key):
        what = "a NUL" if "\x00" in key else "a control"
        raise ValueError(f"key {key[:40]!r} contains {what} character")
    if len(_valid_keys) < 10_000:
        _valid_keys.add(key)
    return key


def _limited(limit: int, what: str) -> Any:
    def check(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"{what} is {len(value)} characters long; the limit is {limit}")
        if "\x00" in value:
            raise ValueError(f"{what} contains a NUL character")
        return value

    return AfterValidator(check)


MetricKey = Annotated[str, AfterValidator(check_key)]
ParamValue = Annotated[str, _limited(MAX_PARAM_VALUE, "param value")]
TagValue = Annotated[str, _limited(MAX_TAG_VALUE, "tag value")]
RunName = Annotated[str, Field(min_length=1), _limited(MAX_RUN_NAME, "run name")]


def _check_mapping(value: dict[str, str], limit: int, what: str) -> dict[str, str]:
    if len(value) > limit:
        raise ValueError(f"at most {limit} {what} per request, got {len(value)}")
    for key in value:
        check_key(key)
    return value


class _Floats(BaseModel):
    # NaN and ±inf travel as "NaN" / "Infinity" strings: JSON has no literal for them.
    model_config = ConfigDict(ser_json_inf_nan="strings")


Step = Annotated[int, Field(ge=-INT64, le=INT64)]
Timestamp = Annotated[int, Field(ge=0, le=INT64)]
# One metric point on the wire: [key, value, step, timestamp (ms since the epoch, or null
# for "now")]. Arrays validate several times faster than objects, which matters at 1,000
# points a request; objects with the same four names are accepted too.
MetricTuple = tuple[MetricKey, float, Step, Timestamp | None]
METRIC_FIELDS = ("key", "value", "step", "timestamp")
_METRIC_DEFAULTS = (("key", None), ("value", None), ("step", 0), ("timestamp", None))


def _as_tuple(item: Any) -> Any:
    """An object or a short array as a full [key, value, step, timestamp] array."""
    if isinstance(item, dict):
        return tuple(item.get(name, default) for name, default in _METRIC_DEFAULTS)
    if isinstance(item, list | tuple) and 2 <= len(item) < 4:
        return (*item, *(default for _, default in _METRIC_DEFAULTS[len(item) :]))
    return item


class LogBatch(_Floats):
    """Up to 1,000 metric points, 100 params and 100 tags in one request."""

    metrics: list[MetricTuple] = Field(
        default_factory=list,
        description="[key, value, step, timestamp] arrays or objects with those names.",
    )
    params: dict[str, ParamValue] = Field(default_factory=dict)
    tags: dict[str, TagValue] = Field(default_factory=dict)

    @field_validator("metrics", mode="wrap")
    @classmethod
    def _metrics(cls, value: Any, handler: Any) -> Any:
        if isinstance(value, list):
            if len(value) > MAX_METRICS_PER_BATCH:
                raise ValueError(
                    f"at most {MAX_METRICS_PER_BATCH} metrics per request, got {len(value)}"
                )
            if any(type(item) is not list or len(item) != 4 for item in value):
                value = [_as_tuple(item) for item in value]
        try:
            return handler(value)
        except ValidationError as exc:
            raise _named_positions(exc) from None

    @field_validator("params")
    @classmethod
    def _params(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_mapping(value, MAX_PARAMS_PER_BATCH, "params")

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_mapping(value, MAX_TAGS_PER_BATCH, "tags")

    @classmethod
    def model_validate_wire(cls, raw: bytes) -> LogBatch:
        """The batch from its JSON, validated without Python code per point when it can be.

        The common shape (every point a full array) is checked by ``_WireBatch`` in
        pydantic's core, then each distinct key once; anything else, valid or not (objects,
        short arrays, a bad key, a bad value), goes through this model, which converts it
        or names the field at fault exactly as before.
        """
        try:
            wire = _WireBatch.model_validate_json(raw)
        except ValidationError:
            return cls.model_validate_json(raw)
        return wire.as_batch() or cls.model_validate_json(raw)

    @classmethod
    def from_points(cls, **data: Any) -> LogBatch:
        """The batch from Python values, on the same fast path as ``model_validate_wire``."""
        try:
            wire = _WireBatch(**data)
        except ValidationError:
            return cls(**data)
        return wire.as_batch() or cls(**data)


class _WireBatch(_Floats):
    """A ``LogBatch`` whose points are all full arrays: validated without per-point Python."""

    metrics: list[tuple[str, float, Step, Timestamp | None]] = Field(
        default_factory=list, max_length=MAX_METRICS_PER_BATCH
    )
    params: dict[str, ParamValue] = Field(default_factory=dict)
    tags: dict[str, TagValue] = Field(default_factory=dict)

    @field_validator("params")
    @classmethod
    def _params(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_mapping(value, MAX_PARAMS_PER_BATCH, "params")

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_mapping(value, MAX_TAGS_PER_BATCH, "tags")

    def as_batch(self) -> LogBatch | None:
        """The same values as a ``LogBatch``, or ``None`` if a key is invalid."""
        try:
            for key in {point[0] for point in self.metrics}:
                check_key(key)
        except ValueError:
            return None
        return LogBatch.model_construct(
            self.model_fields_set, metrics=self.metrics, params=self.params, tags=self.tags
        )


def _named_positions(exc: ValidationError) -> ValidationError:
    """Errors located at ``metrics.3.step`` rather than ``metrics.3.2``."""
    details: list[InitErrorDetails] = []
    for err in exc.errors():
        loc = list(err["loc"])
        if len(loc) >= 2 and isinstance(loc[1], int) and loc[1] < len(METRIC_FIELDS):
            loc = [loc[0], METRIC_FIELDS[loc[1]]]
        details.append(
            InitErrorDetails(
                type=err["type"], loc=tuple(loc), input=err["input"], ctx=err.get("ctx", {})
            )
        )
    return ValidationError.from_exception_data("metrics", details)


class BatchResult(BaseModel):
    run_id: str
    metrics: int
    params: int
    tags: int


class ExperimentCreate(BaseModel):
    name: Name
    description: str = Field(default="", max_length=5000)


class ExperimentPublic(BaseModel):
    id: int
    name: str
    description: str
    created_by: str
    created_at: datetime


class RunCreate(BaseModel):
    """A new run; its experiment is created when missing."""

    experiment: Name
    name: RunName | None = None
    params: dict[str, ParamValue] = Field(default_factory=dict)
    tags: dict[str, TagValue] = Field(default_factory=dict)
    start_time: int | None = Field(
        None, ge=0, le=MAX_INSTANT_MS, description="Milliseconds since the epoch."
    )

    @field_validator("params")
    @classmethod
    def _params(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_mapping(value, MAX_PARAMS_PER_BATCH, "params")

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_mapping(value, MAX_TAGS_PER_BATCH, "tags")


class RunUpdate(BaseModel):
    name: RunName | None = None
    status: RunStatus | None = None
    end_time: int | None = Field(
        None, ge=0, le=MAX_INSTANT_MS, description="Milliseconds since the epoch."
    )


class RunInfo(BaseModel):
    id: str
    experiment_id: int
    experiment: str
    name: str
    status: RunStatus
    lifecycle: Literal["active", "deleted"]
    start_time: datetime
    end_time: datetime | None
    created_by: str


class RunInputCreate(BaseModel):
    dataset: str = Field(
        min_length=1, max_length=300, description='"name", "name@latest" or "name/3".'
    )
    role: str = Field("training", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


class RunInputPublic(BaseModel):
    dataset_version_id: int
    dataset: str
    version: int
    content_hash: str
    role: str


class RunPublic(RunInfo, _Floats):
    """A run with its params, latest metric values, tags and input datasets."""

    params: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    inputs: list[RunInputPublic] = Field(default_factory=list)


class MetricPoint(_Floats):
    key: str
    value: float
    step: int
    timestamp: int


class RunArtifactCreate(BaseModel):
    path: str = Field(min_length=1, max_length=1000)
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class RunArtifactPublic(BaseModel):
    path: str
    digest: str
    size: int
    created_at: datetime


class RunSearch(BaseModel):
    experiments: list[Name] = Field(min_length=1, max_length=100)
    filter: Annotated[str, _limited(20_000, "filter")] = ""
    order_by: list[Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=list, max_length=20
    )
    max_results: int = Field(100, ge=1, le=MAX_SEARCH_RESULTS)
    page_token: str | None = Field(None, max_length=2000)
    include_deleted: bool = False


class RunPage(_Floats):
    runs: list[RunPublic]
    next_page_token: str | None = None
