"""Import every domain's tables so ``Base.metadata`` is complete (for migrations)."""

from modelward.audit import tables as _audit  # noqa: F401
from modelward.auth import tables as _auth  # noqa: F401
from modelward.datasets import tables as _datasets  # noqa: F401
from modelward.evaluation import tables as _evaluation  # noqa: F401
from modelward.governance import tables as _governance  # noqa: F401
from modelward.monitoring import tables as _monitoring  # noqa: F401
from modelward.registry import tables as _registry  # noqa: F401
from modelward.serving import tables as _serving  # noqa: F401
from modelward.tracking import tables as _tracking  # noqa: F401
