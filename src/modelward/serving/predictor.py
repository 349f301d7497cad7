"""Predictors: a registered model version, loaded once, answering rows column by column.

``load_predictor`` turns an artifact's bytes into a :class:`Predictor` for its flavor. The
gateway decodes each request into one 1-D numpy array per signature input (float64 for
float/double, int64 for integer/long, bool for boolean, str objects for string/category and
the rest) and calls ``predict(columns, n)``; it gets back labels or values, and class
probabilities when the model has them.

How rows reach the model:

* Numeric and boolean inputs become one float64 matrix in the model's column order; no
  pandas DataFrame is built per call.
* A scikit-learn model fitted on a DataFrame remembers its column names and warns when it is
  given a matrix. When its names are columns of the signature, the predictor keeps a copy of
  the model without those names (see :func:`_without_feature_names`) and feeds it the matrix
  in the names' order.
* A model that selects columns by name (a ``ColumnTransformer``, a ``Pipeline`` starting with
  one) or that takes a string, category, datetime, binary or object input gets a DataFrame,
  built once per call from the columns.

A model that raises while predicting raises out of ``predict`` unchanged. Loading fails with
modelward errors: ``InvalidInput`` for a missing signature, a missing library or unreadable
bytes, ``Forbidden`` for a pickle or joblib version not registered as trusted.
"""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from modelward.errors import InvalidInput, ModelwardError
from modelward.registry.flavors import get_flavor
from modelward.registry.signature import ModelSignature

Columns = dict[str, np.ndarray]
Builder = Callable[[Columns, int], Any]

NUMERIC_TYPES = frozenset({"float", "double", "integer", "long", "boolean"})
CATEGORICAL_TYPES = frozenset({"string", "category"})


@dataclass
class Prediction:
    """What a model answered for ``n`` rows."""

    predictions: np.ndarray  # shape (n,): labels or values
    probabilities: np.ndarray | None  # shape (n, k), or None when the model gives none
    classes: list[Any] | None  # the k class labels, in the probabilities' column order


class Predictor:
    """A loaded model version. ``inputs`` are (column name, signature type), in order."""

    inputs: list[tuple[str, str]]

    def predict(self, columns: Columns, n: int) -> Prediction:
        raise NotImplementedError


def load_predictor(
    flavor: str,
    data: bytes,
    meta: dict[str, Any],
    *,
    trusted: bool,
    signature: dict[str, Any] | None,
) -> Predictor:
    """Load a version's artifact (bytes already digest-verified) as a predictor.

    ``signature`` is the version's stored signature; serving needs its inputs. pickle and
    joblib artifacts load only when ``trusted`` is True.
    """
    inputs = signature_inputs(signature)
    if flavor == "files":
        raise InvalidInput(
            "flavor 'files' stores files, not a model that predicts; it cannot be served",
            field="flavor",
        )
    loader = get_flavor(flavor)
    try:
        model = loader.load(data, meta, trusted=trusted, dst=None)
    except ModelwardError:
        raise
    except Exception as exc:  # the library could not read the bytes
        raise InvalidInput(
            f"the artifact is not a readable {flavor} model: {type(exc).__name__}: {exc}",
            field="model",
        ) from None
    if flavor == "onnx":
        return OnnxPredictor(model, inputs, meta)
    if flavor == "xgboost":
        return XGBoostPredictor(model, inputs, meta)
    if flavor == "lightgbm":
        return LightGBMPredictor(model, inputs)
    return SklearnPredictor(model, inputs)


def signature_inputs(signature: Any) -> list[tuple[str, str]]:
    """(name, type) of each signature input; refuses a missing or empty input list."""
    if isinstance(signature, ModelSignature):
        signature = signature.model_dump()
    if not isinstance(signature, dict) or not signature.get("inputs"):
        raise InvalidInput(
            "signature: this version has no input signature, and a model cannot be served "
            "without an input signature; register it with signature=infer_signature(X)",
            field="signature",
        )
    try:
        parsed = ModelSignature.model_validate(signature)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(
            f"signature: the stored signature is not valid at {where}: {first['msg']}",
            field="signature",
        ) from None
    inputs: list[tuple[str, str]] = [(c.name, c.type) for c in parsed.inputs]
    names = [name for name, _ in inputs]
    if len(set(names)) != len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise InvalidInput(
            f"signature: input columns {twice} appear more than once", field="signature"
        )
    return inputs


