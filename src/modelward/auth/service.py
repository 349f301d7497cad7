"""Creating, listing, revoking and checking API tokens."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelward.auth.roles import Principal, Role
from modelward.auth.schemas import TokenCreate, TokenCreated, TokenPublic
from modelward.auth.tables import ApiToken
from modelward.db.base import stored_now
from modelward.errors import NotFound, Unauthorized
from modelward.operations import operation
from modelward.uow import UnitOfWork


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _public(row: ApiToken) -> TokenPublic:
    return TokenPublic.model_validate(row, from_attributes=True)


@operation("POST", "/api/v1/tokens", role=Role.admin, status_code=201)
def create_token(uow: UnitOfWork, body: TokenCreate) -> TokenCreated:
    """Create an API token with a role; the secret is returned once."""
    role = Role.parse(body.role)
    secret = "mw_" + secrets.token_urlsafe(30)
    row = ApiToken(
        name=body.name,
        token_hash=hash_token(secret),
        prefix=secret[:10],
        role=role.name,
        created_by=uow.actor,
        created_at=stored_now(),
    )
    uow.session.add(row)
    uow.session.flush()
    uow.audit(
        "token.create", "token", row.id, {"name": row.name, "role": row.role, "prefix": row.prefix}
    )
    return TokenCreated(**_public(row).model_dump(), token=secret)


@operation("GET", "/api/v1/tokens", role=Role.admin)
def list_tokens(uow: UnitOfWork) -> list[TokenPublic]:
    """List tokens (never their secrets)."""
    rows = uow.session.scalars(select(ApiToken).order_by(ApiToken.id))
    return [_public(r) for r in rows]


@operation("DELETE", "/api/v1/tokens/{token_id}", role=Role.admin)
def revoke_token(uow: UnitOfWork, token_id: int) -> TokenPublic:
    """Revoke a token; requests that present it are refused from then on."""
    # Out-of-range ids cannot exist and would overflow the database's integer type.
    row = uow.session.get(ApiToken, token_id) if 0 < token_id < 2**63 else None
    if row is None:
        raise NotFound(f"no token with id {token_id}", field="token_id")
    if row.revoked_at is None:
        row.revoked_at = stored_now()
        uow.audit("token.revoke", "token", row.id, {"name": row.name, "revoked": True})
    return _public(row)


def authenticate(session: Session, secret: str | None) -> Principal:
    """The principal a bearer token stands for, or ``Unauthorized``."""
    if not secret:
        raise Unauthorized(
            "missing API token: send 'Authorization: Bearer <token>'", field="authorization"
        )
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(secret)))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("unknown or revoked API token", field="authorization")
    return Principal(name=row.name, role=Role[row.role])
