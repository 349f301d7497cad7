"""Flavors for models with a native, code-free file format: ONNX, XGBoost and LightGBM.

Each stores the library's own serialisation (an ONNX protobuf, XGBoost's UBJSON, LightGBM's
text model), never a pickle, so loading them runs no code from the artifact and needs no
``trusted=True``. The libraries are optional extras and are imported only when a flavor saves
or loads; without them the call fails with the ``pip install`` line that adds them.

What ``load`` returns:

* ``onnx``: an ``onnxruntime.InferenceSession``.
* ``xgboost``: the class that was saved, rebuilt: ``XGBClassifier``, ``XGBRegressor`` or a
  ``Booster``.
* ``lightgbm``: a ``Booster``; for a saved ``LGBMClassifier`` a :class:`LightGBMClassifier`
  around it, with ``classes_``, ``predict`` and ``predict_proba`` as the original had.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from modelward.errors import InvalidInput
from modelward.registry.flavors import FLAVORS, Flavor

# Feature names are recorded in the metadata for people reading it; the artifact holds them
# too. Past this size they are left out, so that wide models stay under the metadata limit.
MAX_NAMES_JSON = 16_000
# LightGBM objectives whose predictions are class probabilities.
LIGHTGBM_PROBABILITY_OBJECTIVES = ("binary", "multiclass", "multiclassova", "cross_entropy")


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """Import an optional library, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise InvalidInput(
            f"{purpose} needs the {module} library, which is not installed: "
            f"pip install 'modelward[{extra}]'",
            field="flavor",
        ) from None


def unreadable(flavor: str, exc: Exception) -> InvalidInput:
    return InvalidInput(
        f"the artifact is not a readable {flavor} model: {type(exc).__name__}: {exc}",
        field="model",
    )


def _names(names: list[str] | None) -> list[str] | None:
    if names is None or len(json.dumps(names)) > MAX_NAMES_JSON:
        return None
    return [str(n) for n in names]


# --------------------------------------------------------------------------- ONNX


class OnnxFlavor(Flavor):
    """ONNX graphs: saved from a ``ModelProto``, its bytes, or a ``.onnx`` file."""

    name = "onnx"

    def save(self, model: Any, *, trusted: bool) -> tuple[bytes, dict[str, Any]]:
        onnx = require("onnx", "onnx", "saving an onnx model")
        proto = _onnx_proto(onnx, model)
        try:
            onnx.checker.check_model(proto)
        except Exception as exc:
            raise InvalidInput(f"the onnx model is not valid: {exc}", field="model") from None
        data = proto.SerializeToString()
        graph = proto.graph
        meta = {
            "format": "onnx",
            "onnx_version": onnx.__version__,
            "ir_version": proto.ir_version,
            "opsets": {op.domain or "ai.onnx": op.version for op in proto.opset_import},
            "producer": f"{proto.producer_name} {proto.producer_version}".strip(),
            "inputs": _names([i.name for i in graph.input]),
            "outputs": _names([o.name for o in graph.output]),
            "classes": _onnx_classes(graph),
        }
        return data, meta

    def load(self, data: bytes, meta: dict[str, Any], *, trusted: bool, dst: Path | None) -> Any:
        ort = require("onnxruntime", "onnx", "loading an onnx model")
        try:
            return ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise unreadable("onnx", exc) from None


def _onnx_proto(onnx: ModuleType, model: Any) -> Any:
    if isinstance(model, onnx.ModelProto):
        return model
    if isinstance(model, bytes | bytearray | memoryview):
        try:
            return onnx.load_model_from_string(bytes(model))
        except Exception as exc:
            raise InvalidInput(f"the bytes are not an onnx model: {exc}", field="model") from None
    if isinstance(model, str | os.PathLike):
        path = Path(model)
        if not path.is_file():
            raise InvalidInput(f"no onnx file at {str(path)!r}", field="model")
        try:
            # External tensor data next to the file is read in, so the artifact is whole.
            return onnx.load(str(path))
        except Exception as exc:
            raise InvalidInput(
                f"{str(path)!r} is not an onnx model: {exc}", field="model"
            ) from None
    raise InvalidInput(
        f"flavor 'onnx' takes an onnx.ModelProto, its bytes or a path to a .onnx file, "
        f"not {type(model).__name__}",
        field="model",
    )