# --------------------------------------------------------------------------- building inputs


def _column(columns: Columns, name: str, n: int) -> np.ndarray:
    try:
        values = columns[name]
    except KeyError:
        raise InvalidInput(f"input column {name!r} is missing", field=name) from None
    if len(values) != n:
        raise InvalidInput(f"input column {name!r} has {len(values)} rows, not {n}", field=name)
    return values


def matrix_builder(order: list[str], dtype: Any = np.float64) -> Builder:
    """Builds one (n, len(order)) array of ``dtype`` from the columns, in ``order``."""

    def build(columns: Columns, n: int) -> np.ndarray:
        out = np.empty((n, len(order)), dtype=dtype)
        for j, name in enumerate(order):
            out[:, j] = _column(columns, name, n)
        return out

    return build


def frame_builder(order: list[str], types: dict[str, str]) -> Builder:
    """Builds a DataFrame with the columns in ``order``; category inputs get category dtype."""
    import pandas as pd

    def convert(name: str, values: np.ndarray) -> Any:
        kind = types[name]
        if kind == "category":
            return pd.Categorical(values)
        if kind == "datetime":
            return pd.to_datetime(values)
        return values

    def build(columns: Columns, n: int) -> Any:
        data = {name: convert(name, _column(columns, name, n)) for name in order}
        return pd.DataFrame(data, index=pd.RangeIndex(n))

    return build


def _model_order(
    fitted: list[str] | None, inputs: list[tuple[str, str]], width: int | None, what: str
) -> list[str]:
    """The signature columns in the order the model takes them.

    A model that recorded its column names takes them by name (they must all be signature
    inputs); one that did not takes the signature's columns by position.
    """
    names = [name for name, _ in inputs]
    if fitted is not None and set(fitted) <= set(names):
        return list(fitted)
    if fitted is not None:
        lacking = [f for f in fitted if f not in names]
        raise InvalidInput(
            f"signature: the {what} was fitted on columns the signature lacks: "
            f"{', '.join(lacking[:10])}",
            field="signature",
        )
    if width is not None and width != len(names):
        raise InvalidInput(
            f"signature: the {what} takes {width} columns but the signature has {len(names)} "
            "inputs",
            field="signature",
        )
    return names


def _positive_pair(p: np.ndarray) -> np.ndarray:
    """A binary model's positive-class probability as two columns, as the libraries do."""
    return np.vstack((1.0 - p, p)).transpose()


def _flat(values: Any) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        return array.ravel()
    return array


# --------------------------------------------------------------------------- scikit-learn


def _argmax_exact_types() -> tuple[type, ...]:
    """Classifiers whose ``predict`` is the class of strictly highest ``predict_proba``.

    Trees, forests and histogram gradient boosting compute ``predict`` as exactly that.
    Logistic regression and gradient boosting predict from the decision function, and their
    probabilities are a monotone function of it, so a strict maximum probability marks the
    same class; a tie (possible only through rounding) is answered by calling ``predict``.
    """
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        RandomForestClassifier,
    )
    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.tree import DecisionTreeClassifier, ExtraTreeClassifier

    return (
        LogisticRegression,
        LogisticRegressionCV,
        GradientBoostingClassifier,
        DecisionTreeClassifier,
        ExtraTreeClassifier,
        RandomForestClassifier,
        ExtraTreesClassifier,
        HistGradientBoostingClassifier,
    )


def _final_estimator(model: Any) -> Any:
    from sklearn.pipeline import Pipeline

    while isinstance(model, Pipeline):
        model = model.steps[-1][1]
    return model


def _fitted_names(model: Any) -> list[str] | None:
    try:
        names = getattr(model, "feature_names_in_", None)
    except Exception:  # a property that raises when the model was not fitted on names
        return None
    return None if names is None else [str(n) for n in names]


