"""Import every domain service module, registering its operations."""

from modelward.audit import service as _audit  # noqa: F401
from modelward.auth import service as _auth  # noqa: F401
from modelward.datasets import service as _datasets  # noqa: F401
from modelward.evaluation import service as _evaluation  # noqa: F401
from modelward.governance import approvals as _approvals  # noqa: F401
from modelward.governance import card_service as _cards  # noqa: F401
from modelward.governance import gate as _gate  # noqa: F401
from modelward.governance import pack as _pack  # noqa: F401
from modelward.governance import policies as _policies  # noqa: F401
from modelward.governance import portfolio as _portfolio  # noqa: F401
from modelward.governance import register as _register  # noqa: F401
from modelward.monitoring import alert_service as _alerts  # noqa: F401
from modelward.monitoring import distribution_service as _distribution  # noqa: F401
from modelward.monitoring import endpoints as _endpoints  # noqa: F401
from modelward.monitoring import log_service as _prediction_log  # noqa: F401
from modelward.monitoring import monitor_service as _monitor_service  # noqa: F401
from modelward.registry import service as _registry  # noqa: F401
from modelward.registry import version_page as _version_page  # noqa: F401
from modelward.serving import plans as _plans  # noqa: F401
from modelward.serving import traffic as _traffic  # noqa: F401
from modelward.tracking import browse as _tracking_browse  # noqa: F401
from modelward.tracking import service as _tracking  # noqa: F401
