"""Registry schemas: registered models, model versions, aliases, tags and lineage."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from modelward.registry.references import MAX_VERSION
from modelward.registry.signature import ModelSignature
from modelward.validation import MAX_TAG_VALUE, Key, Name, Text

MAX_DESCRIPTION = 5000
MAX_FLAVOR_META = 64_000
MAX_META_DEPTH = 32
MAX_SIZE = 2**63 - 1  # BIGINT: the largest size a database column holds
FLAVOR_NAMES = ("sklearn", "pickle", "joblib", "files", "onnx", "xgboost", "lightgbm")
# Flavors whose artifacts can run arbitrary code when loaded.
CODE_EXECUTING_FLAVORS = ("pickle", "joblib")

Tags = dict[Key, Text]


def _check_tag_values(tags: dict[str, str] | None) -> dict[str, str] | None:
    for key, value in (tags or {}).items():
        if len(value) > MAX_TAG_VALUE:
            raise ValueError(f"tag {key!r} is longer than {MAX_TAG_VALUE} characters")
    return tags


class RegisteredModelCreate(BaseModel):
    name: Name
    description: Text = Field(default="", max_length=MAX_DESCRIPTION)
    owner: Text | None = Field(default=None, max_length=200, description="default: the creator")
    tags: Tags = Field(default_factory=dict)

    _tags = field_validator("tags")(_check_tag_values)


class RegisteredModelUpdate(BaseModel):
    """Fields left out stay as they are; ``tags`` are set (added or overwritten) one by one."""

    description: Text | None = Field(default=None, max_length=MAX_DESCRIPTION)
    owner: Text | None = Field(default=None, min_length=1, max_length=200)
    tags: Tags | None = None

    _tags = field_validator("tags")(_check_tag_values)


class RegisteredModelPublic(BaseModel):
    id: int
    name: str
    description: str
    owner: str
    tags: dict[str, str]
    aliases: dict[str, int] = Field(description="alias -> version number")
    latest_version: int | None = Field(description="newest active version, if any")
    created_by: str
    created_at: datetime
    updated_at: datetime


class ModelVersionCreate(BaseModel):
    """A version of an artifact already uploaded to the artifact store."""

    digest: str = Field(pattern=r"^[0-9a-f]{64}$", description="sha256 of the artifact")
    size: int = Field(ge=0, le=MAX_SIZE, description="artifact size in bytes")
    flavor: Literal["sklearn", "pickle", "joblib", "files", "onnx", "xgboost", "lightgbm"]
    flavor_meta: dict[str, Any] = Field(default_factory=dict)
    signature: ModelSignature | None = None
    run_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    parent: str | None = Field(default=None, max_length=300, description="reference to a version")
    trusted: bool = False
    description: Text = Field(default="", max_length=MAX_DESCRIPTION)
    tags: Tags = Field(default_factory=dict)

    _tags = field_validator("tags")(_check_tag_values)

    @field_validator("flavor_meta")
    @classmethod
    def _small_meta(cls, value: dict[str, Any]) -> dict[str, Any]:
        problem = _meta_problem(value)  # first: it bounds the nesting json.dumps recurses into
        if problem:
            raise ValueError(problem)
        try:
            # Strict JSON: NaN and infinity would be stored as null (SQLite) or refused
            # (PostgreSQL), so neither is accepted.
            text = json.dumps(value, default=str, allow_nan=False)
        except ValueError:
            raise ValueError(
                "flavor metadata must be JSON: NaN and infinity are not allowed"
            ) from None
        if len(text) > MAX_FLAVOR_META:
            raise ValueError(f"flavor metadata larger than {MAX_FLAVOR_META} bytes of JSON")
        return value


def _meta_problem(value: Any) -> str | None:
    """Why ``value`` cannot be stored and served back as JSON, if it cannot."""
    # Iterative, so that deep nesting is reported rather than exhausting the stack.
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str) and "\x00" in item:
            return "flavor metadata contains a NUL character"  # PostgreSQL JSONB refuses it
        if isinstance(item, (dict, list, tuple)):
            if depth > MAX_META_DEPTH:
                return f"flavor metadata is nested deeper than {MAX_META_DEPTH} levels"
            children = [*item, *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return None


class DatasetInput(BaseModel):
    """A dataset version a model version was trained or evaluated on."""

    dataset: str
    version: int
    content_hash: str
    role: str

    @property
    def ref(self) -> str:
        return f"{self.dataset}/{self.version}"


class ModelVersionPublic(BaseModel):
    id: int
    name: str
    version: int
    ref: str = Field(description="name/version")
    digest: str
    size: int
    flavor: str
    flavor_meta: dict[str, Any]
    signature: ModelSignature | None
    run_id: str | None
    inputs: list[DatasetInput]
    parent: str | None = Field(description="name/version of the parent version")
    trusted: bool
    description: str
    status: Literal["active", "archived"]
    tags: dict[str, str]
    aliases: list[str]
    created_by: str
    created_at: datetime


class AliasSet(BaseModel):
    version: int = Field(ge=1, le=MAX_VERSION, description="version number of the same model")
    override: Text | None = Field(
        default=None,
        max_length=MAX_DESCRIPTION,
        description="admin only: move despite failed policy rules, with this justification",
    )


class AliasPublic(BaseModel):
    model: str
    alias: str
    version: int
    updated_by: str
    updated_at: datetime


class TagSet(BaseModel):
    key: Key
    value: Text = Field(max_length=MAX_TAG_VALUE)