def _without_feature_names(model: Any) -> Any | None:
    """A copy of ``model`` that takes a plain array, or None if it must have a DataFrame.

    scikit-learn warns when a model fitted on a DataFrame is given an array, because it can
    no longer check the columns by name. The predictor checks them once, at load (the matrix
    is built in the model's own column order), so a shallow copy of the model without
    ``feature_names_in_`` is safe to call on that matrix: the original stays untouched, the
    copy shares its fitted arrays, and no warning filter is needed per call. A pipeline gets
    the same for its first step, the one that sees the input. Column transformers select
    columns by name, so they keep their DataFrame.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        first_name, first = model.steps[0]
        stripped = _without_feature_names(first)
        if stripped is None:
            return None
        pipeline = copy.copy(model)
        pipeline.steps = [(first_name, stripped), *model.steps[1:]]
        return pipeline
    if isinstance(model, ColumnTransformer) or "feature_names_in_" not in getattr(
        model, "__dict__", {}
    ):
        return None
    plain = copy.copy(model)
    del plain.feature_names_in_
    return plain


def _takes_arrays(model: Any, width: int, methods: list[str]) -> bool:
    """Whether ``model`` predicts on a float matrix without a feature-name complaint.

    Run once at load: meta-estimators (calibration, stacking, searches) keep fitted copies
    inside that still carry names, and those models keep the DataFrame path.
    """
    probe = np.zeros((1, width))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            for method in methods:
                getattr(model, method)(probe)
        except Exception:
            return False
    return not any("feature names" in str(w.message) for w in caught)


class SklearnPredictor(Predictor):
    """scikit-learn estimators and pipelines, and pickled objects with ``predict``.

    Classifiers with ``predict_proba`` and ``classes_`` answer probabilities too.
    """

    def __init__(self, model: Any, inputs: list[tuple[str, str]]) -> None:
        if not callable(getattr(model, "predict", None)):
            raise InvalidInput(
                f"a {type(model).__name__} has no predict method and cannot be served",
                field="model",
            )
        self.inputs = inputs
        self.model = model
        found = getattr(model, "classes_", None) if hasattr(model, "predict_proba") else None
        classes = None if found is None else np.asarray(found)
        # Multi-output classifiers have a list of class arrays: they answer labels only.
        self._classes = classes if classes is not None and classes.ndim == 1 else None
        self._class_list = None if self._classes is None else self._classes.tolist()
        self._argmax_exact = self._classes is not None and type(_final_estimator(model)) in (
            _argmax_exact_types()
        )
        self._runner, self._build = self._input_path(model, inputs)

    def _input_path(self, model: Any, inputs: list[tuple[str, str]]) -> tuple[Any, Builder]:
        types = dict(inputs)
        fitted = _fitted_names(model)
        width = getattr(model, "n_features_in_", None)
        order = _model_order(fitted, inputs, width if isinstance(width, int) else None, "model")
        numeric = all(types[name] in NUMERIC_TYPES for name in order)
        if fitted is None:
            # Fitted on an array: it takes one, of objects when some input is not numeric.
            if numeric:
                from modelward.serving.linear import compile_linear

                compiled = compile_linear(model, len(order))
                return compiled or model, matrix_builder(order)
            return model, matrix_builder(order, object)
        if numeric:
            plain = _without_feature_names(model)
            methods = ["predict", "predict_proba"] if self._classes is not None else ["predict"]
            if plain is not None and _takes_arrays(plain, len(order), methods):
                from modelward.serving.linear import compile_linear

                return compile_linear(plain, len(order)) or plain, matrix_builder(order)
        return model, frame_builder(order, types)

    def predict(self, columns: Columns, n: int) -> Prediction:
        X = self._build(columns, n)
        model = self._runner
        if self._classes is None:
            return Prediction(_flat(model.predict(X)), None, None)
        if not self._argmax_exact:
            # Both methods are needed: a pipeline's steps transform the input once, not twice.
            X, model = _transformed(model, X)
        probabilities = np.asarray(model.predict_proba(X))
        if self._argmax_exact and not _has_tie(probabilities):
            labels = self._classes[probabilities.argmax(axis=1)]
        else:
            labels = model.predict(X)
        return Prediction(_flat(labels), probabilities, self._class_list)


def _transformed(model: Any, X: Any) -> tuple[Any, Any]:
    """A pipeline's input through all its steps but the last, and that last step; else as is.

    This is what ``Pipeline.predict`` and ``predict_proba`` each do before calling the final
    estimator, done once for both.
    """
    from sklearn.pipeline import Pipeline

    while isinstance(model, Pipeline) and len(model.steps) > 1:
        X, model = model[:-1].transform(X), model.steps[-1][1]
    if isinstance(model, Pipeline):  # a pipeline of one step is that step
        model = model.steps[-1][1]
    return X, model


def _has_tie(probabilities: np.ndarray) -> bool:
    """Whether some row's highest probability is shared by two classes."""
    top = probabilities.max(axis=1, keepdims=True)
    return bool(((probabilities == top).sum(axis=1) > 1).any())


