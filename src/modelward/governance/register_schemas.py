"""AI register schemas: systems, their incidents and their production history."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from modelward.validation import Name, Text

RISK_TIERS = ("low", "medium", "high", "critical")
# Tiers whose choice must be argued in writing: they decide which policies apply.
TIERS_NEEDING_RATIONALE = ("high", "critical")
DECISION_TYPES = ("advisory", "automated")
STATUSES = ("proposed", "in_development", "in_production", "retired")
SEVERITIES = ("low", "medium", "high", "critical")

RiskTier = Literal["low", "medium", "high", "critical"]
DecisionType = Literal["advisory", "automated"]
SystemStatus = Literal["proposed", "in_development", "in_production", "retired"]
Severity = Literal["low", "medium", "high", "critical"]

MAX_LONG_TEXT = 10_000
MAX_OWNER = 200
MAX_ITEMS = 100

# ``Scheme`` or ``Scheme:Ref`` (EU-AI-Act:Annex-III, SR-11-7, GDPR:Art-22). No spaces, commas
# or semicolons, so a tag survives CSV export and command lines unquoted.
TAG_PATTERN = r"^[A-Za-z][A-Za-z0-9._-]{0,63}(:[A-Za-z0-9][A-Za-z0-9._()/-]{0,127})?$"
TAG_RULE = (
    "a regulatory tag is SCHEME or SCHEME:REF (e.g. EU-AI-Act:Annex-III, SR-11-7): a scheme "
    "starting with a letter, then letters, digits, '.', '_' or '-'"
)
_TAG = re.compile(TAG_PATTERN)


def check_tag(value: str) -> str:
    if not _TAG.match(value):
        raise ValueError(f"invalid regulatory tag {value!r}: {TAG_RULE}")
    return value


def _production_alias(value: str) -> str:
    if value.isdigit() or value.lower() == "latest":
        raise ValueError(f"{value!r} cannot be an alias: it would read as a version")
    return value


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


RegulatoryTag = Annotated[str, AfterValidator(check_tag)]
AliasName = Annotated[Name, AfterValidator(_production_alias)]
Tags = Annotated[list[RegulatoryTag], Field(max_length=MAX_ITEMS), AfterValidator(_distinct)]
ShortText = Annotated[Text, Field(max_length=MAX_OWNER)]
LongText = Annotated[Text, Field(max_length=MAX_LONG_TEXT)]


def _rationale(value: str | None, info: ValidationInfo) -> str | None:
    tier = info.data.get("risk_tier")
    if tier in TIERS_NEEDING_RATIONALE and not (value or "").strip():
        raise ValueError(f"a {tier} risk tier needs a written rationale")
    return value


class SystemCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    risk_tier: RiskTier
    # Checked against risk_tier, so declared after it.
    tier_rationale: LongText = Field(default="", validate_default=True)
    purpose: LongText = ""
    business_owner: ShortText = ""
    technical_owner: ShortText = ""
    decision_type: DecisionType = "advisory"
    human_in_the_loop: bool = False
    affected_people: LongText = ""
    regulatory_tags: Tags = Field(default_factory=list)
    limitations: LongText = ""
    status: SystemStatus = "proposed"
    production_alias: AliasName = "champion"
    models: list[Name] = Field(default_factory=list, max_length=MAX_ITEMS)
    datasets: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="dataset refs: name/3"
    )

    _check_rationale = field_validator("tier_rationale")(_rationale)


class SystemUpdate(BaseModel):
    """Fields left out stay as they are; ``regulatory_tags`` replaces the whole list."""

    model_config = ConfigDict(extra="forbid")

    risk_tier: RiskTier | None = None
    tier_rationale: LongText | None = None
    purpose: LongText | None = None
    business_owner: ShortText | None = None
    technical_owner: ShortText | None = None
    decision_type: DecisionType | None = None
    human_in_the_loop: bool | None = None
    affected_people: LongText | None = None
    regulatory_tags: Tags | None = None
    limitations: LongText | None = None
    status: SystemStatus | None = None
    production_alias: AliasName | None = None


class IncidentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[Text, Field(min_length=1, max_length=300)]
    severity: Severity
    occurred_at: datetime = Field(description="when it happened; a time without a zone is UTC")
    description: LongText = ""


class IncidentPublic(BaseModel):
    id: int
    system: str
    occurred_at: datetime
    severity: str
    title: str
    description: str
    status: Literal["open", "resolved"]
    reported_by: str
    created_at: datetime
    resolved_at: datetime | None


class SystemModel(BaseModel):
    name: str
    production_version: int | None = Field(description="what the production alias points at")


class SystemDataset(BaseModel):
    ref: str = Field(description="name/version")
    dataset: str
    version: int
    content_hash: str


class EvaluationSummary(BaseModel):
    """The newest evaluation of a production version."""

    model: str
    version: int
    name: str
    created_at: datetime
    metrics: dict[str, float]
    dataset: str


class SystemPublic(BaseModel):
    id: int
    name: str
    risk_tier: str
    tier_rationale: str
    purpose: str
    business_owner: str
    technical_owner: str
    decision_type: str
    human_in_the_loop: bool
    affected_people: str
    regulatory_tags: list[str]
    limitations: str
    status: str
    production_alias: str
    models: list[SystemModel]
    datasets: list[SystemDataset]
    incidents: list[IncidentPublic] = Field(description="newest first")
    open_incidents: int
    evaluations: list[EvaluationSummary]
    created_by: str
    created_at: datetime
    updated_by: str
    updated_at: datetime


class AliasInterval(BaseModel):
    """Where a model's production alias pointed from one move to the next.

    ``version`` None: the alias was unset. ``from`` None: before the first recorded move.
    ``until`` None: still in effect.
    """

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    model: str
    alias: str
    version: int | None
    from_: datetime | None = Field(alias="from")
    until: datetime | None
    moved_by: str | None
