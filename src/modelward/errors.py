"""Domain errors, mapped once to HTTP status codes and CLI exit codes.

ModelwardError
 ├── InvalidInput      400  exit 2   a field is malformed; names the field
 ├── Unauthorized      401  exit 2   no token, or an unknown one
 ├── Forbidden         403  exit 1   the token's role may not do this
 ├── NotFound          404  exit 1   a name, reference or id is unknown
 ├── Conflict          409  exit 1   the change contradicts stored state
 │    └── PolicyDenied 409  exit 1   a governance gate refused the change
 └── IntegrityError    500* exit 1   stored bytes no longer match their digest
                       (*served as 409 "integrity_error": the request is valid,
                        the stored artifact is not)
"""

from __future__ import annotations

from typing import Any, ClassVar


class ModelwardError(Exception):
    """Root of every error modelward raises on purpose."""

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 400
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field}
        if self.details:
            body["details"] = self.details
        return body

    @property
    def headline(self) -> str:
        """One readable line for the terminal."""
        where = f" [{self.field}]" if self.field else ""
        return f"{self.message}{where}"


class InvalidInput(ModelwardError):
    code = "invalid_input"
    http_status = 400
    exit_code = 2


class Unauthorized(ModelwardError):
    code = "unauthorized"
    http_status = 401
    exit_code = 2


class Forbidden(ModelwardError):
    code = "forbidden"
    http_status = 403


class NotFound(ModelwardError):
    code = "not_found"
    http_status = 404


class Conflict(ModelwardError):
    code = "conflict"
    http_status = 409


class PolicyDenied(Conflict):
    code = "policy_denied"


class IntegrityError(ModelwardError):
    code = "integrity_error"
    http_status = 409


_BY_CODE: dict[str, type[ModelwardError]] = {
    cls.code: cls
    for cls in (
        ModelwardError,
        InvalidInput,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        PolicyDenied,
        IntegrityError,
    )
}


def from_dict(body: dict[str, Any]) -> ModelwardError:
    """Rebuild the error a server sent, so HTTP callers catch the same classes."""
    cls = _BY_CODE.get(str(body.get("code")), ModelwardError)
    details = body.get("details") or {}
    return cls(str(body.get("message", "unknown error")), field=body.get("field"), **details)
