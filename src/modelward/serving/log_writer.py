"""The gateway's prediction log: requests are appended in memory on the request path and
written in batches, off it, into the monitoring prediction log.

Each flush writes, per endpoint and in one transaction, the Parquet segments of every
(version, primary-or-shadow) group, their ids in the id index, the per-arm serving
statistics for canary analysis, and one ``predictions.log`` audit event. A flush that fails
(the database is down) puts its rows back and is retried on the next tick; the buffer holds
up to ``max_rows`` rows, beyond which new rows are dropped and counted, never blocking a
request.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from modelward.errors import InvalidInput
from modelward.monitoring.prediction_log import (
    ARM,
    ID,
    LATENCY,
    PREDICTION,
    SCORE,
    TS,
    by_hour,
    encode_segment,
    insert_ids,
    known_ids,
    storable,
)
from modelward.monitoring.tables import Endpoint, PredictionSegment
from modelward.registry.tables import ModelVersion
from modelward.registry.writing import lock_writes, stored_now
from modelward.serving.arm_stats import ArmStats
from modelward.serving.tables import ServingStat
from modelward.uow import UnitOfWork

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MINUTE_MS = 60_000


@dataclass(slots=True)
class Entry:
    """One answered request (or its shadow copy), as the gateway saw it."""

    endpoint_id: int
    version_id: int
    source: str  # "online" (answered the caller) or "shadow"
    arm: str
    ids: list[str]
    ts_ms: int
    columns: dict[str, np.ndarray]
    n: int
    predictions: np.ndarray
    scores: np.ndarray | None
    latency_ms: float


class LogBuffer:
    """Entries waiting to be written, and the per-arm statistics since the last flush."""

    def __init__(self, max_rows: int = 1_000_000) -> None:
        self.max_rows = max_rows
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        self._rows = 0
        self.dropped = 0
        # (endpoint_id, plan_id, step_index, arm, minute_ms) -> what that arm did
        self._stats: dict[tuple[int, int, int, str, int], ArmStats] = {}

    @property
    def depth(self) -> int:
        return self._rows

    def add(self, entry: Entry) -> bool:
        with self._lock:
            if self._rows + entry.n > self.max_rows:
                self.dropped += entry.n
                return False
            self._entries.append(entry)
            self._rows += entry.n
            return True

    def observe(
        self,
        key: tuple[int, int, int, str],
        now_ms: int,
        latency_ms: float,
        *,
        error: bool = False,
        scores: np.ndarray | None = None,
        labels: np.ndarray | None = None,
    ) -> None:
        full = (*key, now_ms - now_ms % MINUTE_MS)
        with self._lock:
            stats = self._stats.get(full)
            if stats is None:
                stats = self._stats[full] = ArmStats()
            stats.observe(latency_ms, error=error, scores=scores, labels=labels)

    def take(self) -> tuple[list[Entry], dict[tuple[int, int, int, str, int], ArmStats]]:
        with self._lock:
            entries, self._entries, self._rows = self._entries, [], 0
            stats, self._stats = self._stats, {}
        return entries, stats

    def put_back(
        self, entries: list[Entry], stats: dict[tuple[int, int, int, str, int], ArmStats]
    ) -> None:
        """Return a failed flush's rows to the front of the queue (dropping what no longer
        fits) and merge its statistics back."""
        with self._lock:
            room = self.max_rows - self._rows
            kept: list[Entry] = []
            for entry in entries:
                if entry.n <= room:
                    kept.append(entry)
                    room -= entry.n
                else:
                    self.dropped += entry.n
            self._entries = kept + self._entries
            self._rows += sum(e.n for e in kept)
            for key, s in stats.items():
                if key in self._stats:
                    s.merge(self._stats[key])
                self._stats[key] = s


# ------------------------------------------------------------------ writing a flush


def frame_of(entries: list[Entry]) -> pd.DataFrame:
    """One segment frame from entries of the same endpoint, version and source."""
    import numpy as np
    import pandas as pd

    first = entries[0]
    counts = np.fromiter((e.n for e in entries), dtype=np.int64, count=len(entries))
    # Per-request values repeat once per row: one np.repeat each, not one array per request.
    times = np.fromiter((e.ts_ms for e in entries), dtype=np.int64, count=len(entries))
    latency = np.fromiter((e.latency_ms for e in entries), dtype=np.float64, count=len(entries))
    arms = np.array([e.arm for e in entries], dtype=object)
    columns: dict[str, Any] = {
        ID: [i for e in entries for i in e.ids],
        TS: np.repeat(times, counts),
    }
    for name in first.columns:
        values = np.concatenate([e.columns[name] for e in entries])
        columns[name] = storable(pd.Series(values))
    columns[PREDICTION] = storable(pd.Series(np.concatenate([e.predictions for e in entries])))
    if all(e.scores is not None for e in entries):
        scores = np.concatenate([e.scores for e in entries])  # type: ignore[misc]
        columns[SCORE] = scores.astype("float64")
    columns[ARM] = np.repeat(arms, counts)
    columns[LATENCY] = np.repeat(latency, counts)
    return pd.DataFrame(columns, copy=False)


class BaselineCache:
    """Each version's baseline, or ``None`` for versions without training data: their
    predictions are logged with an empty profile, so nothing served goes unlogged."""

    def __init__(self) -> None:
        self._found: dict[int, dict[str, Any] | None] = {}

    def get(self, uow: UnitOfWork, version: ModelVersion) -> dict[str, Any] | None:
        if version.id not in self._found:
            from modelward.monitoring.baseline import baseline_for

            try:
                self._found[version.id] = baseline_for(uow, version)
            except InvalidInput:
                self._found[version.id] = None
        return self._found[version.id]


def write_endpoint(
    uow: UnitOfWork,
    endpoint_id: int,
    entries: list[Entry],
    stats: dict[tuple[int, int, int, str, int], ArmStats],
    replica: str,
    baselines: BaselineCache,
) -> int:
    """Write one endpoint's share of a flush; the rows newly logged."""
    lock_writes(uow)
    endpoint = uow.session.get_one(Endpoint, endpoint_id)
    groups: dict[tuple[int, str], list[Entry]] = defaultdict(list)
    for entry in entries:
        groups[(entry.version_id, entry.source)].append(entry)
    now = stored_now()
    written: list[dict[str, Any]] = []
    for (version_id, source), group in sorted(groups.items()):
        version = uow.session.get_one(ModelVersion, version_id)
        frame = _new_rows(uow, endpoint, frame_of(group))
        for hour_ms, part in by_hour(frame) if len(frame) else []:
            segment = _segment(uow, endpoint, version, part, hour_ms, source, baselines, now)
            written.append(
                {
                    "segment": segment.id,
                    "version": version.version,
                    "source": source,
                    "rows": segment.rows,
                }
            )
    _write_stats(uow, stats, replica)
    rows = sum(w["rows"] for w in written)
    if written or stats:
        summary = {"rows": rows, "segments": len(written), "source": "gateway", "replica": replica}
        uow.audit(
            "predictions.log", "endpoint", endpoint.name, {"segments": written, **summary}, summary
        )
    return rows


