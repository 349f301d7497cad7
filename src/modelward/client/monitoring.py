"""SDK verbs of the monitors: drift, data quality and performance per window, monitor runs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from modelward.client.base import ClientBase
from modelward.monitoring.monitor_schemas import MonitorResultPublic, MonitorRunSummary

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MonitoringAPI", "MonitorRunSummary"]

FRAME_COLUMNS = ["window_start", "window_end", "feature", "method", "statistic", "threshold"]


def _instant(value: Any) -> str | None:
    """ISO 8601 text for a datetime, a pandas Timestamp or text (naive means UTC)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC).isoformat()
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    import pandas as pd

    return str(pd.Timestamp(value).isoformat())


def results_frame(rows: list[MonitorResultPublic], kind: str) -> pd.DataFrame:
    """One row per window and feature; the verdict column named for the monitor."""
    import pandas as pd

    verdict = {"drift": "drifted", "quality": "flagged", "performance": "flagged"}[kind]
    columns = [*FRAME_COLUMNS, "p_value", verdict, "rows", "error_bound", "details"]
    records = [
        {
            "window_start": r.window_start,
            "window_end": r.window_end,
            "feature": r.feature,
            "method": r.method,
            "statistic": r.statistic,
            "threshold": r.threshold,
            "p_value": r.p_value,
            verdict: r.flagged,
            "rows": r.rows,
            "error_bound": r.details.get("error_bound"),
            "details": r.details,
        }
        for r in rows
    ]
    frame = pd.DataFrame.from_records(records, columns=columns)
    for col in ("window_start", "window_end"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    for col in ("statistic", "threshold", "p_value", "error_bound"):
        frame[col] = frame[col].astype("float64")
    return frame


class MonitoringAPI(ClientBase):
    def _results(self, op: str, endpoint: str, since: Any, until: Any, window: str) -> Any:
        return self._call(
            op, endpoint=endpoint, since=_instant(since), until=_instant(until), window=window
        )

    def drift(
        self, endpoint: str, *, since: Any = None, until: Any = None, window: str = "1d"
    ) -> pd.DataFrame:
        """Drift per window and feature of the predictions made in ``[since, until)``.

        Parameters
        ----------
        endpoint:
            The endpoint's name.
        since, until:
            Prediction-time period (datetimes, ISO text or epoch ms; naive is UTC); default
            the 7 windows up to now. Windows are aligned to multiples of their size since
            the UTC epoch and cover the whole period.
        window:
            ``1h``, ``6h``, ``1d``, ``7d`` … (whole hours: the log is profiled per hour).

        Returns
        -------
        pandas.DataFrame
            window_start, window_end, feature (inputs, ``__prediction__``, ``__score__`` and
            ``__dataset__``: the drifted share), method, statistic, threshold, p_value,
            drifted, rows, error_bound, details.
        """
        rows = self._results("drift_report", endpoint, since, until, window)
        return results_frame(rows, "drift")

    def quality(
        self, endpoint: str, *, since: Any = None, until: Any = None, window: str = "1d"
    ) -> pd.DataFrame:
        """Null rate, out-of-range and unseen shares, type errors per window and feature,
        and the window's volume (feature ``__volume__``); ``details.checks`` has each."""
        rows = self._results("quality_report", endpoint, since, until, window)
        return results_frame(rows, "quality")

    def performance(
        self, endpoint: str, *, since: Any = None, until: Any = None, window: str = "1d"
    ) -> pd.DataFrame:
        """Label coverage, realized metrics (``method == "realized"``) and, for binary
        classifiers with scores, estimated ones (``estimated.accuracy``, ``estimated.roc_auc``
        with ``details.status`` confirmed / withdrawn / pending) per window."""
        rows = self._results("performance_report", endpoint, since, until, window)
        return results_frame(rows, "performance")

    def monitor_run(
        self, endpoint: str | None = None, *, since: Any = None, until: Any = None
    ) -> MonitorRunSummary:
        """Compute and store every complete window since the last run (or ``since``), for
        one endpoint or every active one; alert rules see the results."""
        out: MonitorRunSummary = self._call(
            "monitor_run", endpoint=endpoint, since=_instant(since), until=_instant(until)
        )
        return out

    def monitor_backfill(
        self, endpoint: str | None = None, *, since: Any, until: Any = None
    ) -> MonitorRunSummary:
        """Recompute and store the windows of ``[since, until)`` over logged segments."""
        return self.monitor_run(endpoint, since=since, until=until)
