"""SDK verbs: experiments and runs, and the ``Run`` object training code holds."""

from __future__ import annotations

import numbers
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from modelward.artifacts import validate_artifact_path
from modelward.client.base import ClientBase, invalid_from_pydantic
from modelward.db.base import now_ms
from modelward.errors import InvalidInput, NotFound
from modelward.tracking.schemas import (
    BatchResult,
    ExperimentCreate,
    ExperimentPublic,
    LogBatch,
    MetricPoint,
    RunArtifactCreate,
    RunArtifactPublic,
    RunCreate,
    RunInfo,
    RunInputCreate,
    RunInputPublic,
    RunPage,
    RunPublic,
    RunSearch,
    RunUpdate,
)

if TYPE_CHECKING:
    from modelward.client.run import Run

MetricsArg = Iterable[Mapping[str, Any] | tuple[Any, ...]] | None


def _metric(item: Mapping[str, Any] | tuple[Any, ...], default_ts: int) -> Any:
    """One point as the wire's [key, value, step, timestamp] from a dict or a tuple."""
    if isinstance(item, tuple | list):
        n = len(item)
        key = item[0] if n > 0 else None
        value = item[1] if n > 1 else None
        step = item[2] if n > 2 else 0
        timestamp = item[3] if n > 3 else None
    elif isinstance(item, Mapping):
        key, value = item.get("key"), item.get("value")
        step, timestamp = item.get("step", 0), item.get("timestamp")
    else:
        return item  # refused by validation, which names the position
    # numpy scalars and other numbers become plain float / int; anything else is left
    # for validation to refuse with the field named. (type() checks first: they are cheap.)
    if type(value) is not float and isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = float(value)
    if step is None:
        step = 0
    elif (
        type(step) is not int and isinstance(step, numbers.Integral) and not isinstance(step, bool)
    ):
        step = int(step)
    return [key, value, step, default_ts if timestamp is None else timestamp]


def _stringify(values: Mapping[str, Any] | None) -> dict[str, Any]:
    return {str(k): v if isinstance(v, str) else str(v) for k, v in (values or {}).items()}


