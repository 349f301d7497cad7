"""SDK verbs: API tokens (admin only)."""

from __future__ import annotations

from modelward.auth.schemas import TokenCreate, TokenCreated, TokenPublic
from modelward.client.base import ClientBase


class TokensAPI(ClientBase):
    def create_token(self, name: str, role: str = "developer") -> TokenCreated:
        """Create an API token; its secret is in the result's ``token`` and nowhere else."""
        body = self._model(TokenCreate, name=name, role=role)
        return self._call("create_token", body=body)  # type: ignore[no-any-return]

    def list_tokens(self) -> list[TokenPublic]:
        """Every token, without secrets."""
        return self._call("list_tokens")  # type: ignore[no-any-return]

    def revoke_token(self, token_id: int) -> TokenPublic:
        """Revoke a token by id."""
        return self._call("revoke_token", token_id=token_id)  # type: ignore[no-any-return]
