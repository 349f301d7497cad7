"""The demo's retraining job, started by the drift alert's trigger: ``python -m
modelward.demo.retrain``.

It trains the champion's configuration again on the training data plus the production
applicants whose outcome is known, registers the result as a new version with its lineage,
evaluates it against the champion on the holdout plus the newest labelled production data
(with fairness),
explains it, carries the
model card over, and asks for its promotion. The gate then decides, as for any version.
"""

from __future__ import annotations

import os
import sys

import pandas as pd

import modelward as mw
from modelward.demo import scenario
from modelward.demo.governance import CARD, SENSITIVE, SLICE

RECENT_DATASET = "credit-recent-labelled"
RECENT_HOLDOUT = "credit-recent-holdout"
JUDGED_ON = "credit-holdout-and-recent"


def main() -> int:
    client = mw.Client(os.environ.get("MODELWARD_URI"))
    alert = os.environ.get("MODELWARD_ALERT_ID", "?")
    train = client.load_dataset(scenario.TRAIN_DATASET)
    recent = client.load_dataset(RECENT_DATASET)
    frame = pd.concat([train, recent[train.columns]], ignore_index=True)
    combined = client.register_dataset(
        "credit-train-retrained",
        frame,
        f"credit-train plus labelled production data (alert {alert})",
    )
    # Judged on the holdout and the newest labelled production data together: the population
    # it was validated on and the one it will score now.
    old, newest = client.load_dataset(scenario.HOLDOUT_DATASET), client.load_dataset(RECENT_HOLDOUT)
    holdout = client.register_dataset(
        JUDGED_ON,
        pd.concat([old, newest[old.columns]], ignore_index=True),
        "credit-holdout plus the newest labelled production applicants",
    )
    candidate = scenario.CANDIDATES[1]  # the configuration in production
    X, y = scenario.features(frame), frame[scenario.TARGET]
    signature = mw.infer_signature(X, y)
    params = {**candidate.params, "trigger": alert}
    tags = {"demo": "retraining", "alert": alert}
    with client.start_run(scenario.EXPERIMENT, params=params, tags=tags, name="retrain") as run:
        run.log_input(combined, role="training")
        run.log_input(holdout, role="evaluation")
        model = scenario.build_model(candidate, X).fit(X, y)
        version = run.log_model(
            model, scenario.MODEL, signature=signature,
            description=f"retrained after drift alert {alert}",
        )  # fmt: skip
    ref = f"{scenario.MODEL}/{version.version}"
    client.set_alias(scenario.MODEL, "candidate", version.version)
    evaluation = client.evaluate(
        ref, dataset=holdout.ref, target=scenario.TARGET, against="champion",
        sensitive=[SENSITIVE], slice_by=[SLICE], bootstrap=500,
    )  # fmt: skip
    client.explain(ref, dataset=holdout.ref, target=scenario.TARGET, sample=250, n_repeats=3)
    client.update_card(ref, CARD)
    request = client.request_promotion(ref, "champion", comment=f"retrained after alert {alert}")
    auc = evaluation.results["metrics"].get("roc_auc", float("nan"))
    print(
        f"{ref} trained on {len(frame)} rows, holdout AUC {auc:.3f}; promotion request {request.id}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
