"""modelward: governed machine-learning model lifecycle.

The public SDK is exactly what this module exports.
"""

from modelward.client import Client
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
]
