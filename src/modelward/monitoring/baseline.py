"""The baseline of a model version: what production data and predictions are compared to.

Built from the version's training dataset (its input with role ``training``, else its first
input): per feature the bins (the dataset profile's decile edges, and up to 201 quantile
points as a finer sketch) or the categories, the model's own predictions and scores on the
training data, and the training data's profile in those bins.

The baseline is a pure function of the model artifact and the dataset content, so building
it twice yields the same JSON and the same ``digest``. It is stored as an artifact (content
addressed) and its digest remembered per process, keyed by (version id, dataset digest), so
each process builds it at most once.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import TYPE_CHECKING, Any

from modelward.audit.chain import canonical_json
from modelward.datasets.tables import DatasetVersion
from modelward.errors import InvalidInput
from modelward.monitoring.profiles import PREDICTION, SCORE, profile_frame
from modelward.registry.tables import ModelVersion
from modelward.uow import UnitOfWork

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

SKETCH_POINTS = 201
MAX_CATEGORIES = 1000
_DIGESTS: dict[tuple[int, str], str] = {}
_LOCK = threading.Lock()


def training_dataset(uow: UnitOfWork, version: ModelVersion) -> DatasetVersion:
    """The version's input with role ``training``, else its first input."""
    inputs = sorted(version.inputs, key=lambda i: (i.role != "training", i.dataset_version_id))
    if not inputs:
        raise InvalidInput(
            f"{version.model.name}/{version.version}: version has no training dataset: "
            "log one with run.log_input(..., role='training')",
            field="version",
        )
    return uow.session.get_one(DatasetVersion, inputs[0].dataset_version_id)


def baseline_for(uow: UnitOfWork, version: ModelVersion) -> dict[str, Any]:
    """The baseline of ``version``: loaded from the artifact store when this process built it,
    built (deterministically) otherwise. The returned dict carries its ``digest``."""
    dataset = training_dataset(uow, version)
    key = (version.id, dataset.digest)
    with _LOCK:
        digest = _DIGESTS.get(key)
    if digest is not None and uow.artifacts.exists(digest):
        stored: dict[str, Any] = json.loads(uow.artifacts.get_bytes(digest, "baseline"))
        return {**stored, "digest": digest}
    baseline = build_baseline(uow, version, dataset)
    digest = uow.artifacts.put_bytes(canonical_json(baseline).encode())
    with _LOCK:
        _DIGESTS[key] = digest
    return {**baseline, "digest": digest}