class TrackingAPI(ClientBase):
    # -- experiments ---------------------------------------------------------------
    def create_experiment(self, name: str, description: str = "") -> ExperimentPublic:
        """Create an experiment."""
        body = self._model(ExperimentCreate, name=name, description=description)
        return self._call("create_experiment", body=body)  # type: ignore[no-any-return]

    def get_experiment(self, name: str) -> ExperimentPublic:
        """One experiment by name."""
        return self._call("get_experiment", name=name)  # type: ignore[no-any-return]

    def list_experiments(self) -> list[ExperimentPublic]:
        """Every experiment."""
        return self._call("list_experiments")  # type: ignore[no-any-return]

    # -- runs ----------------------------------------------------------------------
    def start_run(
        self,
        experiment: str,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        name: str | None = None,
        *,
        capture_environment: bool = True,
    ) -> Run:
        """Start a run in ``experiment`` (created if missing).

        Parameters
        ----------
        experiment:
            Experiment name.
        params:
            Hyper-parameters; values are stored as strings and cannot change later.
        tags:
            Mutable labels.
        name:
            A readable run name; generated when omitted.
        capture_environment:
            Record the git commit and dirty flag of the working directory, the Python
            and key package versions, host and user as ``mw.*`` tags.

        Returns
        -------
        Run
            A context manager: the run ends FINISHED on normal exit, FAILED on an exception.
        """
        from modelward.client.run import Run

        all_tags: dict[str, Any] = {}
        if capture_environment:
            from modelward.tracking.environment import capture_environment as capture

            all_tags.update(capture())
        all_tags.update(_stringify(tags))
        body = self._model(
            RunCreate, experiment=experiment, name=name, params=_stringify(params), tags=all_tags
        )
        info: RunPublic = self._call("create_run", body=body)
        return Run(self, info)

    def get_run(self, run_id: str) -> RunPublic:
        """A run with its params, latest metrics, tags and input datasets."""
        return self._call("get_run", run_id=run_id)  # type: ignore[no-any-return]

    def update_run(
        self, run_id: str, *, name: str | None = None, status: str | None = None
    ) -> RunInfo:
        """Rename a run or set its status (ending it stamps its end time)."""
        body = self._model(RunUpdate, name=name, status=status)
        return self._call("update_run", run_id=run_id, body=body)  # type: ignore[no-any-return]

    def end_run(self, run_id: str, status: str = "FINISHED") -> RunInfo:
        """End a run with FINISHED, FAILED or KILLED."""
        if status == "RUNNING":
            raise InvalidInput("a run ends with FINISHED, FAILED or KILLED", field="status")
        return self.update_run(run_id, status=status)

    def delete_run(self, run_id: str) -> RunInfo:
        """Mark a run deleted (kept for lineage; hidden from search by default)."""
        return self._call("delete_run", run_id=run_id)  # type: ignore[no-any-return]

    def restore_run(self, run_id: str) -> RunInfo:
        """Bring a deleted run back."""
        return self._call("restore_run", run_id=run_id)  # type: ignore[no-any-return]

    def log_batch(
        self,
        run_id: str,
        metrics: MetricsArg = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> BatchResult:
        """Log up to 1,000 metric points, 100 params and 100 tags in one request.

        ``metrics`` items are ``{"key", "value", "step", "timestamp"}`` dicts or
        ``(key, value, step, timestamp)`` tuples; step defaults to 0 and timestamp to now.
        """
        ts = now_ms()
        try:
            body = LogBatch.from_points(
                metrics=[_metric(m, ts) for m in metrics or ()],
                params=_stringify(params),
                tags=_stringify(tags),
            )
        except ValidationError as exc:
            raise invalid_from_pydantic(exc) from None
        return self._call("log_batch", run_id=run_id, body=body)  # type: ignore[no-any-return]

    def delete_run_tag(self, run_id: str, key: str) -> None:
        """Remove a tag from a run."""
        self._call("delete_run_tag", run_id=run_id, key=key)

    def get_metric_history(self, run_id: str, key: str) -> list[MetricPoint]:
        """Every logged point of one metric, ordered by step then time."""
        return self._call("get_metric_history", run_id=run_id, key=key)  # type: ignore[no-any-return]

    def search_runs(
        self,
        experiments: str | list[str],
        filter: str = "",
        order_by: list[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        *,
        include_deleted: bool = False,
    ) -> RunPage:
        """Runs matching a filter such as ``metrics.auc > 0.8 and params.depth = "5"``.

        Parameters
        ----------
        experiments:
            One experiment name or several.
        filter:
            Conditions on ``metrics.``, ``params.``, ``tags.`` and ``attributes.``
            (status, name, run_id, created_by, start_time, end_time) joined by ``and``;
            operators ``= != < <= > >=``, ``like``/``ilike``, ``in (…)``; back-quote keys
            with spaces or dots.
        order_by:
            Items like ``"metrics.auc desc"``; runs lacking the key sort last. Default:
            newest first.
        max_results:
            Page size, at most 10,000.
        page_token:
            ``next_page_token`` of the previous page.
        include_deleted:
            Also return deleted runs.
        """
        names = [experiments] if isinstance(experiments, str) else list(experiments)
        body = self._model(
            RunSearch,
            experiments=names,
            filter=filter,
            order_by=list(order_by or []),
            max_results=max_results,
            page_token=page_token,
            include_deleted=include_deleted,
        )
        return self._call("search_runs", body=body)  # type: ignore[no-any-return]

    # -- artifacts and inputs ---------------------------------------------------------
    def log_run_artifact(
        self, run_id: str, local_path: str | Path, artifact_path: str | None = None
    ) -> list[RunArtifactPublic]:
        """Upload a file (or every file of a folder) under ``artifact_path`` of the run.

        A file lands at ``artifact_path/<file name>``; a folder's files keep their
        relative paths under ``artifact_path/<folder name>``.
        """
        src = Path(local_path)
        if not src.exists():
            raise NotFound(f"no file or folder at {str(src)!r}", field="local_path")
        prefix = validate_artifact_path(artifact_path, "artifact_path") if artifact_path else ""
        base = f"{prefix}/{src.name}" if prefix else src.name
        files = [(src, base)] if src.is_file() else _walk(src, base)
        return [self._log_artifact_file(run_id, f, logical) for f, logical in files]

    def log_run_artifacts(
        self, run_id: str, local_dir: str | Path, artifact_path: str | None = None
    ) -> list[RunArtifactPublic]:
        """Upload a folder's files, keeping relative paths, directly under ``artifact_path``."""
        src = Path(local_dir)
        if not src.is_dir():
            raise NotFound(f"no folder at {str(src)!r}", field="local_dir")
        prefix = validate_artifact_path(artifact_path, "artifact_path") if artifact_path else ""
        files = [(f, f"{prefix}/{rel}" if prefix else rel) for f, rel in _walk(src, "")]
        return [self._log_artifact_file(run_id, f, logical) for f, logical in files]

    def log_run_artifact_bytes(
        self, run_id: str, data: bytes, artifact_file: str
    ) -> RunArtifactPublic:
        """Store ``data`` as the run's artifact at ``artifact_file``."""
        path = validate_artifact_path(artifact_file, "artifact_file")
        digest = self._transport.put_artifact(data)
        body = self._model(RunArtifactCreate, path=path, digest=digest, size=len(data))
        return self._call("log_run_artifact", run_id=run_id, body=body)  # type: ignore[no-any-return]

    def _log_artifact_file(self, run_id: str, file: Path, logical: str) -> RunArtifactPublic:
        return self.log_run_artifact_bytes(run_id, file.read_bytes(), logical)

    def list_run_artifacts(self, run_id: str, prefix: str | None = None) -> list[RunArtifactPublic]:
        """The run's artifacts (optionally those at or under ``prefix``)."""
        return self._call("list_run_artifacts", run_id=run_id, prefix=prefix)  # type: ignore[no-any-return]

    def read_run_artifact(self, run_id: str, path: str) -> bytes:
        """The bytes of one artifact, verified against its digest."""
        record: RunArtifactPublic = self._call("get_run_artifact", run_id=run_id, path=path)
        return self._transport.get_artifact(record.digest, f"{run_id}/{record.path}")

    def download_run_artifact(self, run_id: str, path: str, dst: str | Path | None = None) -> Path:
        """Download one artifact, or every artifact under a folder path, into ``dst``.

        Returns the local path of the file or folder; ``dst`` defaults to a new temporary
        folder. Every byte is verified against its digest before it is written.
        """
        norm = validate_artifact_path(path, "path")
        records = self.list_run_artifacts(run_id, prefix=norm)
        if not records:
            raise NotFound(f"run {run_id} has no artifact at or under {norm!r}", field="path")
        root = Path(dst) if dst is not None else Path(tempfile.mkdtemp(prefix="modelward-"))
        parent = norm.rsplit("/", 1)[0] if "/" in norm else ""
        for record in records:
            rel = record.path[len(parent) + 1 :] if parent else record.path
            target = root.joinpath(*rel.split("/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(
                self._transport.get_artifact(record.digest, f"{run_id}/{record.path}")
            )
        return root.joinpath(*norm.rsplit("/", 1)[-1:])

    def log_run_input(self, run_id: str, dataset: Any, role: str = "training") -> RunInputPublic:
        """Record that the run used a dataset version (an object or a ``name/3`` reference)."""
        ref = dataset if isinstance(dataset, str) else _dataset_ref(dataset)
        body = self._model(RunInputCreate, dataset=ref, role=role)
        return self._call("log_run_input", run_id=run_id, body=body)  # type: ignore[no-any-return]


def _dataset_ref(dataset: Any) -> str:
    name, version = getattr(dataset, "name", None), getattr(dataset, "version", None)
    if not isinstance(name, str) or not isinstance(version, int):
        raise InvalidInput(
            "dataset must be a registered dataset version or a reference like 'name/3'",
            field="dataset",
        )
    return f"{name}/{version}"


def _walk(folder: Path, base: str) -> list[tuple[Path, str]]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    rels = [f.relative_to(folder).as_posix() for f in files]
    return [(f, f"{base}/{rel}" if base else rel) for f, rel in zip(files, rels, strict=True)]
