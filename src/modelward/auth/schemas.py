"""Token schemas: the secret appears once, in ``TokenCreated``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from modelward.validation import Name


class TokenCreate(BaseModel):
    name: Name = Field(description="who or what will use the token")
    role: str = Field(default="developer", description="viewer, developer, approver or admin")


class TokenPublic(BaseModel):
    id: int
    name: str
    prefix: str
    role: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None


class TokenCreated(TokenPublic):
    token: str = Field(description="the secret; shown only now, stored only as a hash")
