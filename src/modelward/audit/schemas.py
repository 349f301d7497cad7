"""Audit schemas: events as an auditor reads them, the verification report, checkpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

HEX64 = r"^[0-9a-f]{64}$"

BreakReason = Literal["edited", "deleted", "reordered", "checkpoint"]


class AuditEventPublic(BaseModel):
    seq: int
    time: datetime
    time_ms: int = Field(description="the instant exactly as hashed, in ms since the epoch")
    actor: str
    action: str
    entity_type: str
    entity_id: str
    state_digest: str = Field(description="sha256 of the entity's canonical state after the change")
    summary: dict[str, Any]
    prev_hash: str
    hash: str


class AuditHead(BaseModel):
    """The newest event: what a checkpoint signs."""

    seq: int
    hash: str


class AuditVerification(BaseModel):
    """The outcome of recomputing the chain; ``first_broken_seq`` names where it fails."""

    intact: bool
    events_checked: int
    head_seq: int = Field(description="seq of the newest event (0 for an empty trail)")
    head_hash: str
    first_broken_seq: int | None = None
    reason: BreakReason | None = Field(
        default=None,
        description="edited: the row no longer matches its hash; deleted: events are missing; "
        "reordered: a row holds the event recorded at another seq; checkpoint: a checkpoint's "
        "signature does not verify with the given public key",
    )
    message: str = ""
    checkpoints_checked: int = 0
    signatures_verified: int = Field(
        default=0, description="checkpoints whose signature verified with a given public key"
    )
    seconds: float = 0.0


class CheckpointCreate(BaseModel):
    """A signature, made where the private key lives, over ``signed_message(seq, head_hash)``."""

    seq: int = Field(ge=1, le=2**63 - 1)
    head_hash: str = Field(pattern=HEX64)
    public_key: str = Field(pattern=HEX64, description="raw Ed25519 public key, hex")
    signature: str = Field(pattern=r"^[0-9a-f]{128}$", description="Ed25519 signature, hex")


class CheckpointPublic(BaseModel):
    id: int
    seq: int
    head_hash: str
    time: datetime
    actor: str
    public_key: str
    signature: str
