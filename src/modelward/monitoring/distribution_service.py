"""One feature's distribution in one window against the baseline: the bins drift compares."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

from modelward.errors import InvalidInput, NotFound
from modelward.monitoring.endpoints import get_endpoint_row
from modelward.monitoring.monitor_service import monitored
from modelward.monitoring.windows import hourly_window, to_ms, window_profiles
from modelward.operations import operation
from modelward.uow import UnitOfWork


class FeatureDistribution(BaseModel):
    endpoint: str
    feature: str
    kind: str
    window: str
    window_start: datetime
    window_end: datetime
    labels: list[str]
    reference: list[int]
    current: list[int]
    rows: int


@operation("GET", "/api/v1/endpoints/{endpoint}/distribution", tag="monitoring")
def feature_distribution(
    uow: UnitOfWork, endpoint: str, feature: str, start: str, window: str = "1d"
) -> FeatureDistribution:
    """Counts per baseline bin (or category) of ``feature``: the training data and the
    window starting at ``start`` (merged from its hourly profiles)."""
    from modelward.monitoring.report import feature_distribution as distribution

    row = get_endpoint_row(uow.session, endpoint, "endpoint")
    m = monitored(uow, row)
    spec = m.baseline["features"].get(feature)
    reference = m.baseline["profile"]["features"].get(feature)
    if spec is None or reference is None:
        raise NotFound(f"endpoint {endpoint!r} has no feature {feature!r}", field="feature")
    size = hourly_window(window)
    begin = to_ms(start, "start")
    if begin is None:
        raise InvalidInput("start: is required", field="start")
    begin -= begin % size  # windows are aligned to their size, as in the drift report
    (merged,) = window_profiles(uow.session, row.id, m.baseline, [(begin, begin + size)])
    current = (merged or {}).get("features", {}).get(feature)
    if current is None:
        empty = {"bins": [0] * len(reference.get("bins", [])), "underflow": 0, "overflow": 0}
        current = empty | {"categories": {}, "unseen": 0}
    d = distribution(spec, reference, current)
    return FeatureDistribution(
        endpoint=row.name,
        feature=feature,
        kind=d["kind"],
        window=window,
        window_start=datetime.fromtimestamp(begin / 1000, tz=UTC),
        window_end=datetime.fromtimestamp((begin + size) / 1000, tz=UTC),
        labels=d["labels"],
        reference=[int(x) for x in d["reference"]],
        current=[int(x) for x in d["current"]],
        rows=int(merged["rows"]) if merged else 0,
    )
