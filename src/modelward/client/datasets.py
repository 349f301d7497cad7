"""SDK verbs: datasets (register by content, list, get, load)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from modelward.client.base import ClientBase
from modelward.datasets.schemas import DatasetSummary, DatasetVersion, DatasetVersionCreate
from modelward.errors import InvalidInput, NotFound
from modelward.validation import check_name

if TYPE_CHECKING:
    import pandas as pd

MAX_DESCRIPTION = 5000


def _quiet(phase: str, done: int, total: int) -> None:
    pass


class DatasetsAPI(ClientBase):
    def register_dataset(
        self,
        name: str,
        data: Any,
        description: str = "",
        *,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> DatasetVersion:
        """Register ``data`` as the next version of dataset ``name`` (created if new).

        The data is hashed, profiled and stored as Parquet. Content already registered
        under ``name`` is not stored again: its existing version is returned.

        Parameters
        ----------
        name:
            The dataset's name.
        data:
            A pandas DataFrame, or a path to a ``.parquet`` or ``.csv`` (UTF-8) file. A
            named index is kept as columns; an unnamed one is dropped.
        description:
            What this version holds.
        progress:
            Called as ``progress(phase, done, total)`` with phases ``read``, ``hash``
            (rows), ``profile``, ``encode``, ``upload`` (bytes) and ``register``.

        Returns
        -------
        DatasetVersion
        """
        from modelward.datasets.hashing import content_hash, schema_of, to_parquet
        from modelward.datasets.profile import profile_dataframe
        from modelward.datasets.readers import read_data

        check_name(name, "name")
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
            raise InvalidInput(
                f"description must be text of at most {MAX_DESCRIPTION} characters",
                field="description",
            )
        report = progress or _quiet
        report("read", 0, 1)
        frame = read_data(data)
        report("read", 1, 1)
        digest_of_content = content_hash(frame, report)
        existing = self._version_with_hash(name, digest_of_content)
        if existing is not None:
            return existing
        report("encode", 0, 1)
        blob = to_parquet(frame)
        report("encode", 1, 1)
        report("profile", 0, 1)
        profile = profile_dataframe(frame)
        report("profile", 1, 1)
        report("upload", 0, len(blob))
        digest = self._transport.put_artifact(blob)
        report("upload", len(blob), len(blob))
        body = self._model(
            DatasetVersionCreate,
            name=name,
            description=description,
            content_hash=digest_of_content,
            digest=digest,
            size_bytes=len(blob),
            num_rows=len(frame),
            num_columns=frame.shape[1],
            schema=schema_of(frame),
            profile=profile,
        )
        report("register", 0, 1)
        version: DatasetVersion = self._call("register_dataset_version", body=body)
        report("register", 1, 1)
        return version

    def _version_with_hash(self, name: str, content_hash: str) -> DatasetVersion | None:
        """The version of ``name`` holding this content, if any (saves hashing's upload)."""
        try:
            found = self._call("list_dataset_versions", name=name, content_hash=content_hash)
        except NotFound:
            return None
        return found[0] if found else None

    def list_datasets(self) -> list[DatasetSummary]:
        """Every dataset with its latest version, by name."""
        return self._call("list_datasets")  # type: ignore[no-any-return]

    def list_dataset_versions(self, name: str) -> list[DatasetVersion]:
        """The versions of dataset ``name``, oldest first."""
        return self._call("list_dataset_versions", name=name)  # type: ignore[no-any-return]

    def get_dataset(self, ref: str | DatasetVersion) -> DatasetVersion:
        """One dataset version: ``"name"`` or ``"name@latest"`` (latest), or ``"name/3"``."""
        if isinstance(ref, DatasetVersion):
            ref = ref.ref
        if not isinstance(ref, str):
            raise InvalidInput(
                "a dataset reference must be a string like 'name/3'", field="dataset"
            )
        return self._call("get_dataset_version", ref=ref)  # type: ignore[no-any-return]

    def load_dataset(self, ref: str | DatasetVersion) -> pd.DataFrame:
        """The data of a dataset version, its blob's digest verified on download."""
        from modelward.datasets.hashing import from_parquet

        version = self.get_dataset(ref)
        return from_parquet(self._transport.get_artifact(version.digest, version.ref))
