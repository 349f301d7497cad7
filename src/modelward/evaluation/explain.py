"""Global feature importance: SHAP when it is installed and fits the model, else permutation.

``shap`` is an optional dependency and is imported only here, inside the call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from modelward.errors import InvalidInput

METHODS = ("auto", "permutation", "shap")
TREE_MODULES = ("sklearn.ensemble", "sklearn.tree", "xgboost", "lightgbm", "catboost")


def stratified_sample(y: pd.Series, size: int, seed: int, stratify: bool) -> np.ndarray:
    """Row positions of a sample of ``size`` rows, keeping class proportions if asked."""
    n = len(y)
    rng = np.random.default_rng(seed)
    if size >= n:
        return np.arange(n)
    if not stratify:
        return np.sort(rng.choice(n, size=size, replace=False))
    codes, _ = pd.factorize(y)
    picks: list[np.ndarray] = []
    for c in np.unique(codes):
        members = np.flatnonzero(codes == c)
        take = max(1, round(size * len(members) / n))
        picks.append(rng.choice(members, size=min(take, len(members)), replace=False))
    return np.sort(np.concatenate(picks))


def scoring_for(task: str, n_classes: int) -> str:
    if task == "regression":
        return "r2"
    return "roc_auc" if n_classes == 2 else "accuracy"


def shap_kind(model: Any) -> str | None:
    """ "tree" or "linear" when SHAP has an exact explainer for this bare estimator."""
    module = type(model).__module__
    if module.startswith(TREE_MODULES) and hasattr(model, "n_features_in_"):
        name = type(model).__name__
        if "Forest" in name or "Tree" in name or "Boost" in name or module.startswith("xgb"):
            return "tree"
    if hasattr(model, "coef_") and module.startswith("sklearn.linear_model"):
        return "linear"
    return None


def shap_available() -> bool:
    try:
        import shap  # noqa: F401
    except ImportError:
        return False
    return True


def permutation(
    model: Any, x: pd.DataFrame, y: pd.Series, scoring: str, n_repeats: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.inspection import permutation_importance

    result = permutation_importance(
        model, x, y, scoring=scoring, n_repeats=n_repeats, random_state=seed, n_jobs=1
    )
    return result.importances_mean, result.importances_std


def shap_values(model: Any, x: pd.DataFrame, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over rows of |SHAP value| per feature."""
    import shap

    if kind == "tree":
        explainer = shap.TreeExplainer(model)
    else:
        explainer = shap.LinearExplainer(model, x)
    raw = explainer.shap_values(x)
    values = np.abs(np.stack(raw, axis=-1) if isinstance(raw, list) else np.asarray(raw))
    if values.ndim == 3:  # one slice per class: average the classes' magnitudes
        values = values.mean(axis=2)
    return values.mean(axis=0), values.std(axis=0)


def explanation(
    model: Any,
    x: pd.DataFrame,
    y: pd.Series,
    *,
    task: str,
    n_classes: int,
    method: str,
    n_repeats: int,
    seed: int,
    progress: Callable[[str, float], None] | None = None,
) -> dict[str, Any]:
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)}", field="method")
    kind = shap_kind(model)
    use_shap = method == "shap" or (method == "auto" and kind is not None and shap_available())
    if use_shap and (kind is None or not shap_available()):
        why = "shap is not installed" if kind else f"no SHAP explainer fits {type(model).__name__}"
        raise InvalidInput(f"cannot explain with SHAP: {why}", field="method")
    if progress is not None:
        progress("explaining", 0.0)
    if use_shap:
        try:
            mean, std = shap_values(model, x, str(kind))
            scoring = f"mean |shap| ({kind})"
        except Exception as exc:  # shap's own failure modes vary by version and model
            if method == "shap":
                raise InvalidInput(
                    f"SHAP could not explain the model: {exc}", field="method"
                ) from None
            use_shap = False
    if not use_shap:
        scoring = scoring_for(task, n_classes)
        mean, std = permutation(model, x, y, scoring, n_repeats, seed)
    importance = {str(f): _finite(v) for f, v in zip(x.columns, mean, strict=True)}
    ordered = sorted(importance, key=lambda f: (-importance[f], f))
    result = {
        "method": "shap" if use_shap else "permutation",
        "rows": len(x),
        "scoring": scoring,
        "features": ordered,
        "importance": importance,
        "importance_std": {str(f): _finite(v) for f, v in zip(x.columns, std, strict=True)},
        "seed": int(seed),
    }
    if progress is not None:
        progress("explaining", 1.0)
    return result


def _finite(value: Any) -> float:
    # A constant feature can give 0/0 in some scorers; no change in score means no importance.
    value = float(value)
    return value if np.isfinite(value) else 0.0
