"""The credit-risk scenario behind ``modelward demo``.

Every step goes through the public SDK, so the demo exercises what a user's own training
code would: datasets registered by content, tracked runs with their inputs, model versions
with lineage, aliases, a verified reload and the audit chain. It is safe to run again on
the same store: the data split is fixed, so the datasets deduplicate; runs and versions are
added and the aliases move to the newest ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from rich.console import Console
from rich.markup import escape

import modelward as mw
from modelward.demo import monitoring, serving
from modelward.demo.governance import run_story

EXPERIMENT = "credit-risk"
MODEL = "credit-scorer"
TRAIN_DATASET = "credit-train"
HOLDOUT_DATASET = "credit-holdout"
TARGET = "creditability"
POSITIVE = "bad"  # a credit-risk score is the probability that a loan goes bad
SEED = 42
HOLDOUT_FRACTION = 0.25
SCORED_ROWS = 5


@dataclass(frozen=True)
class Candidate:
    """One model configuration the demo trains."""

    run_name: str
    label: str
    family: str
    params: dict[str, Any]


# Trained in this order: the first is the model already in production (champion); the best of
# the others (usually the boosted one) is the candidate that must pass the gate.
CANDIDATES = (
    Candidate("logreg-c1", "logistic regression, C=1.0", "logistic_regression", {"C": 1.0}),
    Candidate(
        "gboost-100",
        "gradient boosting, 100 trees",
        "gradient_boosting",
        {"n_estimators": 100, "learning_rate": 0.05, "max_depth": 3, "subsample": 0.8},
    ),
    Candidate("logreg-c0.1", "logistic regression, C=0.1", "logistic_regression", {"C": 0.1}),
)


@dataclass
class TrainedVersion:
    """A model the demo trained and registered."""

    candidate: Candidate
    version: int
    run_id: str
    digest: str
    metrics: dict[str, float]
    model: Any = field(repr=False)


@dataclass
class DemoResult:
    """Everything the summary shows."""

    train: Any
    holdout: Any
    trained: list[TrainedVersion]
    champion: TrainedVersion
    candidate: TrainedVersion
    previous_champion: int
    scored: pd.DataFrame
    reload_matches: bool
    lineage: Any
    audit: Any
    audit_events_before: int
    governance: Any
    monitoring: Any
    serving: Any
    seconds: float


class Steps:
    """A spinner while a step runs, then a tick and a one-line result."""

    def __init__(self, console: Console) -> None:
        self.console = console

    @contextmanager
    def step(self, title: str) -> Iterator[Callable[[str], None]]:
        notes: list[str] = []
        start = time.perf_counter()
        try:
            with self.console.status(f"{title}…"):
                yield notes.append
        except BaseException:
            self.console.print(f"[red]✗[/red] {escape(title)}", highlight=False)
            raise
        detail = f" — {'; '.join(notes)}" if notes else ""
        took = time.perf_counter() - start
        self.console.print(
            f"[green]✓[/green] {escape(title + detail)} [dim]({took:.1f}s)[/dim]", highlight=False
        )


# ----------------------------------------------------------------------------- data


def load_credit_data() -> pd.DataFrame:
    """The 1,000 applicants of the Statlog German Credit data, as shipped in the package."""
    source = resources.files("modelward.demo").joinpath("data", "germancredit.csv")
    with source.open("rb") as fh:
        return pd.read_csv(fh)


def split(data: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and holdout, stratified on the target with a fixed seed (same content every run)."""
    from sklearn.model_selection import train_test_split

    train, holdout = train_test_split(
        data, test_size=HOLDOUT_FRACTION, stratify=data[TARGET], random_state=SEED
    )
    return train.reset_index(drop=True), holdout.reset_index(drop=True)


def features(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[TARGET])


# ----------------------------------------------------------------------------- models