# --------------------------------------------------------------------------- XGBoost


def _tree_input(
    fitted: list[str] | None, inputs: list[tuple[str, str]], width: int, what: str
) -> Builder:
    """A matrix for numeric inputs, else a DataFrame (strings become pandas categories)."""
    types = dict(inputs)
    if fitted is not None and not set(fitted) <= set(types):
        fitted = None  # generated names (f0, Column_0, ...): the signature's order is used
    order = _model_order(fitted, inputs, width, what)
    if all(types[name] in NUMERIC_TYPES for name in order):
        return matrix_builder(order)
    other = [n for n in order if types[n] not in NUMERIC_TYPES | CATEGORICAL_TYPES]
    if other:
        raise InvalidInput(
            f"signature: {what} models take numbers, booleans, strings and categories; "
            f"column {other[0]!r} is {types[other[0]]}",
            field="signature",
        )
    # Strings go in as pandas categories; the library maps them to the codes it trained with
    # (the categories are stored in the model), whatever categories one request holds.
    frame_types = {n: "category" if types[n] in CATEGORICAL_TYPES else types[n] for n in order}
    return frame_builder(order, frame_types)


class XGBoostPredictor(Predictor):
    """XGBoost classifiers, regressors and boosters, through ``inplace_predict``."""

    def __init__(self, model: Any, inputs: list[tuple[str, str]], meta: dict[str, Any]) -> None:
        self.inputs = inputs
        self.model = model
        booster = model.get_booster() if hasattr(model, "get_booster") else model
        self._booster = booster
        config = json.loads(booster.save_config())
        objective = config["learner"]["objective"]["name"]
        self._kind = meta.get("kind", "booster")
        best = booster.attr("best_iteration")
        # As the scikit-learn wrapper does: predict with the trees up to early stopping's best.
        self._range = (0, int(best) + 1) if best is not None else (0, 0)
        missing = meta.get("missing")
        self._missing = np.nan if missing is None else float(missing)
        self._proba = objective in ("binary:logistic", "multi:softprob")
        n_classes = getattr(model, "n_classes_", None) if self._kind == "classifier" else None
        self._classes = None if n_classes is None else list(range(int(n_classes)))
        self._build = _tree_input(booster.feature_names, inputs, booster.num_features(), "xgboost")

    def predict(self, columns: Columns, n: int) -> Prediction:
        X = self._build(columns, n)
        if self._kind == "classifier" and not self._proba:
            # Objectives such as multi:softmax answer labels only.
            return Prediction(_flat(self.model.predict(X)), None, None)
        out = self._booster.inplace_predict(X, iteration_range=self._range, missing=self._missing)
        if self._kind == "regressor" or not self._proba:
            return Prediction(_flat(out), None, None)
        if out.ndim == 1:  # binary: the positive class; predict's threshold is p > 0.5
            classes = self._classes or [0, 1]
            return Prediction((out > 0.5).astype(np.int64), _positive_pair(out), classes)
        classes = self._classes or list(range(out.shape[1]))
        return Prediction(out.argmax(axis=1), out, classes)


# --------------------------------------------------------------------------- LightGBM


class LightGBMPredictor(Predictor):
    """LightGBM boosters, and classifiers with their class labels."""

    def __init__(self, model: Any, inputs: list[tuple[str, str]]) -> None:
        self.inputs = inputs
        self.model = model
        self._booster = getattr(model, "booster", model)
        found = getattr(model, "classes_", None)
        self._classes = None if found is None else np.asarray(found)
        self._class_list = None if self._classes is None else self._classes.tolist()
        booster = self._booster
        self._build = _tree_input(booster.feature_name(), inputs, booster.num_feature(), "lightgbm")

    def predict(self, columns: Columns, n: int) -> Prediction:
        X = self._build(columns, n)
        out = self._booster.predict(X)
        if self._classes is None:
            if out.ndim == 2 and out.shape[1] > 1:  # a multiclass booster saved on its own
                return Prediction(out.argmax(axis=1), out, list(range(out.shape[1])))
            return Prediction(_flat(out), None, None)
        probabilities = _positive_pair(out) if out.ndim == 1 else out
        labels = self._classes[probabilities.argmax(axis=1)]
        return Prediction(labels, probabilities, self._class_list)


# --------------------------------------------------------------------------- ONNX

ONNX_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
    "tensor(string)": object,
}


