"""What every part of the SDK shares: the transport and input validation."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from modelward.client.transport import Transport
from modelward.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)


def invalid_from_pydantic(exc: ValidationError, prefix: str = "") -> InvalidInput:
    """The first problem pydantic found, as one readable line naming the field."""
    err = exc.errors()[0]
    loc = ".".join(printable(p) for p in err["loc"] if p not in ("body",))
    field = f"{prefix}.{loc}" if prefix and loc else (prefix or loc or None)
    msg = clean_message(err["msg"])
    return InvalidInput(f"{field}: {msg}" if field else msg, field=field)


def printable(part: object) -> str:
    # A dict key can be any text: escape what a terminal or a log would not show as is.
    text = str(part)
    return text if text.isprintable() else repr(text)[1:-1]


def clean_message(msg: str) -> str:
    """Drop pydantic's "Value error, " prefix from messages our validators wrote."""
    return msg.removeprefix("Value error, ")


class ClientBase:
    _transport: Transport

    def _call(self, op: str, /, **kwargs: Any) -> Any:
        return self._transport.call(op, **kwargs)

    @staticmethod
    def _model(cls: type[M], **data: Any) -> M:
        try:
            return cls(**data)
        except ValidationError as exc:
            raise invalid_from_pydantic(exc) from None
