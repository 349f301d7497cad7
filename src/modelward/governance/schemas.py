"""Governance schemas: policies, gate reports, promotion requests, approvals, cards."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from modelward.validation import Name, Text

MAX_POLICY_BYTES = 256 * 1024
MAX_COMMENT = 5000


class PolicyApply(BaseModel):
    document: Text = Field(max_length=MAX_POLICY_BYTES, description="the policy as YAML")


class PolicyRule(BaseModel):
    name: str
    expr: str
    message: str


class PolicyPublic(BaseModel):
    name: str
    version: int
    digest: str
    description: str
    risk_tiers: list[str]
    aliases: list[str]
    enabled: bool
    rules: list[PolicyRule]
    document: str
    created_by: str
    created_at: datetime


class RuleOutcome(BaseModel):
    policy: str
    policy_version: int
    rule: str
    outcome: Literal["pass", "fail", "missing", "error"]
    message: str
    detail: str
    values: dict[str, Any]


class GateReport(BaseModel):
    """Every rule of every policy guarding ``target_alias`` for this version, and the verdict."""

    model: str
    version: int
    digest: str
    target_alias: str
    system: str | None
    risk_tier: str | None
    governed: bool = Field(description="false when no enabled policy guards this alias")
    passed: bool
    policies: dict[str, int] = Field(description="policy name -> version in force")
    results: list[RuleOutcome]
    context: dict[str, Any] | None = Field(
        default=None, description="the evidence the rules saw (only when asked for)"
    )


class GateDecisionPublic(BaseModel):
    id: int
    model: str
    version: int
    digest: str
    target_alias: str
    outcome: Literal["pass", "override"]
    policies: dict[str, int]
    results: list[RuleOutcome]
    justification: str
    request_id: int | None
    decided_by: str
    decided_at: datetime


class PromotionCreate(BaseModel):
    alias: Name = Field(description="the target alias, e.g. champion")
    comment: Text = Field(default="", max_length=MAX_COMMENT)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class DecisionCreate(BaseModel):
    comment: Text = Field(default="", max_length=MAX_COMMENT)


class ApprovalPublic(BaseModel):
    id: int
    request_id: int
    approver: str
    approver_role: str
    decision: Literal["approve", "reject"]
    comment: str
    digest: str
    policies: dict[str, int]
    created_at: datetime
    expires_at: datetime | None


class PromotionPublic(BaseModel):
    id: int
    model: str
    version: int
    digest: str
    target_alias: str
    policies: dict[str, int]
    status: Literal["open", "completed", "superseded", "rejected", "cancelled"]
    comment: str
    requested_by: str
    requested_at: datetime
    expires_at: datetime | None
    closed_at: datetime | None
    approvals: list[ApprovalPublic]


class CardUpdate(BaseModel):
    sections: dict[str, Any] = Field(
        description="human-written sections (overview, intended_use, limitations, ...)"
    )
    replace: bool = Field(
        default=False, description="replace all sections instead of merging into the last card"
    )


class CardPublic(BaseModel):
    model: str
    version: int
    card_version: int = Field(description="0 until someone writes a section")
    sections: dict[str, Any]
    card: dict[str, Any]
    completeness: dict[str, Any]
    markdown: str | None = None
    html: str | None = None
    created_by: str | None
    created_at: datetime | None
