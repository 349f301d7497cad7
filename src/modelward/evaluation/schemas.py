"""Evaluation requests and the evidence they produce."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from modelward.validation import Key, Name, Text

MAX_COLUMNS_LISTED = 50


class EvaluationRequest(BaseModel):
    dataset: Text = Field(description="dataset version: name, name@latest or name/3")
    target: Key = Field(description="the column holding the true label or value")
    name: Name = Field(
        default="holdout",
        max_length=64,
        description="what policies call it: evaluations.<name>",
    )
    against: Text | None = Field(
        default=None,
        description="compare with another version: an alias of the same model (champion) "
        "or a full reference (name/2, name@alias)",
    )
    slice_by: list[Key] = Field(default_factory=list, max_length=MAX_COLUMNS_LISTED)
    sensitive: list[Key] = Field(default_factory=list, max_length=MAX_COLUMNS_LISTED)
    task: Literal["classification", "regression"] | None = None
    bootstrap: int = Field(default=1000, ge=0, le=10_000)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    threshold: float = Field(default=0.5, gt=0, lt=1)


class ExplanationRequest(BaseModel):
    dataset: Text
    target: Key
    method: Literal["auto", "permutation", "shap"] = "auto"
    sample: int = Field(default=2000, ge=10, le=1_000_000)
    n_repeats: int = Field(default=5, ge=1, le=100)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)


class EvaluationPublic(BaseModel):
    id: str
    model: str
    version: int
    model_digest: str
    dataset: str
    dataset_digest: str
    name: str
    task: str
    against_version: int | None
    config: dict[str, Any]
    results: dict[str, Any]
    code_version: dict[str, str]
    created_by: str
    created_at: datetime


class ExplanationPublic(BaseModel):
    id: str
    model: str
    version: int
    model_digest: str
    dataset: str
    dataset_digest: str
    method: str
    config: dict[str, Any]
    results: dict[str, Any]
    code_version: dict[str, str]
    created_by: str
    created_at: datetime
