"""modelward: governed machine-learning model lifecycle.

The public SDK is exactly what this module exports. ``Client`` and ``infer_signature``
load on first use, so ``modelward server`` starts without importing the SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelward.errors import (
    Conflict,
    Forbidden,
    IntegrityError,
    InvalidInput,
    ModelwardError,
    NotFound,
    PolicyDenied,
    Unauthorized,
)

if TYPE_CHECKING:
    from modelward.client import Client
    from modelward.client.governance import verify_pack
    from modelward.registry.signature import infer_signature

__version__ = "0.1.0"

__all__ = [
    "Client",
    "Conflict",
    "Forbidden",
    "IntegrityError",
    "InvalidInput",
    "ModelwardError",
    "NotFound",
    "PolicyDenied",
    "Unauthorized",
    "__version__",
    "infer_signature",
    "verify_pack",
]

_LAZY = {
    "Client": "modelward.client",
    "infer_signature": "modelward.registry.signature",
    "verify_pack": "modelward.client.governance",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'modelward' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
