"""The one model every server in the serving benchmark answers with, in each server's format.

    .venv/bin/python serve_model.py fit --out DIR                 coefficients.json, requests.json
    .venv-mlflow/bin/python serve_model.py mlflow --coef F --out DIR      mlflow.sklearn format
    .venv-mlserver/bin/python serve_model.py mlserver --coef F --out DIR  joblib + model-settings
    .venv/bin/python serve_model.py modelward --coef F --endpoint NAME    (MODELWARD_HOME set)

A StandardScaler + LogisticRegression pipeline on 20 numeric features and 10,000 seeded rows,
fitted once in modelward's environment. The anchors' environments may carry another
scikit-learn, whose pickles the main one cannot promise to read (nor the reverse), so they
rebuild the fitted pipeline from the exported coefficients and save it with their own
scikit-learn: every server holds exactly the same numbers. The modelward side fits again in
its own environment and checks the fit equals the exported coefficients bit for bit.

Only numpy and scikit-learn at import time: the module runs in all three environments.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

SEED = 20240905
N_ROWS, N_FEATURES, N_REQUEST_ROWS = 10_000, 20, 256
FEATURES = [f"x{i}" for i in range(N_FEATURES)]
MODEL_NAME = "bench-model"


def make_data(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features on different scales and a label from a noisy linear score (both seeded)."""
    rng = np.random.default_rng(seed)
    scales = np.linspace(0.5, 20.0, N_FEATURES)
    offsets = np.linspace(-10.0, 10.0, N_FEATURES)
    x = rng.standard_normal((rows, N_FEATURES)) * scales + offsets
    weights = np.random.default_rng(SEED).uniform(-1.0, 1.0, N_FEATURES)
    score = ((x - offsets) / scales) @ weights + rng.logistic(0.0, 1.0, rows)
    return x, (score > 0).astype(np.int64)


def fitted_pipeline() -> Any:
    """Fit the benchmark pipeline on the seeded training rows, with named columns."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = make_data(N_ROWS, SEED)
    frame = pd.DataFrame(x, columns=FEATURES)
    model = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=1000))])
    return model.fit(frame, y), frame, y


def coefficients(model: Any) -> dict[str, Any]:
    scaler, clf = model.named_steps["scale"], model.named_steps["clf"]
    return {
        "features": FEATURES,
        "mean": scaler.mean_.tolist(),
        "var": scaler.var_.tolist(),
        "scale": scaler.scale_.tolist(),
        "n_samples_seen": int(scaler.n_samples_seen_),
        "coef": clf.coef_.tolist(),
        "intercept": clf.intercept_.tolist(),
        "classes": clf.classes_.tolist(),
    }


def rebuilt_pipeline(coef: dict[str, Any], named: bool) -> Any:
    """The fitted pipeline from its coefficients, without fitting (any scikit-learn >= 1.0).

    ``named``: remember the column names, for a server that hands the model a DataFrame;
    a server that hands it a bare array gets a pipeline fitted without names, as scikit-learn
    would otherwise warn on every call.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler()
    scaler.mean_ = np.asarray(coef["mean"], dtype=np.float64)
    scaler.var_ = np.asarray(coef["var"], dtype=np.float64)
    scaler.scale_ = np.asarray(coef["scale"], dtype=np.float64)
    scaler.n_samples_seen_ = np.int64(coef["n_samples_seen"])
    clf = LogisticRegression(max_iter=1000)
    clf.coef_ = np.asarray(coef["coef"], dtype=np.float64)
    clf.intercept_ = np.asarray(coef["intercept"], dtype=np.float64)
    clf.classes_ = np.asarray(coef["classes"], dtype=np.int64)
    clf.n_iter_ = np.asarray([0], dtype=np.int32)
    scaler.n_features_in_ = clf.n_features_in_ = len(coef["features"])
    if named:  # as a fit on a DataFrame leaves it: the classifier only ever sees an array
        scaler.feature_names_in_ = np.asarray(coef["features"], dtype=object)
    return Pipeline([("scale", scaler), ("clf", clf)])


# --- one command per environment -------------------------------------------------------------


def cmd_fit(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model, _, _ = fitted_pipeline()
    (out / "coefficients.json").write_text(json.dumps(coefficients(model)))
    rows, _ = make_data(N_REQUEST_ROWS, SEED + 1)
    rows = np.round(rows, 6)  # request bodies of a realistic size; predicted as sent
    (out / "requests.json").write_text(json.dumps({"features": FEATURES, "rows": rows.tolist()}))
    (out / "expected.json").write_text(json.dumps(_predict_named(model, rows)))


def _predict_named(model: Any, rows: np.ndarray) -> list[int]:
    import pandas as pd

    return [int(v) for v in model.predict(pd.DataFrame(rows, columns=FEATURES))]


def cmd_mlflow(args: argparse.Namespace) -> None:
    import mlflow.sklearn
    import sklearn
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    coef = json.loads(Path(args.coef).read_text())
    model = rebuilt_pipeline(coef, named=True)
    signature = ModelSignature(
        inputs=Schema([ColSpec("double", name) for name in coef["features"]]),
        outputs=Schema([ColSpec("long")]),
    )
    mlflow.sklearn.save_model(
        model,
        args.out,
        signature=signature,
        # Given, so saving does not spend a subprocess on inferring them; serving is local.
        pip_requirements=[f"scikit-learn=={sklearn.__version__}"],
    )


def cmd_mlserver(args: argparse.Namespace) -> None:
    import joblib

    coef = json.loads(Path(args.coef).read_text())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(rebuilt_pipeline(coef, named=False), out / "model.joblib")
    settings = {
        "name": args.name,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib", "version": "v1"},
    }
    (out / "model-settings.json").write_text(json.dumps(settings, indent=1))


def cmd_modelward(args: argparse.Namespace) -> None:
    import modelward as mw

    model, frame, y = fitted_pipeline()
    if coefficients(model) != json.loads(Path(args.coef).read_text()):
        sys.exit("the fit differs from the exported coefficients: not the same model")
    client = mw.Client()
    with client.start_run("serving-benchmark", params={"C": 1.0}) as run:
        run.log_model(model, MODEL_NAME, signature=mw.infer_signature(frame, y))
    client.create_endpoint(args.endpoint, f"{MODEL_NAME}/1", mode="online")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    fit = sub.add_parser("fit")
    fit.add_argument("--out", required=True)
    for name in ("mlflow", "mlserver"):
        p = sub.add_parser(name)
        p.add_argument("--coef", required=True)
        p.add_argument("--out", required=True)
        p.add_argument("--name", default="bench")
    side = sub.add_parser("modelward")
    side.add_argument("--coef", required=True)
    side.add_argument("--endpoint", default="bench")
    args = parser.parse_args()
    commands = {
        "fit": cmd_fit,
        "mlflow": cmd_mlflow,
        "mlserver": cmd_mlserver,
        "modelward": cmd_modelward,
    }
    commands[args.cmd](args)


if __name__ == "__main__":
    main()
