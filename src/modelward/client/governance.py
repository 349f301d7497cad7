"""The SDK's governance verbs: policies, the gate, promotion requests, approvals, cards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelward.client.base import ClientBase
from modelward.client.registry import ModelVersion, _ref
from modelward.errors import InvalidInput
from modelward.governance.schemas import (
    CardPublic,
    CardUpdate,
    DecisionCreate,
    GateReport,
    PolicyApply,
    PolicyPublic,
    PromotionCreate,
    PromotionPublic,
)


class GovernanceAPI(ClientBase):
    # ------------------------------------------------------------------ policies

    def apply_policy(self, document: str | Path) -> PolicyPublic:
        """Save a policy (YAML text, or a path to a .yaml file); a new version if it changed."""
        if isinstance(document, Path) or (
            isinstance(document, str)
            and "\n" not in document
            and document.endswith((".yaml", ".yml"))
        ):
            try:
                document = Path(document).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InvalidInput(
                    f"cannot read policy file {document}: {exc}", field="document"
                ) from None
        body = self._model(PolicyApply, document=document)
        return self._call("apply_policy", body=body)  # type: ignore[no-any-return]

    def list_policies(self) -> list[PolicyPublic]:
        return self._call("list_policies")  # type: ignore[no-any-return]

    def get_policy(self, name: str, version: int | None = None) -> PolicyPublic:
        return self._call("get_policy", name=name, version=version)  # type: ignore[no-any-return]

    def install_default_policies(self) -> list[PolicyPublic]:
        """Install the shipped per-tier policies that the store does not have yet."""
        return self._call("install_default_policies")  # type: ignore[no-any-return]

    def check_policy(
        self, ref: str | ModelVersion, to: str, *, context: bool = False
    ) -> GateReport:
        """Evaluate every policy guarding a move of ``ref`` to alias ``to`` (nothing moves)."""
        return self._call("check_policy", ref=_ref(ref), to=to, context=context)  # type: ignore[no-any-return]

    # ------------------------------------------------------------ promotions

    def request_promotion(
        self,
        ref: str | ModelVersion,
        alias: str,
        *,
        comment: str = "",
        expires_in_days: int | None = None,
    ) -> PromotionPublic:
        """Open a promotion request of ``ref`` to ``alias`` for approvers to decide on."""
        body = self._model(
            PromotionCreate, alias=alias, comment=comment, expires_in_days=expires_in_days
        )
        return self._call("request_promotion", ref=_ref(ref), body=body)  # type: ignore[no-any-return]

    def approve(self, request_id: int, comment: str = "") -> PromotionPublic:
        """Approve a promotion request (four eyes: not your own version or request)."""
        body = self._model(DecisionCreate, comment=comment)
        return self._call("approve_promotion", request_id=request_id, body=body)  # type: ignore[no-any-return]

    def reject(self, request_id: int, comment: str = "") -> PromotionPublic:
        body = self._model(DecisionCreate, comment=comment)
        return self._call("reject_promotion", request_id=request_id, body=body)  # type: ignore[no-any-return]

    def get_promotion(self, request_id: int) -> PromotionPublic:
        return self._call("get_promotion", request_id=request_id)  # type: ignore[no-any-return]

    def list_promotions(
        self, model: str | None = None, status: str | None = None
    ) -> list[PromotionPublic]:
        return self._call("list_promotions", model=model, status=status)  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ cards

    def update_card(
        self, ref: str | ModelVersion, sections: dict[str, Any], *, replace: bool = False
    ) -> CardPublic:
        """Write human sections of a version's model card (merged into the last card)."""
        body = self._model(CardUpdate, sections=sections, replace=replace)
        return self._call("update_card", ref=_ref(ref), body=body)  # type: ignore[no-any-return]

    def get_card(
        self, ref: str | ModelVersion, format: str = "json", card_version: int | None = None
    ) -> CardPublic:
        """The card: evidence merged with the human sections; ``format`` markdown/html renders."""
        return self._call("get_card", ref=_ref(ref), format=format, card_version=card_version)  # type: ignore[no-any-return]

    # ------------------------------------------------------------ compliance pack

    def export_pack(
        self,
        ref: str | ModelVersion,
        path: str | Path,
        *,
        sign_with: str | Path | None = None,
        checkpoint_id: int | None = None,
    ) -> dict[str, Any]:
        """Write the compliance pack of ``ref`` to ``path`` (a zip).

        ``sign_with`` (an Ed25519 PEM private key) first signs a checkpoint at the chain's head,
        so every event in the pack is covered by a fresh signature; otherwise the newest stored
        checkpoint covering the version's events is used (or ``checkpoint_id``).
        """
        from modelward.governance.pack_export import export_pack

        key = sign_with

        def sign() -> int:  # after the export event, so the signature covers it
            return self.create_audit_checkpoint(key).id  # type: ignore[attr-defined,no-any-return]

        return export_pack(
            self._call,
            _ref(ref),
            path,
            checkpoint_id=checkpoint_id,
            sign=sign if key is not None else None,
        )


def verify_pack(path: str | Path, public_key: str | None = None) -> Any:
    """Verify a compliance pack offline: no store, no server. Returns a ``PackReport``."""
    from modelward.governance.pack_format import verify_pack as verify

    return verify(path, public_key)
