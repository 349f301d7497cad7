"""Tracking schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from modelward.validation import Name


class ExperimentCreate(BaseModel):
    name: Name
    description: str = Field(default="", max_length=5000)


class ExperimentPublic(BaseModel):
    id: int
    name: str
    description: str
    created_by: str
    created_at: datetime
