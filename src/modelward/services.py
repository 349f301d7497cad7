"""Import every domain service module, registering its operations."""

from modelward.audit import service as _audit  # noqa: F401
from modelward.auth import service as _auth  # noqa: F401
from modelward.datasets import service as _datasets  # noqa: F401
from modelward.registry import service as _registry  # noqa: F401
from modelward.tracking import service as _tracking  # noqa: F401