def baseline_digest(baseline: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of a baseline without its ``digest`` key."""
    body = {k: v for k, v in baseline.items() if k != "digest"}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def build_baseline(
    uow: UnitOfWork, version: ModelVersion, dataset: DatasetVersion
) -> dict[str, Any]:
    from modelward.evaluation.inputs import load_frame, load_model

    frame = load_frame(uow, dataset)
    model = load_model(uow, version)
    names = feature_names(version, frame, model)
    missing = [n for n in names if n not in frame.columns]
    if missing:
        raise InvalidInput(
            f"training dataset {dataset.ref} lacks input column(s) {', '.join(missing)} of "
            f"{version.model.name}/{version.version}",
            field="version",
        )
    x = frame[names]
    prediction, score = predict(model, x)
    stored = {c["name"]: c for c in (dataset.profile or {}).get("columns", [])}
    features: dict[str, Any] = {}
    for name in names:
        spec = feature_spec(x[name], stored.get(name))
        if spec is not None:
            features[name] = spec
    features[PREDICTION] = feature_spec(prediction, None, categorical=_is_classifier(model))
    if score is not None:
        features[SCORE] = feature_spec(score, None)
    baseline: dict[str, Any] = {
        "version": f"{version.model.name}/{version.version}",
        "dataset": dataset.ref,
        "rows": len(frame),
        "features": features,
    }
    baseline["profile"] = profile_frame(x, baseline, prediction=prediction, score=score)
    return baseline


def feature_names(version: ModelVersion, frame: pd.DataFrame, model: Any) -> list[str]:
    """Signature inputs; without a signature the columns the model was fitted on, else every
    column of the training data."""
    inputs = (version.signature or {}).get("inputs") or []
    if inputs:
        return [c["name"] for c in inputs]
    fitted = getattr(model, "feature_names_in_", None)
    if fitted is not None:
        return [str(c) for c in fitted]
    return [str(c) for c in frame.columns]


def _is_classifier(model: Any) -> bool:
    return hasattr(model, "classes_") or hasattr(model, "predict_proba")


def predict(model: Any, x: pd.DataFrame) -> tuple[pd.Series, pd.Series | None]:
    """The model's predictions and, for a binary classifier, its positive-class scores."""
    import numpy as np
    import pandas as pd

    if x.empty:
        return pd.Series([], dtype="float64"), None
    try:
        prediction = pd.Series(np.asarray(model.predict(x)).reshape(len(x), -1)[:, 0])
        score = None
        if hasattr(model, "predict_proba"):
            proba = np.asarray(model.predict_proba(x))
            if proba.ndim == 2 and proba.shape[1] == 2:
                score = pd.Series(proba[:, 1].astype("float64"))
    except Exception as exc:  # the model is user code: any failure is a bad input
        raise InvalidInput(
            f"the model cannot score its training data: {type(exc).__name__}: {exc}",
            field="version",
        ) from None
    return prediction, score


def feature_spec(
    series: pd.Series, stored: dict[str, Any] | None, *, categorical: bool | None = None
) -> dict[str, Any] | None:
    """Bins or categories of one column; ``None`` for kinds not monitored (datetimes)."""
    from modelward.datasets.profile import kind_of

    kind = kind_of(series.dtype)
    if categorical is True or (categorical is None and kind == "categorical"):
        return {"kind": "categorical", "categories": baseline_categories(series)}
    if kind != "numeric":
        return None
    return numeric_spec(series, stored)


def baseline_categories(series: pd.Series) -> list[str]:
    from modelward.monitoring.profiles import category_counts

    counts = category_counts(series)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CATEGORIES]
    return sorted(k for k, _ in ranked)


def numeric_spec(series: pd.Series, stored: dict[str, Any] | None) -> dict[str, Any]:
    import numpy as np

    from modelward.datasets.profile import histogram_edges

    x = series.to_numpy(dtype="float64", na_value=np.nan)
    finite = x[np.isfinite(x)]
    if finite.size == 0:  # nothing to bin on: one closed bin at 0, everything else flows out
        return {
            "kind": "numeric",
            "edges": [0.0, 0.0],
            "sketch_edges": [0.0, 0.0],
            "mean": None,
            "std": None,
            "min": None,
            "max": None,
        }
    histogram = ((stored or {}).get("numeric") or {}).get("histogram") or {}
    edges = histogram.get("edges") or histogram_edges(finite).tolist()
    with np.errstate(over="ignore", invalid="ignore"):
        mean, std = float(finite.mean()), float(finite.std(ddof=0))
    return {
        "kind": "numeric",
        "edges": [float(e) for e in edges],
        "sketch_edges": sketch_edges(finite),
        "mean": _safe(mean),
        "std": _safe(std),
        "min": float(finite.min()) + 0.0,
        "max": float(finite.max()) + 0.0,
    }


def sketch_edges(finite: np.ndarray) -> list[float]:
    """Quantiles p0, p0.5, …, p100 taken as data values, deduplicated (at least 2 points)."""
    import numpy as np

    from modelward.datasets.profile import HISTOGRAM_BINS
    from modelward.monitoring.sketch import inverted_cdf

    qs = np.linspace(0.0, 1.0, SKETCH_POINTS)
    # The deciles exactly as histogram_edges computes them: the decile edges are then sketch
    # edges too, and decile counts are sums of sketch counts (profiles.coarsened).
    qs[:: (SKETCH_POINTS - 1) // HISTOGRAM_BINS] = np.linspace(0.0, 1.0, HISTOGRAM_BINS + 1)
    edges = np.unique(inverted_cdf(finite, qs))
    if edges.size == 1:
        edges = np.array([edges[0], edges[0]])
    return [float(e) + 0.0 for e in edges]


def _safe(value: float) -> float | None:
    import math

    return value + 0.0 if math.isfinite(value) else None
