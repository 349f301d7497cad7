"""SDK verbs of the prediction log and of delayed labels.

Logging is done where the data is: the SDK checks the batch against the endpoint's inputs,
skips ids already logged, cuts the batch into hourly Parquet segments, profiles each against
the endpoint's baseline (fetched once per endpoint and kept), uploads them, and registers
them in one call, which indexes every id in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from modelward.client.base import ClientBase
from modelward.errors import Conflict
from modelward.monitoring.log_schemas import (
    BaselinePublic,
    LabelReceipt,
    LogReceipt,
    PredictionIdsQuery,
    PredictionLogRequest,
    SegmentPublic,
    SegmentUpload,
)

if TYPE_CHECKING:
    import pandas as pd

    from modelward.monitoring.prediction_log import Batch

__all__ = ["LabelReceipt", "LogReceipt", "PredictionsAPI"]


def _instant(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    import pandas as pd

    return str(pd.Timestamp(value).isoformat())


class PredictionsAPI(ClientBase):
    _baselines: dict[str, BaselinePublic]

    def get_baseline(self, endpoint: str, *, refresh: bool = False) -> BaselinePublic:
        """The baseline the endpoint's predictions are profiled against (kept per endpoint)."""
        cache = self.__dict__.setdefault("_baselines", {})
        if refresh or endpoint not in cache:
            cache[endpoint] = self._call("get_baseline", endpoint=endpoint)
        found: BaselinePublic = cache[endpoint]
        return found

    def log_predictions(
        self,
        endpoint: str,
        features: pd.DataFrame,
        predictions: Any,
        *,
        ids: Any = None,
        timestamps: Any = None,
        scores: Any = None,
        lenient: bool = False,
    ) -> LogReceipt:
        """Log a batch of predictions an endpoint made.

        Parameters
        ----------
        endpoint:
            The endpoint's name.
        features:
            One row per prediction; its columns must be the version's inputs. With
            ``lenient=True`` missing columns are logged as nulls and extra ones dropped,
            and the receipt names them.
        predictions:
            What the model returned, one per row.
        ids:
            Unique prediction ids (text, at most 128 characters); default a random UUID4
            each. Ids already logged for the endpoint are skipped, so sending a batch twice
            stores it once.
        timestamps:
            Prediction times (datetimes, ISO text or epoch milliseconds; naive is UTC), one
            for all or one per row; default now. Past times backfill.
        scores:
            Positive-class probabilities of a binary classifier, one per row.

        Returns
        -------
        LogReceipt
            rows sent, new rows stored, skipped ids, the segments written.
        """
        from modelward.monitoring.prediction_log import prepare_batch

        baseline = self.get_baseline(endpoint)
        batch = prepare_batch(
            features,
            predictions,
            inputs=baseline.features,
            ids=ids,
            timestamps=timestamps,
            scores=scores,
            lenient=lenient,
            what=f"{baseline.version} (endpoint {endpoint})",
        )
        for attempt in (1, 2):
            try:
                return self._log_batch(endpoint, batch)
            except Conflict as exc:
                # Ids logged meanwhile by another call, or a new version deployed: dedup /
                # re-profile once more, then let the conflict through.
                if attempt == 2 or exc.field not in ("ids", "baseline_digest"):
                    raise
                if exc.field == "baseline_digest":
                    self.get_baseline(endpoint, refresh=True)
        raise AssertionError("unreachable")

    def _log_batch(self, endpoint: str, batch: Batch) -> LogReceipt:
        from modelward.monitoring.prediction_log import ID, by_hour, encode_segment
        from modelward.monitoring.profiles import profile_frame

        baseline = self.get_baseline(endpoint)
        frame = batch.frame
        known = self._known_ids(endpoint, frame[ID]) if len(frame) else []
        if known:
            frame = frame[~frame[ID].isin(known)].reset_index(drop=True)
        uploads = []
        for hour_ms, part in by_hour(frame) if len(frame) else []:
            digest = self._transport.put_artifact(encode_segment(part))
            profile = profile_frame(part, baseline.baseline)
            uploads.append(
                SegmentUpload(digest=digest, hour_ms=hour_ms, rows=len(part), profile=profile)
            )
        body = PredictionLogRequest(
            baseline_digest=baseline.digest,
            segments=uploads,
            skipped=len(known),
            missing_columns=batch.missing,
            extra_columns=batch.extra,
        )
        receipt: LogReceipt = self._call("log_predictions", endpoint=endpoint, body=body)
        return receipt

    def _known_ids(self, endpoint: str, ids: pd.Series) -> list[str]:
        query = PredictionIdsQuery.model_construct(ids=ids.tolist())
        found: list[str] = self._call("find_prediction_ids", endpoint=endpoint, body=query)
        return found

    def list_segments(
        self,
        endpoint: str,
        since: Any = None,
        until: Any = None,
        *,
        profiles: bool = False,
        shadow: bool = False,
    ) -> list[SegmentPublic]:
        """The endpoint's segments with predictions in ``[since, until)``, oldest first;
        ``shadow=True`` adds the shadow challenger's (``source == "shadow"``)."""
        found: list[SegmentPublic] = self._call(
            "list_segments",
            endpoint=endpoint,
            since=_instant(since),
            until=_instant(until),
            profiles=profiles,
            shadow=shadow,
        )
        return found

    def read_segments(
        self,
        endpoint: str,
        since: Any = None,
        until: Any = None,
        columns: Sequence[str] | None = None,
        *,
        shadow: bool = False,
    ) -> pd.DataFrame:
        """Logged predictions made in ``[since, until)`` as one DataFrame (``__id__``,
        ``__ts__`` in epoch ms, the features, ``__prediction__``, ``__score__``; from the
        gateway also ``__arm__`` and ``__latency_ms__``); ``shadow=True`` adds the shadow
        challenger's answers."""
        import pandas as pd

        from modelward.audit.service import parse_instant
        from modelward.monitoring.prediction_log import ID, TS, decode_segment

        since_ms, until_ms = (
            parse_instant(_instant(since), "since"),
            parse_instant(_instant(until), "until"),
        )
        wanted = None if columns is None else list(dict.fromkeys([ID, TS, *columns]))
        parts = []
        for segment in self.list_segments(endpoint, since, until, shadow=shadow):
            data = self._transport.get_artifact(segment.digest, f"segment {segment.id}")
            frame = decode_segment(data, wanted)
            if since_ms is not None:
                frame = frame[frame[TS] >= since_ms]
            if until_ms is not None:
                frame = frame[frame[TS] < until_ms]
            parts.append(frame)
        if not parts:
            return pd.DataFrame({c: [] for c in wanted or [ID, TS]})
        return pd.concat(parts, ignore_index=True)

    def log_labels(
        self,
        endpoint: str,
        ids: Any,
        labels: Any,
        label_time: Any = None,
    ) -> LabelReceipt:
        """Record ground truth for logged predictions, by prediction id.

        ``label_time`` (one for all or one per id; default now) orders relabels: reading
        takes the label with the latest time, earlier ones stay as history. Unknown ids
        are not stored; the receipt counts them and lists the first 20.
        """
        import pandas as pd

        from modelward.monitoring.log_schemas import LabelsRequest
        from modelward.monitoring.prediction_log import _column, timestamps_ms

        id_list = pd.Series(_column(ids, len(ids), "ids")).astype(str).tolist()
        n = len(id_list)
        label_list = pd.Series(_column(labels, n, "labels"), dtype=object).tolist()
        times = None if label_time is None else timestamps_ms(label_time, n, "label_time").tolist()
        body = self._model(
            LabelsRequest,
            ids=id_list,
            labels=[_plain(v) for v in label_list],
            label_times_ms=times,
        )
        receipt: LabelReceipt = self._call("log_labels", endpoint=endpoint, body=body)
        return receipt


def _plain(value: Any) -> Any:
    """numpy scalars as the Python values JSON knows."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value
