"""Evaluations and explanations as stored evidence: what is kept, and what the gate sees."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

import modelward as mw
from modelward.demo.scenario import HOLDOUT_DATASET, TARGET

CLASSIFICATION_METRICS = {
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "pr_auc",
    "log_loss",
    "brier",
    "ece",
}


def _evaluate(client: mw.Client, kit: Any, ref: str, **extra: Any) -> Any:
    return client.evaluate(
        ref,
        dataset=HOLDOUT_DATASET,
        target=TARGET,
        against="champion",
        sensitive=[kit.sensitive],
        bootstrap=200,
        seed=7,
        **extra,
    )


def test_evaluation_against_champion_is_evidence_the_gate_reads(
    client: mw.Client, kit: Any, governed: Any
) -> None:
    rows = len(kit.models.holdout)
    first = _evaluate(client, kit, governed.candidate, slice_by=["foreign_worker"])
    version = client.get_version(governed.candidate)
    dataset = client.get_dataset(governed.holdout)
    assert (first.model, first.version, first.against_version) == (kit.model, 2, 1)
    assert (first.dataset, first.dataset_digest) == (governed.holdout, dataset.digest)
    assert (first.model_digest, first.name, first.task) == (
        version.digest,
        "holdout",
        "classification",
    )
    assert first.created_by == "test-admin"

    results = first.results
    json.dumps(results, allow_nan=False)  # nothing non-finite is ever stored
    assert (results["rows"], results["target"]) == (rows, TARGET)
    assert set(results["metrics"]) == CLASSIFICATION_METRICS
    assert all(type(v) is float and math.isfinite(v) for v in results["metrics"].values())
    assert 0.6 < results["metrics"]["roc_auc"] <= 1.0
    assert results["latency_ms"]["p50"] <= results["latency_ms"]["p95"]
    assert results["bootstrap"] == {"resamples": 200, "seed": 7, "confidence": 0.95}
    for metric, d in results["deltas"].items():
        assert d["ci_low"] <= d["delta"] <= d["ci_high"], metric
    parity = results["fairness"][kit.sensitive]
    assert sum(g["rows"] for g in parity["groups"].values()) == rows
    assert 0.0 < parity["demographic_parity_ratio"] <= 1.0
    assert sum(s["rows"] for s in results["slices"]["foreign_worker"].values()) == rows

    # Same data, same seed: the same intervals. The newest evaluation is the one in force.
    second = _evaluate(client, kit, governed.candidate)
    assert second.results["deltas"] == results["deltas"]
    assert [e.id for e in client.list_evaluations(governed.candidate)] == [second.id, first.id]
    assert client.get_evaluation(first.id) == first

    context = client.check_policy(governed.candidate, "champion", context=True).context
    holdout = context["evaluations"]["holdout"]
    assert (holdout["id"], holdout["rows"], holdout["dataset"]) == (
        second.id,
        rows,
        governed.holdout,
    )
    assert holdout["roc_auc"] == second.results["metrics"]["roc_auc"]
    assert holdout["against"] == {
        "version": 1,
        "digest": client.get_version(governed.champion).digest,
    }
    assert holdout["deltas"] == second.results["deltas"]
    assert "slices" not in holdout or holdout["slices"] == {}

    events = client.list_audit_events(action="evaluation.create")
    assert [(e.entity_id, e.summary) for e in events] == [
        (ev.id, {"ref": governed.candidate, "name": "holdout", "dataset": governed.holdout})
        for ev in (first, second)
    ]


def test_explanation_ranks_features_and_satisfies_the_explainability_rule(
    client: mw.Client, kit: Any, governed: Any
) -> None:
    def explainability() -> str:
        report = client.check_policy(governed.candidate, "champion")
        return next(r.outcome for r in report.results if r.rule == "explainability")

    assert explainability() == "fail"
    out = client.explain(
        governed.candidate, dataset=HOLDOUT_DATASET, target=TARGET, n_repeats=2, sample=250
    )
    features = out.results["features"]
    importance = out.results["importance"]
    assert out.method == "permutation" and out.dataset == governed.holdout
    assert set(features) == set(importance) == set(kit.models.train.columns) - {TARGET}
    assert [importance[f] for f in features] == sorted(importance.values(), reverse=True)
    assert [e.id for e in client.list_explanations(governed.candidate)] == [out.id]
    assert explainability() == "pass"

    seen = client.check_policy(governed.candidate, "champion", context=True).context
    assert seen["explainability"]["method"] == "permutation"
    assert seen["explainability"]["features"] == features

    with pytest.raises(mw.InvalidInput) as itself:
        client.evaluate(
            governed.champion, dataset=HOLDOUT_DATASET, target=TARGET, against="champion"
        )
    assert itself.value.field == "against"
    assert "is the version being evaluated" in itself.value.message
