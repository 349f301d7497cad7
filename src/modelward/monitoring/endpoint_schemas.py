"""Endpoint schemas: a named deployment of one model version, and its monitoring settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from modelward.validation import Name, Text

MAX_CONFIG_BYTES = 64_000


class EndpointCreate(BaseModel):
    name: Name
    model: Text = Field(description="the version to deploy: name@champion, name/3 or name")
    mode: Literal["batch", "online"] = "batch"
    config: dict[str, Any] = Field(
        default_factory=dict, description="monitoring settings (see docs/monitoring.md)"
    )


class EndpointUpdate(BaseModel):
    """Fields left out stay as they are."""

    model: Text | None = Field(default=None, description="deploy another version")
    mode: Literal["batch", "online"] | None = None
    status: Literal["active", "retired"] | None = None
    config: dict[str, Any] | None = None


class EndpointPublic(BaseModel):
    id: int
    name: str
    model: str
    version: int
    ref: str
    digest: str
    mode: str
    status: str
    config: dict[str, Any]
    config_version: int
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime
