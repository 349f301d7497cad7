"""Delayed labels: ground truth joined to logged predictions exactly by prediction id.

A label is stored as the JSON text of the value sent, so a label ``1`` reads back as the
integer 1 and ``"good"`` as the string. Relabelling adds a fact; readers take, per id, the
fact with the latest label time (the later-received one on a tie), and the history stays.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from modelward.errors import InvalidInput
from modelward.monitoring.log_schemas import ID_LENGTH, LabelReceipt, LabelsRequest
from modelward.monitoring.prediction_log import (
    ID,
    MAX_TS_MS,
    PREDICTION,
    SCORE,
    TS,
    known_ids,
    rows_by_prediction_id,
)
from modelward.monitoring.tables import Endpoint, LabelFact
from modelward.uow import UnitOfWork

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

UNKNOWN_SHOWN = 20
# The segment columns a labelled-prediction join reads, and its names for them.
WANTED = [ID, TS, PREDICTION, SCORE]
NAMES = ["prediction_id", "ts_ms", "prediction", "score"]


def record_labels(session: Session, endpoint: Endpoint, body: LabelsRequest) -> LabelReceipt:
    """Store the labels of known ids; report the unknown ones."""
    n = len(body.ids)
    if len(body.labels) != n:
        raise InvalidInput(f"labels: {len(body.labels)} labels for {n} ids", field="labels")
    times = body.label_times_ms
    if times is not None and len(times) != n:
        raise InvalidInput(f"label_time: {len(times)} times for {n} ids", field="label_time")
    _check_ids(body.ids)
    if times and (min(times) < 0 or max(times) >= MAX_TS_MS):
        raise InvalidInput("label_time: must lie between 1970 and 9999", field="label_time")
    encoded = [_encode(v, i) for i, v in enumerate(body.labels)]
    known = set(known_ids(session, endpoint.id, body.ids))
    already = set(labels_for(session, endpoint.id, [i for i in body.ids if i in known]))
    received = time.time_ns() // 1_000_000
    rows = [
        {
            "endpoint_id": endpoint.id,
            "prediction_id": pid,
            "label": label,
            "label_time_ms": times[k] if times is not None else received,
            "received_at_ms": received,
        }
        for k, (pid, label) in enumerate(zip(body.ids, encoded, strict=True))
        if pid in known
    ]
    if rows:
        session.execute(insert(LabelFact), rows)
    unknown = [i for i in body.ids if i not in known]
    return LabelReceipt(
        endpoint=endpoint.name,
        received=n,
        stored=len(rows),
        relabeled=len(already),
        unknown=len(unknown),
        unknown_ids=unknown[:UNKNOWN_SHOWN],
    )


def _check_ids(ids: list[str]) -> None:
    seen: set[str] = set()
    for pid in ids:
        if not 0 < len(pid) <= ID_LENGTH:
            raise InvalidInput(
                f"ids: {pid[:40]!r} is not 1-{ID_LENGTH} characters long", field="ids"
            )
        if pid in seen:
            raise InvalidInput(f"ids: {pid!r} appears more than once in the batch", field="ids")
        seen.add(pid)


def _encode(value: Any, row: int) -> str:
    if value is None or (isinstance(value, float) and value != value):
        raise InvalidInput(f"labels: row {row} has no label", field="labels")
    if not isinstance(value, str | int | float | bool):
        raise InvalidInput(
            f"labels: row {row} is a {type(value).__name__}; labels are text, numbers or booleans",
            field="labels",
        )
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:
        raise InvalidInput(f"labels: row {row} is not a finite number", field="labels") from None


def labels_for(
    session: Session, endpoint_id: int, ids: Iterable[str]
) -> dict[str, tuple[Any, int]]:
    """The current label of each labelled id: ``{id: (label, label_time_ms)}``."""
    best: dict[str, tuple[int, int, str]] = {}
    # The ids go as one parameter: a window's hundreds of thousands of ids as ``IN`` lists
    # cost more to build into SQL than to look up.
    columns = "t.prediction_id, t.label_time_ms, t.id, t.label"
    facts = rows_by_prediction_id(session, "label_facts", columns, endpoint_id, list(ids))
    for pid, t, fact_id, label in facts:
        current = best.get(pid)
        if current is None or (t, fact_id) > current[:2]:
            best[pid] = (t, fact_id, label)
    return {pid: (json.loads(label), t) for pid, (t, _, label) in best.items()}


def _array(table: Any, column: str) -> np.ndarray:
    import numpy as np

    if column not in table.column_names:  # a segment logged without scores
        return np.full(table.num_rows, np.nan)
    return table.column(column).to_numpy(zero_copy_only=False)


def labeled_predictions(
    uow: UnitOfWork, endpoint: Endpoint | str, since: Any = None, until: Any = None
) -> pd.DataFrame:
    """Labelled predictions made in ``[since, until)``: columns ``prediction_id``, ``ts``
    (UTC), ``prediction``, ``score`` (NaN without scores), ``label``, ``label_time``."""
    import numpy as np
    import pandas as pd

    from modelward.audit.service import parse_instant
    from modelward.monitoring.endpoints import get_endpoint_row
    from modelward.monitoring.log_service import segments_between
    from modelward.monitoring.prediction_log import read_present

    row = endpoint if isinstance(endpoint, Endpoint) else get_endpoint_row(uow.session, endpoint)
    since_ms, until_ms = parse_instant(since, "since"), parse_instant(until, "until")
    parts: list[dict[str, np.ndarray]] = []
    for segment in segments_between(uow, row, since_ms, until_ms):
        table = read_present(uow.artifacts.get_bytes(segment.digest, "segment"), WANTED)
        ts = table.column(TS).to_numpy()
        keep = np.ones(len(ts), dtype=bool)
        if since_ms is not None:
            keep &= ts >= since_ms
        if until_ms is not None:
            keep &= ts < until_ms
        # Straight from Arrow to NumPy: one DataFrame for the whole period, not one per
        # segment, which cost more than reading the segments.
        part = {name: _array(table, column) for name, column in zip(NAMES, WANTED, strict=True)}
        parts.append({name: values[keep] for name, values in part.items()})
    columns = ["prediction_id", "ts", "prediction", "score", "label", "label_time"]
    if not parts:  # no segment in the period: no rows, but times typed as times
        parts = [{n: np.array([], dtype="int64" if n == "ts_ms" else object) for n in NAMES}]
    logged = pd.DataFrame({n: np.concatenate([p[n] for p in parts]) for n in NAMES})
    current = labels_for(uow.session, row.id, logged["prediction_id"].tolist())
    logged = logged[logged["prediction_id"].isin(current.keys())].reset_index(drop=True)
    found = [current[p] for p in logged["prediction_id"]]
    logged["label"] = pd.Series([f[0] for f in found], dtype=object)
    times = np.array([f[1] for f in found], dtype="int64")
    logged["label_time"] = pd.to_datetime(times, unit="ms", utc=True)
    logged["ts"] = pd.to_datetime(logged.pop("ts_ms").to_numpy(), unit="ms", utc=True)
    return logged[columns]