def _onnx_classes(graph: Any) -> list[Any] | None:
    """The class labels a classifier graph declares (ZipMap or the classifier node)."""
    wanted = ("classlabels_int64s", "classlabels_ints", "classlabels_strings")
    for node in graph.node:
        if node.domain != "ai.onnx.ml":
            continue
        for attr in node.attribute:
            if attr.name not in wanted:
                continue
            if attr.strings:
                labels: list[Any] = [s.decode("utf-8", "replace") for s in attr.strings]
            else:
                labels = list(attr.ints)
            return labels if len(json.dumps(labels)) <= MAX_NAMES_JSON else None
    return None


# --------------------------------------------------------------------------- XGBoost


class XGBoostFlavor(Flavor):
    """XGBoost models in XGBoost's own UBJSON format (no pickle)."""

    name = "xgboost"

    def save(self, model: Any, *, trusted: bool) -> tuple[bytes, dict[str, Any]]:
        xgb = require("xgboost", "xgboost", "saving an xgboost model")
        kind = _xgboost_kind(xgb, model)
        try:
            booster = model if kind == "booster" else model.get_booster()
            data = bytes(booster.save_raw(raw_format="ubj"))
            config = json.loads(booster.save_config())
        except Exception as exc:
            raise InvalidInput(
                f"cannot save the xgboost model: {type(exc).__name__}: {exc}", field="model"
            ) from None
        objective = config["learner"]["objective"]["name"]
        n_classes = int(model.n_classes_) if kind == "classifier" else None
        missing = getattr(model, "missing", None)
        meta = {
            "format": "ubj",
            "xgboost_version": xgb.__version__,
            "kind": kind,
            "objective": objective,
            "n_classes": n_classes,
            "n_features": booster.num_features(),
            "feature_names": _names(booster.feature_names),
            "best_iteration": booster.attr("best_iteration"),
            # The scikit-learn wrapper keeps ``missing`` outside the booster; NaN (the default)
            # is recorded as None because the metadata is strict JSON.
            "missing": None if missing is None or missing != missing else float(missing),
        }
        return data, meta

    def load(self, data: bytes, meta: dict[str, Any], *, trusted: bool, dst: Path | None) -> Any:
        xgb = require("xgboost", "xgboost", "loading an xgboost model")
        kind = meta.get("kind", "booster")
        model = {"classifier": xgb.XGBClassifier, "regressor": xgb.XGBRegressor}.get(kind)
        try:
            if model is None:
                booster = xgb.Booster()
                booster.load_model(bytearray(data))
                return booster
            rebuilt = model() if meta.get("missing") is None else model(missing=meta["missing"])
            rebuilt.load_model(bytearray(data))
            return rebuilt
        except Exception as exc:
            raise unreadable("xgboost", exc) from None


def _xgboost_kind(xgb: ModuleType, model: Any) -> str:
    # XGBRFClassifier and XGBRFRegressor are subclasses, so they save the same way.
    if isinstance(model, xgb.XGBClassifier):
        return "classifier"
    if isinstance(model, xgb.XGBRegressor):
        return "regressor"
    if isinstance(model, xgb.Booster):
        return "booster"
    hint = "; save model.get_booster() instead" if isinstance(model, xgb.XGBModel) else ""
    raise InvalidInput(
        f"flavor 'xgboost' takes an XGBClassifier, XGBRegressor or Booster, "
        f"not {type(model).__name__}{hint}",
        field="model",
    )


# --------------------------------------------------------------------------- LightGBM


