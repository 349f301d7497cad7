"""The shipped policies pass complete evidence and refuse each gap with the right rule."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import modelward.governance
from modelward.governance.gate_eval import CompiledPolicy, compile_policy
from modelward.governance.policy_doc import parse_policy

DEFAULTS = Path(modelward.governance.__file__).parent / "default_policies"
TIERS = ("low", "medium", "high", "critical")


def load(tier: str) -> CompiledPolicy:
    return compile_policy(parse_policy((DEFAULTS / f"{tier}.yaml").read_text()), 1)


def complete_context() -> dict[str, Any]:
    """Evidence for a classifier replacing champion v3, meeting every default policy."""
    return {
        "now": 1_700_000_000_000,
        "version": {"model": "credit", "version": 4, "digest": "d4", "flavor": "sklearn"},
        "target": {"alias": "champion", "current_version": 3, "current_digest": "d3"},
        "system": {
            "name": "credit-scoring",
            "risk_tier": "critical",
            "human_in_the_loop": True,
            "open_incidents": 0,
        },
        "evaluations": {
            "holdout": {
                "task": "classification",
                "rows": 2000,
                "roc_auc": 0.81,
                "against": {"version": 3, "digest": "d3"},
                "deltas": {"roc_auc": {"delta": 0.01, "ci_low": -0.004, "ci_high": 0.024}},
                "fairness": {
                    "sex": {"demographic_parity_ratio": 0.92},
                    "age_band": {"demographic_parity_ratio": 0.84},
                },
            }
        },
        "explainability": {"method": "permutation", "features": ["income", "age"]},
        "card": {"card_version": 2, "completeness": 0.9, "missing": [], "required_missing": []},
        "approvals": {"count": 2, "rejections": 0, "approvers": ["ana", "bo"], "request_id": 9},
        "monitoring": {},
        "policy": {"name": "default-critical", "version": 1},
    }


def holdout(ctx: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = ctx["evaluations"]["holdout"]
    return result


Edit = Callable[[dict[str, Any]], None]

# Each gap in the evidence, and the rules it must fail in every tier where they exist.
GAPS: dict[str, tuple[Edit, set[str]]] = {
    "no card written": (
        lambda c: c["card"].update(card_version=0),
        {"model-card"},
    ),
    "card mostly empty": (
        lambda c: c["card"].update(completeness=0.3),
        {"model-card"},
    ),
    "required card section missing": (
        lambda c: c["card"].update(required_missing=["intended_use"]),
        {"card-required-sections"},
    ),
    "no holdout evaluation": (
        lambda c: c["evaluations"].clear(),
        {"holdout-evaluation", "compared-with-champion", "no-regression", "fairness-evidence",
         "demographic-parity"},
    ),
    "holdout evaluation has no rows": (
        lambda c: holdout(c).update(rows=0),
        {"holdout-evaluation"},
    ),
    "compared with an older champion": (
        lambda c: holdout(c)["against"].update(version=2),
        {"compared-with-champion"},
    ),
    "not compared with the champion": (
        lambda c: [holdout(c).pop("against"), holdout(c).pop("deltas")],
        {"compared-with-champion", "no-regression"},
    ),
    "significantly worse than the champion": (
        lambda c: holdout(c)["deltas"]["roc_auc"].update(ci_high=-0.01),
        {"no-regression"},
    ),
    "no approval": (
        lambda c: c["approvals"].update(count=0, approvers=[]),
        {"approvals"},
    ),
    "a rejection": (
        lambda c: c["approvals"].update(rejections=1),
        {"no-rejections"},
    ),
    "no fairness measured": (
        lambda c: holdout(c).update(fairness={}),
        {"fairness-evidence"},
    ),
    "fairness evidence absent": (
        lambda c: holdout(c).pop("fairness"),
        {"fairness-evidence", "demographic-parity"},
    ),
    "disparate selection rates": (
        lambda c: holdout(c)["fairness"]["age_band"].update(demographic_parity_ratio=0.7),
        {"demographic-parity"},
    ),
    "no explainability": (
        lambda c: c.pop("explainability"),
        {"explainability"},
    ),
    "no human in the loop": (
        lambda c: c["system"].update(human_in_the_loop=False),
        {"human-in-the-loop"},
    ),
    "open incident": (
        lambda c: c["system"].update(open_incidents=1),
        {"no-open-incidents"},
    ),
    "model has no AI system": (
        lambda c: c.pop("system"),
        {"human-in-the-loop", "no-open-incidents"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("tier", TIERS)
def test_complete_evidence_passes_every_rule(tier: str) -> None:
    results = load(tier).evaluate(complete_context())
    assert results, "a default policy without rules guards nothing"
    assert [(r.rule, r.outcome, r.detail) for r in results if not r.passed] == []


@pytest.mark.parametrize("tier", TIERS)
def test_default_policies_guard_champion_for_their_tier(tier: str) -> None:
    spec = load(tier).spec
    assert spec.name == f"default-{tier}"
    assert spec.applies(tier, "champion")
    assert not any(spec.applies(other, "champion") for other in TIERS if other != tier)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("gap", sorted(GAPS))
def test_each_gap_fails_exactly_its_rules(tier: str, gap: str) -> None:
    edit, expected = GAPS[gap]
    ctx = copy.deepcopy(complete_context())
    edit(ctx)
    policy = load(tier)
    names = {r.name for r in policy.spec.rules}
    failed = {r.rule for r in policy.evaluate(ctx) if not r.passed}
    assert failed == expected & names


@pytest.mark.parametrize(
    ("tier", "enough"), [("medium", True), ("high", False), ("critical", False)]
)
def test_one_approval_is_enough_only_below_high(tier: str, enough: bool) -> None:
    ctx = complete_context()
    ctx["approvals"].update(count=1, approvers=["ana"])
    failed = [r.rule for r in load(tier).evaluate(ctx) if not r.passed]
    assert failed == ([] if enough else ["approvals"])


@pytest.mark.parametrize("tier", TIERS)
def test_first_promotion_needs_no_comparison(tier: str) -> None:
    ctx = complete_context()
    ctx["target"].update(current_version=0, current_digest="")
    holdout(ctx).pop("against")
    holdout(ctx).pop("deltas")
    assert all(r.passed for r in load(tier).evaluate(ctx))


@pytest.mark.parametrize("tier", ("medium", "high", "critical"))
def test_regressors_are_compared_on_rmse(tier: str) -> None:
    ctx = complete_context()
    holdout(ctx).update(task="regression", rmse=1.3)
    holdout(ctx)["deltas"] = {"rmse": {"delta": -0.05, "ci_low": -0.1, "ci_high": 0.01}}
    assert all(r.passed for r in load(tier).evaluate(ctx))
    holdout(ctx)["deltas"]["rmse"].update(ci_low=0.02, ci_high=0.2)
    failed = [r for r in load(tier).evaluate(ctx) if not r.passed]
    assert [(r.rule, r.outcome) for r in failed] == [("no-regression", "fail")]


def test_missing_evidence_is_reported_as_missing_not_as_a_failure() -> None:
    ctx = complete_context()
    ctx["evaluations"].clear()
    by_rule = {r.rule: r for r in load("medium").evaluate(ctx)}
    assert by_rule["holdout-evaluation"].outcome == "missing"
    assert by_rule["holdout-evaluation"].detail == "missing: evaluations.holdout.rows"
    assert by_rule["no-regression"].outcome == "missing"
