"""What an evaluation reads: the version's model and a dataset version that fits it."""

from __future__ import annotations

import functools
import hashlib
from importlib import metadata
from pathlib import Path
from typing import Any

from modelward.datasets.tables import DatasetVersion
from modelward.errors import InvalidInput
from modelward.registry.tables import ModelVersion
from modelward.uow import UnitOfWork

_NUMERIC = {"integer", "long", "float", "double", "boolean"}


def load_model(uow: UnitOfWork, row: ModelVersion) -> Any:
    """The version's model, its artifact re-hashed on read; untrusted pickles stay refused."""
    from modelward.registry.flavors import get_flavor

    ref = f"{row.model.name}/{row.version}"
    if row.flavor == "files":
        raise InvalidInput(
            f"{ref} is a 'files' artifact: only loadable models can be evaluated", field="ref"
        )
    data = uow.artifacts.get_bytes(row.digest, f"model version {ref}")
    return get_flavor(row.flavor).load(data, row.flavor_meta or {}, trusted=row.trusted, dst=None)


def load_frame(uow: UnitOfWork, row: DatasetVersion) -> Any:
    from modelward.datasets.hashing import from_parquet

    return from_parquet(uow.artifacts.get_bytes(row.digest, f"dataset {row.ref}"))


def check_fits(
    frame: Any, version: ModelVersion, dataset: DatasetVersion, columns: dict[str, list[str]]
) -> None:
    """Refuse data that cannot be scored: name every missing or mistyped column."""
    import pandas as pd

    ref = f"{version.model.name}/{version.version}"
    for field, names in columns.items():
        missing = [c for c in names if c not in frame.columns]
        if missing:
            raise InvalidInput(
                f"{field}: dataset {dataset.ref} has no column {', '.join(map(repr, missing))}",
                field=field,
            )
    inputs = (version.signature or {}).get("inputs") or []
    missing = [c["name"] for c in inputs if c["name"] not in frame.columns]
    if missing:
        raise InvalidInput(
            f"dataset {dataset.ref} does not match the signature of {ref}: missing input "
            f"column(s) {', '.join(missing)}",
            field="dataset",
        )
    mistyped = [
        f"{c['name']} ({c['type']} expected, {frame[c['name']].dtype} found)"
        for c in inputs
        if c["type"] in _NUMERIC and not pd.api.types.is_numeric_dtype(frame[c["name"]])
    ]
    if mistyped:
        raise InvalidInput(
            f"dataset {dataset.ref} does not match the signature of {ref}: {', '.join(mistyped)}",
            field="dataset",
        )


def signature_features(version: ModelVersion) -> list[str] | None:
    inputs = (version.signature or {}).get("inputs") or []
    return [c["name"] for c in inputs] or None


@functools.cache
def code_version() -> dict[str, str]:
    """What computed the evidence: library versions and a digest of the evaluation code."""
    from modelward import __version__

    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    out = {"modelward": __version__, "evaluation_code": digest.hexdigest()}
    for dist in ("scikit-learn", "fairlearn", "numpy", "pandas", "scipy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out