def _new_rows(uow: UnitOfWork, endpoint: Endpoint, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows whose id is not logged yet (a client may resend a request id)."""
    frame = frame.drop_duplicates(subset=[ID], keep="first")
    known = known_ids(uow.session, endpoint.id, frame[ID].tolist())
    if known:
        frame = frame[~frame[ID].isin(known)]
    return frame.reset_index(drop=True)


def _segment(
    uow: UnitOfWork,
    endpoint: Endpoint,
    version: ModelVersion,
    part: pd.DataFrame,
    hour_ms: int,
    source: str,
    baselines: BaselineCache,
    now: Any,
) -> PredictionSegment:
    from modelward.monitoring.profiles import profile_frame

    baseline = baselines.get(uow, version)
    profile = profile_frame(part, baseline) if baseline else {"rows": len(part), "features": {}}
    ts = part[TS].to_numpy()
    segment = PredictionSegment(
        endpoint_id=endpoint.id,
        version_id=version.id,
        hour_ms=hour_ms,
        digest=uow.artifacts.put_bytes(encode_segment(part)),
        rows=len(part),
        min_ts_ms=int(ts.min()),
        max_ts_ms=int(ts.max()),
        source=source,
        profile=profile,
        baseline_digest=baseline["digest"] if baseline else "",
        created_at=now,
    )
    uow.session.add(segment)
    uow.session.flush()
    insert_ids(uow.session, endpoint.id, segment.id, part[ID].tolist(), ts)
    return segment


def _write_stats(
    uow: UnitOfWork, stats: dict[tuple[int, int, int, str, int], ArmStats], replica: str
) -> None:
    """Add this flush's statistics to the replica's row of each arm and minute."""
    for (_, plan_id, step, arm, minute), delta in stats.items():
        row = uow.session.scalar(
            select(ServingStat).where(
                ServingStat.plan_id == plan_id,
                ServingStat.step_index == step,
                ServingStat.arm == arm,
                ServingStat.replica == replica,
                ServingStat.minute_ms == minute,
            )
        )
        if row is None:
            uow.session.add(
                ServingStat(
                    plan_id=plan_id,
                    step_index=step,
                    arm=arm,
                    replica=replica,
                    minute_ms=minute,
                    stats=delta.to_json(),
                )
            )
            continue
        merged = ArmStats.from_json(row.stats)
        merged.merge(delta)
        row.stats = merged.to_json()
