"""Linear scikit-learn models compiled to NumPy arithmetic for the single-row hot path.

scikit-learn validates its input on every call (types, finiteness, feature counts, output
containers); for one row that costs several times the arithmetic. The gateway has already
checked every value against the signature, so a ``StandardScaler`` → ``LogisticRegression``
(or a linear regressor) pipeline can answer with the same formulas directly. A compiled
model is only used after it reproduced the original's answers on a probe batch at load;
anything it does not recognise, or any difference, keeps the scikit-learn model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

PROBE_ROWS = 256


class CompiledLinear:
    """``(X - shift) / scale @ coef.T + intercept``, then a link for classifiers."""

    def __init__(
        self,
        shift: np.ndarray,
        scale: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        classes: np.ndarray | None,
    ) -> None:
        self.shift, self.scale = shift, scale
        self.coef_t, self.intercept = np.ascontiguousarray(coef.T), intercept
        self.classes_ = classes

    def _decision(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.shift) / self.scale) @ self.coef_t + self.intercept

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        d = self._decision(X)
        if d.shape[1] == 1:  # binary: the logistic of the one decision value
            p = 1.0 / (1.0 + np.exp(-d[:, 0]))
            return np.column_stack([1.0 - p, p])
        e = np.exp(d - d.max(axis=1, keepdims=True))  # multinomial: softmax
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray) -> np.ndarray:
        d = self._decision(X)
        if self.classes_ is None:
            return d[:, 0] if d.shape[1] == 1 else d
        if d.shape[1] == 1:
            return self.classes_[(d[:, 0] > 0).astype(int)]
        return self.classes_[d.argmax(axis=1)]


def _steps(model: Any) -> list[Any]:
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        return [step for _, step in model.steps if step not in (None, "passthrough")]
    return [model]


def _scaling(steps: list[Any], width: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The combined shift and scale of leading StandardScalers, or None if another step."""
    from sklearn.preprocessing import StandardScaler

    shift, scale = np.zeros(width), np.ones(width)
    for step in steps:
        if type(step) is not StandardScaler:
            return None
        mean = step.mean_ if step.with_mean else np.zeros(width)
        factor = step.scale_ if step.with_std else np.ones(width)
        # (((x - s) / c) - m) / f  ==  (x - (s + m * c)) / (c * f)
        shift, scale = shift + mean * scale, scale * factor
    return shift, scale


def compile_linear(model: Any, width: int) -> CompiledLinear | None:
    """The compiled form of ``model`` if it is a supported linear pipeline that reproduces
    the original's probabilities and predictions on a probe batch; otherwise None."""
    from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge

    steps = _steps(model)
    final, leading = steps[-1], steps[:-1]
    if type(final) not in (LogisticRegression, LinearRegression, Ridge, Lasso, ElasticNet):
        return None
    scaling = _scaling(leading, width)
    if scaling is None:
        return None
    coef = np.atleast_2d(np.asarray(final.coef_, dtype=np.float64))
    intercept = np.atleast_1d(np.asarray(final.intercept_, dtype=np.float64))
    if coef.shape[1] != width:
        return None
    classes = np.asarray(final.classes_) if hasattr(final, "classes_") else None
    compiled = CompiledLinear(scaling[0], scaling[1], coef, intercept, classes)
    return compiled if _agrees(model, compiled, scaling, width) else None


def _agrees(
    model: Any, compiled: CompiledLinear, scaling: tuple[np.ndarray, np.ndarray], width: int
) -> bool:
    """Same answers as ``model`` on rows spread around the training data's scale."""
    rng = np.random.default_rng(0)
    shift, scale = scaling
    X = shift + rng.normal(0, 2, (PROBE_ROWS, width)) * np.where(scale == 0, 1, scale)
    try:
        if compiled.classes_ is None:
            expected = np.asarray(model.predict(X), dtype=np.float64)
            return bool(np.allclose(compiled.predict(X), expected, rtol=1e-9, atol=1e-9))
        expected = np.asarray(model.predict_proba(X))
        if not np.allclose(compiled.predict_proba(X), expected, rtol=1e-9, atol=1e-12):
            return False
        return bool(np.array_equal(compiled.predict(X), np.asarray(model.predict(X))))
    except Exception:
        return False
