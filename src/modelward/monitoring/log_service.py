"""Prediction log and label verbs: the baseline, logging segments, listing them, labels.

Segment profiles are computed by the SDK against the baseline it fetched, and stored as
sent: they feed monitoring, not governance evidence, and the server still re-reads every
segment's ids and times from the stored blob before indexing them. A profile computed
against another baseline than the version's current one is refused.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from modelward.audit.service import parse_instant
from modelward.auth.roles import Role
from modelward.db.base import ms_to_datetime
from modelward.errors import Conflict, InvalidInput
from modelward.monitoring import labels, prediction_log
from modelward.monitoring.baseline import baseline_for
from modelward.monitoring.endpoints import get_endpoint_row
from modelward.monitoring.log_schemas import (
    BaselinePublic,
    LabelReceipt,
    LabelsRequest,
    LogReceipt,
    PredictionIdsQuery,
    PredictionLogRequest,
    SegmentPublic,
    SegmentUpload,
)
from modelward.monitoring.prediction_log import HOUR_MS, RESERVED, SegmentIndex
from modelward.monitoring.tables import Endpoint, PredictionSegment
from modelward.operations import operation
from modelward.registry.tables import ModelVersion
from modelward.registry.writing import lock_writes, stored_now
from modelward.uow import UnitOfWork

BASE = "/api/v1/endpoints/{endpoint}"


def endpoint_inputs(baseline: dict[str, Any]) -> list[str]:
    return [n for n in baseline["features"] if n not in RESERVED]


@operation("GET", BASE + "/baseline", tag="monitoring")
def get_baseline(uow: UnitOfWork, endpoint: str) -> BaselinePublic:
    """The baseline of the endpoint's version (built from its training data on first use)."""
    row = get_endpoint_row(uow.session, endpoint, "endpoint")
    version = uow.session.get_one(ModelVersion, row.version_id)
    baseline = baseline_for(uow, version)
    body = {k: v for k, v in baseline.items() if k != "digest"}
    return BaselinePublic(
        endpoint=row.name,
        version=baseline["version"],
        dataset=baseline["dataset"],
        digest=baseline["digest"],
        features=endpoint_inputs(baseline),
        baseline=body,
    )


@operation("POST", BASE + "/prediction-ids", role=Role.developer, write=False, tag="monitoring")
def find_prediction_ids(uow: UnitOfWork, endpoint: str, body: PredictionIdsQuery) -> list[str]:
    """Which of these ids are already logged for the endpoint."""
    row = get_endpoint_row(uow.session, endpoint, "endpoint")
    return prediction_log.known_ids(uow.session, row.id, body.ids)


@operation(
    "POST",
    BASE + "/predictions",
    role=Role.developer,
    long=True,
    status_code=201,
    tag="monitoring",
)
def log_predictions(uow: UnitOfWork, endpoint: str, body: PredictionLogRequest) -> LogReceipt:
    """Register uploaded segments and index their ids, all in one transaction."""
    row = get_endpoint_row(uow.session, endpoint, "endpoint")
    version = uow.session.get_one(ModelVersion, row.version_id)
    baseline = baseline_for(uow, version)
    if body.baseline_digest != baseline["digest"]:
        raise Conflict(
            f"baseline_digest: the profiles were computed against another baseline than "
            f"{baseline['version']}'s; fetch the endpoint's baseline again",
            field="baseline_digest",
        )
    expected = ["__id__", "__ts__", *endpoint_inputs(baseline), "__prediction__"]
    indexes = [_checked(uow, s, expected) for s in body.segments]
    _no_repeats(indexes)
    with uow.write_phase() as w:
        lock_writes(w)
        now = stored_now()
        stored = [
            _store_segment(w, row, version.id, upload, index, body, now)
            for upload, index in zip(body.segments, indexes, strict=True)
        ]
        new = sum(s.rows for s in stored)
        receipt = LogReceipt(
            endpoint=row.name,
            version=version.version,
            rows=new + body.skipped,
            new=new,
            skipped=body.skipped,
            segments=[segment_public(s, row.name, version.version) for s in stored],
            missing_columns=body.missing_columns,
            extra_columns=body.extra_columns,
            type_errors=_type_errors(body.segments),
            baseline_digest=baseline["digest"],
        )
        summary = {
            "rows": receipt.rows,
            "new": new,
            "skipped": body.skipped,
            "segments": len(stored),
        }
        state = receipt.model_dump(mode="json")
        w.audit("predictions.log", "endpoint", row.name, state, summary)
    return receipt


def _checked(uow: UnitOfWork, upload: SegmentUpload, expected: list[str]) -> SegmentIndex:
    """The stored segment's index, after checking it is what the request says it is."""
    index = prediction_log.read_index(uow.artifacts.get_bytes(upload.digest, "segment"))
    columns = [c for c in index.columns if c != "__score__"]
    # Same columns, in any order: the baseline lists features sorted, a segment in the
    # order the caller's frame had them.
    if len(columns) != len(expected) or set(columns) != set(expected):
        raise InvalidInput(
            f"segments: segment {upload.digest[:12]} holds columns {', '.join(columns)}, "
            f"not {', '.join(expected)}",
            field="segments",
        )
    if len(index.ids) != upload.rows or upload.profile.get("rows") != upload.rows:
        raise InvalidInput(
            f"segments: segment {upload.digest[:12]} holds {len(index.ids)} rows, "
            f"not {upload.rows}",
            field="segments",
        )
    hours = index.ts // HOUR_MS * HOUR_MS
    if (hours != upload.hour_ms).any():
        raise InvalidInput(
            f"segments: segment {upload.digest[:12]} holds predictions outside its hour",
            field="segments",
        )
    return index


