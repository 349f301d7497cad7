"""``Run``: what training code holds while it logs; ends itself when used with ``with``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from modelward.db.base import now_ms
from modelward.tracking.schemas import (
    BatchResult,
    RunArtifactPublic,
    RunInfo,
    RunInputPublic,
    RunPublic,
)

if TYPE_CHECKING:
    from modelward.client.client import Client
    from modelward.client.tracking import MetricsArg, TrackingAPI


class Run:
    """A run being recorded.

    Use it as a context manager: the run ends ``FINISHED`` when the block exits
    normally, ``FAILED`` when it raises, and ``KILLED`` on Ctrl-C.

    Examples
    --------
    >>> with client.start_run("credit-risk", params={"C": 0.5}) as run:  # doctest: +SKIP
    ...     run.log_metrics({"auc": 0.91}, step=0)
    """

    def __init__(self, client: TrackingAPI, info: RunPublic) -> None:
        self._client = client
        self._created = info
        self.id = info.id
        self._ended: RunInfo | None = None

    @property
    def info(self) -> RunPublic:
        """The run as stored now: status, params, latest metrics, tags, inputs."""
        return self._client.get_run(self.id)

    @property
    def name(self) -> str:
        return self._created.name

    @property
    def experiment(self) -> str:
        return self._created.experiment

    # -- params, metrics, tags -------------------------------------------------------
    def log_param(self, key: str, value: Any) -> None:
        """Record one hyper-parameter (stored as a string; it cannot change later)."""
        self._client.log_batch(self.id, params={key: value})

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Record several hyper-parameters in one request."""
        self._client.log_batch(self.id, params=params)

    def log_metric(
        self, key: str, value: float, step: int = 0, timestamp: int | None = None
    ) -> None:
        """Record one metric point; ``timestamp`` is milliseconds since the epoch (default now)."""
        self._client.log_batch(self.id, metrics=[(key, value, step, timestamp)])

    def log_metrics(
        self, metrics: Mapping[str, float], step: int = 0, timestamp: int | None = None
    ) -> None:
        """Record several metrics at one step in one request."""
        ts = now_ms() if timestamp is None else timestamp
        self._client.log_batch(self.id, metrics=[(k, v, step, ts) for k, v in metrics.items()])

    def log_batch(
        self,
        metrics: MetricsArg = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> BatchResult:
        """Up to 1,000 metric points (dicts or ``(key, value, step, timestamp)`` tuples),
        100 params and 100 tags in one request."""
        return self._client.log_batch(self.id, metrics=metrics, params=params, tags=tags)

    def set_tag(self, key: str, value: Any) -> None:
        """Set a tag (tags may change, even after the run ended)."""
        self._client.log_batch(self.id, tags={key: value})

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Set several tags in one request."""
        self._client.log_batch(self.id, tags=tags)

    def delete_tag(self, key: str) -> None:
        self._client.delete_run_tag(self.id, key)

    # -- inputs, artifacts, models ---------------------------------------------------
    def log_input(self, dataset: Any, role: str = "training") -> RunInputPublic:
        """Record a dataset version the run used: a registered version or ``"name/3"``."""
        return self._client.log_run_input(self.id, dataset, role=role)

    def log_artifact(
        self, local_path: str | Path, artifact_path: str | None = None
    ) -> list[RunArtifactPublic]:
        """Upload a file to ``artifact_path/<file name>`` (a folder: every file in it)."""
        return self._client.log_run_artifact(self.id, local_path, artifact_path)

    def log_artifacts(
        self, local_dir: str | Path, artifact_path: str | None = None
    ) -> list[RunArtifactPublic]:
        """Upload the files of a folder directly under ``artifact_path``."""
        return self._client.log_run_artifacts(self.id, local_dir, artifact_path)

    def log_text(self, text: str, artifact_file: str) -> RunArtifactPublic:
        """Store a string (UTF-8) as an artifact of the run."""
        return self._client.log_run_artifact_bytes(self.id, text.encode(), artifact_file)

    def log_model(
        self,
        model: Any,
        name: str,
        signature: Any = None,
        flavor: str | None = None,
        trusted: bool = False,
        parent: Any = None,
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> Any:
        """Register ``model`` as a new version of ``name``, with this run as its source."""
        client: Client = self._client  # type: ignore[assignment]
        return client.create_model_version(  # type: ignore[attr-defined]
            name,
            model,
            run_id=self.id,
            signature=signature,
            flavor=flavor,
            trusted=trusted,
            parent=parent,
            description=description,
            tags=dict(tags) if tags is not None else None,
        )

    # -- ending ----------------------------------------------------------------------
    def end(self, status: str = "FINISHED") -> RunInfo:
        """End the run (FINISHED, FAILED or KILLED); ending twice returns the first end."""
        if self._ended is None:
            self._ended = self._client.end_run(self.id, status)
        return self._ended

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._ended is not None:
            return
        if exc_type is None:
            self.end("FINISHED")
            return
        status = "KILLED" if issubclass(exc_type, KeyboardInterrupt) else "FAILED"
        try:
            self.end(status)
        except Exception:  # the block's own exception is the one the caller needs to see
            pass

    def __repr__(self) -> str:
        return f"<Run {self.id} {self._created.experiment}/{self._created.name}>"