def build_model(candidate: Candidate, X: pd.DataFrame) -> Any:
    """One-hot the categorical attributes, scale the numeric ones, then classify."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categorical = list(X.select_dtypes(exclude="number").columns)
    numeric = list(X.select_dtypes(include="number").columns)
    prepare = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
            ("numeric", StandardScaler(), numeric),
        ]
    )
    if candidate.family == "logistic_regression":
        classify: Any = LogisticRegression(max_iter=1000, **candidate.params)
    else:
        classify = GradientBoostingClassifier(random_state=SEED, **candidate.params)
    return Pipeline([("prepare", prepare), ("classify", classify)])


def probability_bad(model: Any, X: pd.DataFrame) -> np.ndarray:
    return model.predict_proba(X)[:, list(model.classes_).index(POSITIVE)]


def holdout_metrics(model: Any, X: pd.DataFrame, y: pd.Series) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

    p_bad = probability_bad(model, X)
    is_bad = (y == POSITIVE).to_numpy()
    return {
        "auc": float(roc_auc_score(is_bad, p_bad)),
        "accuracy": float(accuracy_score(y, model.predict(X))),
        "log_loss": float(log_loss(is_bad, p_bad)),
    }


def boosting_history(model: Any, X: pd.DataFrame, y: pd.Series) -> list[dict[str, Any]]:
    """Holdout AUC and log loss after each boosting stage, plus the training loss."""
    prepared, booster = model[:-1].transform(X), model[-1]
    column = list(booster.classes_).index(POSITIVE)
    is_bad = (y == POSITIVE).to_numpy()
    points: list[dict[str, Any]] = []
    stages = zip(booster.staged_predict_proba(prepared), booster.train_score_, strict=True)
    for step, (proba, train_loss) in enumerate(stages, start=1):
        p_bad = proba[:, column]
        points += [
            {"key": "holdout_auc", "value": _auc(is_bad, p_bad), "step": step},
            {"key": "holdout_log_loss", "value": _log_loss(is_bad, p_bad), "step": step},
            {"key": "train_loss", "value": float(train_loss), "step": step},
        ]
    return points


# Per-stage metrics are computed directly: scikit-learn's metric functions validate their
# input on every call, which costs more than the metric itself across a hundred stages.
def _auc(is_positive: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties count half, as in roc_auc_score)."""
    from scipy.stats import rankdata

    ranks = rankdata(score)
    n_pos = int(is_positive.sum())
    n_neg = len(score) - n_pos
    return float((ranks[is_positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _log_loss(is_positive: np.ndarray, p: np.ndarray) -> float:
    eps = np.finfo(p.dtype).eps  # the clipping scikit-learn's log_loss applies
    p = np.clip(p, eps, 1 - eps)
    return float(-np.mean(np.where(is_positive, np.log(p), np.log1p(-p))))


def train_version(
    client: mw.Client,
    candidate: Candidate,
    datasets: tuple[Any, Any],
    frames: tuple[pd.DataFrame, pd.DataFrame],
    signature: Any,
) -> TrainedVersion:
    """One tracked run: inputs, params, holdout metrics, and the model registered from it."""
    train_ds, holdout_ds = datasets
    train, holdout = frames
    params = {"model": candidate.family, **candidate.params, "seed": SEED}
    tags = {"demo": "german-credit", "family": candidate.family}
    with client.start_run(EXPERIMENT, params=params, tags=tags, name=candidate.run_name) as run:
        run.log_input(train_ds, role="training")
        run.log_input(holdout_ds, role="evaluation")
        model = build_model(candidate, features(train)).fit(features(train), train[TARGET])
        metrics = holdout_metrics(model, features(holdout), holdout[TARGET])
        run.log_metrics(metrics)
        if candidate.family == "gradient_boosting":
            run.log_batch(metrics=boosting_history(model, features(holdout), holdout[TARGET]))
        version = run.log_model(
            model,
            MODEL,
            signature=signature,
            description=f"{candidate.label}; holdout AUC {metrics['auc']:.3f}",
            tags={"family": candidate.family},
        )
    return TrainedVersion(candidate, version.version, run.id, version.digest, metrics, model)


# ----------------------------------------------------------------------------- after training


def set_aliases(client: mw.Client, trained: list[TrainedVersion]) -> tuple[int, TrainedVersion]:
    """The model in production before governance: ``champion``, the first version ever (kept on
    later runs). ``candidate``: the best holdout AUC of this round, to go through the gate."""
    aliases = {a.alias: a.version for a in client.list_aliases(MODEL)}
    champion = aliases.get("champion")
    if champion is None:
        champion = trained[0].version
        client.set_alias(MODEL, "champion", champion)
    others = [t for t in trained if t.version != champion]
    candidate = max(others, key=lambda t: t.metrics["auc"])
    client.set_alias(MODEL, "candidate", candidate.version)
    return champion, candidate


def score_with_champion(
    client: mw.Client, holdout: pd.DataFrame, champion: TrainedVersion
) -> tuple[pd.DataFrame, bool]:
    """Load ``credit-scorer@champion`` from the store (digest verified) and score applicants."""
    loaded = client.load_model(f"{MODEL}@champion")
    sample = holdout.head(SCORED_ROWS)
    p_bad = probability_bad(loaded, features(sample))
    # The stored model must behave exactly like the one that was trained.
    matches = bool(np.allclose(p_bad, probability_bad(champion.model, features(sample))))
    scored = pd.DataFrame(
        {
            "purpose": sample["purpose"],
            "amount_dm": sample["credit_amount"],
            "months": sample["duration_in_month"],
            "actual": sample[TARGET],
            "p_bad": p_bad.round(3),
            "decision": np.where(p_bad >= 0.5, "decline", "approve"),
        }
    )
    return scored, matches


# ----------------------------------------------------------------------------- the scenario


def run(client: mw.Client, console: Console) -> DemoResult:
    """Run the whole scenario against ``client``, reporting each step on ``console``."""
    started, started_at = time.perf_counter(), time.time()
    steps = Steps(console)
    events_before = client.get_audit_head().seq
    with steps.step("Loading the German Credit data") as note:
        data = load_credit_data()
        train, holdout = split(data)
        note(
            f"{len(data):,} applicants, {data.shape[1] - 1} attributes; "
            f"{len(train)} train / {len(holdout)} holdout, stratified on {TARGET}"
        )
    with steps.step("Registering datasets") as note:
        how = f"stratified split of the German Credit data, seed {SEED}"
        train_ds = client.register_dataset(TRAIN_DATASET, train, f"training part, {how}")
        holdout_ds = client.register_dataset(HOLDOUT_DATASET, holdout, f"holdout part, {how}")
        for ds in (train_ds, holdout_ds):
            # Registering the same content again returns the version already stored.
            known = ds.created_at.timestamp() < started_at
            note(f"{ds.ref} ({'same content as before' if known else 'new'})")
    signature = mw.infer_signature(features(train), train[TARGET])
    trained: list[TrainedVersion] = []
    for i, candidate in enumerate(CANDIDATES, start=1):
        with steps.step(f"Training {i}/{len(CANDIDATES)}: {candidate.label}") as note:
            done = train_version(
                client, candidate, (train_ds, holdout_ds), (train, holdout), signature
            )
            trained.append(done)
            note(
                f"run {done.run_id[:8]} → {MODEL} v{done.version}, "
                f"holdout AUC {done.metrics['auc']:.3f}"
            )
    with steps.step("Setting aliases") as note:
        previous, newest = set_aliases(client, trained)
        note(f"champion → v{previous} (in production), candidate → v{newest.version}")
    story = run_story(client, steps, MODEL, newest.version, holdout_ds.ref, TARGET)
    champion = newest
    with steps.step(f"Loading {MODEL}@champion and scoring holdout applicants") as note:
        scored, matches = score_with_champion(client, holdout, champion)
        note(f"sha256:{champion.digest[:12]} verified, {len(scored)} applicants scored")
    with steps.step(f"Tracing the lineage of {MODEL}@champion"):
        lineage = client.get_version(f"{MODEL}@champion").lineage()
    watched = monitoring.run_story(client, steps, MODEL, train, TARGET)
    served = serving.run_story(client, steps, MODEL, holdout, TARGET)
    with steps.step("Verifying the audit chain") as note:
        audit = client.verify_audit()
        note(f"{audit.events_checked} events, {'intact' if audit.intact else 'BROKEN'}")
    return DemoResult(
        train=train_ds,
        holdout=holdout_ds,
        trained=trained,
        champion=champion,
        previous_champion=previous,
        candidate=newest,
        scored=scored,
        reload_matches=matches,
        lineage=lineage,
        audit=audit,
        audit_events_before=events_before,
        governance=story,
        monitoring=watched,
        serving=served,
        seconds=time.perf_counter() - started,
    )