class LightGBMFlavor(Flavor):
    """LightGBM models as LightGBM's text model (``model_to_string``), no pickle."""

    name = "lightgbm"

    def save(self, model: Any, *, trusted: bool) -> tuple[bytes, dict[str, Any]]:
        lgb = require("lightgbm", "lightgbm", "saving a lightgbm model")
        kind = _lightgbm_kind(lgb, model)
        try:
            booster = model if kind == "booster" else model.booster_
            # Without num_iteration the best iteration found by early stopping is kept.
            text = booster.model_to_string()
        except Exception as exc:
            raise InvalidInput(
                f"cannot save the lightgbm model: {type(exc).__name__}: {exc}", field="model"
            ) from None
        objective = lightgbm_objective(text)
        classes = None
        if kind == "classifier":
            if objective.split(" ")[0] not in LIGHTGBM_PROBABILITY_OBJECTIVES:
                raise InvalidInput(
                    f"an LGBMClassifier with the objective {objective!r} predicts raw scores, "
                    "not classes; save model.booster_ instead",
                    field="model",
                )
            classes = model.classes_.tolist()
        meta = {
            "format": "text",
            "lightgbm_version": lgb.__version__,
            "kind": kind,
            "objective": objective,
            "n_classes": None if classes is None else len(classes),
            "classes": classes,
            "n_features": booster.num_feature(),
            "feature_names": _names(booster.feature_name()),
        }
        return text.encode("utf-8"), meta

    def load(self, data: bytes, meta: dict[str, Any], *, trusted: bool, dst: Path | None) -> Any:
        lgb = require("lightgbm", "lightgbm", "loading a lightgbm model")
        try:
            booster = lgb.Booster(model_str=data.decode("utf-8"))
        except Exception as exc:
            raise unreadable("lightgbm", exc) from None
        if meta.get("kind") == "classifier":
            return LightGBMClassifier(booster, list(meta.get("classes") or []))
        return booster


def _lightgbm_kind(lgb: ModuleType, model: Any) -> str:
    if isinstance(model, lgb.LGBMClassifier):
        return "classifier"
    if isinstance(model, lgb.LGBMRegressor):
        return "regressor"
    if isinstance(model, lgb.Booster):
        return "booster"
    hint = "; save model.booster_ instead" if isinstance(model, lgb.LGBMModel) else ""
    raise InvalidInput(
        f"flavor 'lightgbm' takes an LGBMClassifier, LGBMRegressor or Booster, "
        f"not {type(model).__name__}{hint}",
        field="model",
    )


def lightgbm_objective(text: str) -> str:
    """The ``objective=`` line of a LightGBM text model's header, e.g. ``binary sigmoid:1``."""
    for line in text.splitlines():
        if line.startswith("objective="):
            return line.removeprefix("objective=").strip()
        if line.startswith("Tree="):  # the header is over
            break
    return ""


class LightGBMClassifier:
    """A loaded LightGBM classifier: its booster plus the labels its classes had.

    ``predict_proba`` and ``predict`` answer as ``LGBMClassifier`` does: a binary booster's
    positive-class probability becomes two columns, and a label is the most probable class.
    """

    def __init__(self, booster: Any, classes: list[Any]) -> None:
        import numpy as np

        self.booster = booster
        self.classes_ = np.asarray(classes)
        self.n_features_in_ = booster.num_feature()
        self.feature_names = booster.feature_name()

    def predict_proba(self, X: Any) -> Any:
        import numpy as np

        scores = self.booster.predict(X)
        if scores.ndim == 1:
            return np.vstack((1.0 - scores, scores)).transpose()
        return scores

    def predict(self, X: Any) -> Any:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


# --------------------------------------------------------------------------- registration


def detect_native(model: Any) -> str | None:
    """The native flavor of ``model``, checking only libraries that are already imported.

    An object can only be an XGBoost, LightGBM or ONNX model if its library is loaded, so
    nothing is imported here. This runs before the scikit-learn check: the XGBoost and
    LightGBM estimators are scikit-learn estimators too.
    """
    if "xgboost" in sys.modules:
        xgb = sys.modules["xgboost"]
        if isinstance(model, xgb.Booster | xgb.XGBModel):
            return "xgboost"
    if "lightgbm" in sys.modules:
        lgb = sys.modules["lightgbm"]
        if isinstance(model, lgb.Booster | lgb.LGBMModel):
            return "lightgbm"
    if "onnx" in sys.modules and isinstance(model, sys.modules["onnx"].ModelProto):
        return "onnx"
    return None


FLAVORS.update({f.name: f for f in (OnnxFlavor, XGBoostFlavor, LightGBMFlavor)})