def _no_repeats(indexes: list[SegmentIndex]) -> None:
    total = sum(len(i.ids) for i in indexes)
    if len(indexes) > 1 and len({x for i in indexes for x in i.ids}) != total:
        raise InvalidInput("segments: an id appears in more than one segment", field="segments")


def _store_segment(
    uow: UnitOfWork,
    endpoint: Endpoint,
    version_id: int,
    upload: SegmentUpload,
    index: SegmentIndex,
    body: PredictionLogRequest,
    now: datetime,
) -> PredictionSegment:
    segment = PredictionSegment(
        endpoint_id=endpoint.id,
        version_id=version_id,
        hour_ms=upload.hour_ms,
        digest=upload.digest,
        rows=upload.rows,
        min_ts_ms=int(index.ts.min()),
        max_ts_ms=int(index.ts.max()),
        source=body.source,
        profile=upload.profile,
        baseline_digest=body.baseline_digest,
        created_at=now,
    )
    uow.session.add(segment)
    uow.session.flush()
    prediction_log.insert_ids(uow.session, endpoint.id, segment.id, index.ids, index.ts)
    return segment


def _type_errors(segments: list[SegmentUpload]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in segments:
        for name, feature in (s.profile.get("features") or {}).items():
            n = feature.get("type_errors", 0) if isinstance(feature, dict) else 0
            if n:
                out[name] = out.get(name, 0) + int(n)
    return out


def segment_public(
    row: PredictionSegment, endpoint: str, version: int, *, profile: bool = False
) -> SegmentPublic:
    return SegmentPublic(
        id=row.id,
        endpoint=endpoint,
        version=version,
        hour=ms_to_datetime(row.hour_ms),  # type: ignore[arg-type]
        digest=row.digest,
        rows=row.rows,
        min_ts=ms_to_datetime(row.min_ts_ms),  # type: ignore[arg-type]
        max_ts=ms_to_datetime(row.max_ts_ms),  # type: ignore[arg-type]
        source=row.source,
        baseline_digest=row.baseline_digest,
        created_at=row.created_at,
        profile=row.profile if profile else None,
    )


def segments_between(
    uow: UnitOfWork,
    endpoint: Endpoint,
    since_ms: int | None,
    until_ms: int | None,
    *,
    shadow: bool = False,
) -> list[PredictionSegment]:
    """Segments holding predictions in ``[since, until)``, oldest hour first.

    Shadow predictions (a challenger's answers that no caller received) are left out unless
    asked for: monitoring watches what the endpoint answered.
    """
    query = select(PredictionSegment).where(PredictionSegment.endpoint_id == endpoint.id)
    if not shadow:
        query = query.where(PredictionSegment.source != "shadow")
    if since_ms is not None:
        query = query.where(PredictionSegment.max_ts_ms >= since_ms)
    if until_ms is not None:
        query = query.where(PredictionSegment.min_ts_ms < until_ms)
    query = query.order_by(PredictionSegment.hour_ms, PredictionSegment.id)
    return list(uow.session.scalars(query))


@operation("GET", BASE + "/segments", tag="monitoring")
def list_segments(
    uow: UnitOfWork,
    endpoint: str,
    since: str | None = None,
    until: str | None = None,
    profiles: bool = False,
    shadow: bool = False,
) -> list[SegmentPublic]:
    """The endpoint's prediction segments with predictions in ``[since, until)``; with
    ``shadow``, also the shadow challenger's (source ``shadow``)."""
    row = get_endpoint_row(uow.session, endpoint, "endpoint")
    since_ms, until_ms = parse_instant(since, "since"), parse_instant(until, "until")
    query = select(ModelVersion.id, ModelVersion.version).where(
        ModelVersion.model_id == row.model_id
    )
    versions = {vid: number for vid, number in uow.session.execute(query)}
    return [
        segment_public(s, row.name, versions[s.version_id], profile=profiles)
        for s in segments_between(uow, row, since_ms, until_ms, shadow=shadow)
    ]


@operation("POST", BASE + "/labels", role=Role.developer, status_code=201, tag="monitoring")
def log_labels(uow: UnitOfWork, endpoint: str, body: LabelsRequest) -> LabelReceipt:
    """Record ground-truth labels for logged predictions, joined by prediction id."""
    lock_writes(uow)
    row = get_endpoint_row(uow.session, endpoint, "endpoint")
    receipt = labels.record_labels(uow.session, row, body)
    summary = {
        "received": receipt.received,
        "stored": receipt.stored,
        "unknown": receipt.unknown,
        "relabeled": receipt.relabeled,
    }
    uow.audit("labels.log", "endpoint", row.name, receipt.model_dump(mode="json"), summary)
    return receipt