class OnnxPredictor(Predictor):
    """ONNX graphs run by onnxruntime.

    The graph takes either one matrix holding every signature column (numeric inputs) or one
    input per signature column, named like it. A classifier's outputs are recognised by name:
    a probability output (``output_probability``, ``probabilities``: a tensor or a ZipMap
    list of dicts) and a label output (``output_label``, ``label``).
    """

    def __init__(self, session: Any, inputs: list[tuple[str, str]], meta: dict[str, Any]) -> None:
        self.inputs = inputs
        self.session = session
        self._feed = self._feeder(session.get_inputs(), inputs)
        outputs = session.get_outputs()
        prob = next((o for o in outputs if "prob" in o.name.lower()), None)
        label = next((o for o in outputs if "label" in o.name.lower() and o is not prob), None)
        if prob is None and label is None:
            label = outputs[0]
        self._label = None if label is None else label.name
        self._prob = None if prob is None else prob.name
        self._zipmap = prob is not None and prob.type.startswith("seq(map(")
        self._names = [o for o in (self._label, self._prob) if o is not None]
        self._meta_classes = meta.get("classes")

    @staticmethod
    def _feeder(graph_inputs: list[Any], inputs: list[tuple[str, str]]) -> Builder:
        types = dict(inputs)
        names = [name for name, _ in inputs]
        by_name = {i.name: i for i in graph_inputs}
        if set(by_name) <= set(names) and by_name:
            return _per_column_feeds(graph_inputs, types)
        if len(graph_inputs) == 1:
            only = graph_inputs[0]
            dtype = ONNX_TYPES.get(only.type)
            width = only.shape[-1] if len(only.shape) == 2 else None
            numeric = all(t in NUMERIC_TYPES for t in types.values())
            if dtype is None or dtype is object or not numeric:
                raise InvalidInput(
                    f"signature: the onnx graph's single input {only.name!r} is {only.type}; "
                    "only numeric signatures can fill it",
                    field="signature",
                )
            order = _model_order(None, inputs, width if isinstance(width, int) else None, "onnx")
            build = matrix_builder(order, dtype)
            return lambda columns, n: {only.name: build(columns, n)}
        raise InvalidInput(
            f"signature: the onnx graph takes inputs {sorted(by_name)}, which are neither one "
            "matrix nor columns of the signature",
            field="signature",
        )

    def predict(self, columns: Columns, n: int) -> Prediction:
        outputs = self.session.run(self._names, self._feed(columns, n))
        results = dict(zip(self._names, outputs, strict=True))
        probabilities: np.ndarray | None = None
        classes: list[Any] | None = None
        if self._prob is not None:
            probabilities, classes = self._probabilities(results[self._prob])
        if self._label is not None:
            labels = _flat(results[self._label])
        else:  # a probability output alone: the most probable class
            labels = np.asarray(classes)[probabilities.argmax(axis=1)]  # type: ignore[union-attr]
        return Prediction(labels, probabilities, classes)

    def _probabilities(self, raw: Any) -> tuple[np.ndarray, list[Any]]:
        if self._zipmap:  # one {class: probability} dict per row
            classes = list(raw[0]) if raw else list(self._meta_classes or [])
            return np.array([[row[c] for c in classes] for row in raw], dtype=np.float64), classes
        probabilities = np.asarray(raw)
        k = probabilities.shape[1] if probabilities.ndim == 2 else 1
        known = self._meta_classes
        return probabilities, list(known) if known and len(known) == k else list(range(k))


def _per_column_feeds(graph_inputs: list[Any], types: dict[str, str]) -> Builder:
    """One (n, 1) or (n,) array per graph input, cast to the input's element type."""
    plan = []
    for graph_input in graph_inputs:
        dtype = ONNX_TYPES.get(graph_input.type)
        kind = types[graph_input.name]
        if dtype is None or (dtype is not object and kind not in NUMERIC_TYPES):
            raise InvalidInput(
                f"signature: the onnx input {graph_input.name!r} has type {graph_input.type}, "
                f"which a {kind} column cannot fill",
                field="signature",
            )
        plan.append((graph_input.name, dtype, len(graph_input.shape) == 2))

    def feed(columns: Columns, n: int) -> dict[str, np.ndarray]:
        out = {}
        for name, dtype, as_matrix in plan:
            values: np.ndarray = _column(columns, name, n).astype(dtype, copy=False)
            out[name] = values.reshape(n, 1) if as_matrix else values
        return out

    return feed
