"""Rules fail closed: absent evidence is "missing", surprises are "error", never a crash."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console

from modelward.governance.gate_eval import (
    MISSING,
    CompiledPolicy,
    Evidence,
    RuleResult,
    compile_policy,
    evaluate_policies,
    lookup,
    referenced_paths,
)
from modelward.governance.policy_doc import parse_policy
from modelward.governance.results_table import results_table, summary_line


def policy(*rules: tuple[str, str], name: str = "p", version: int = 1) -> CompiledPolicy:
    lines = [
        f"name: {name}",
        "applies_to: {risk_tiers: [high], aliases: [champion]}",
        "rules:",
    ]
    for rule, expr in rules:
        lines += [f"  - name: {rule}", f"    expr: {expr!r}", f"    message: {rule} message"]
    return compile_policy(parse_policy("\n".join(lines) + "\n"), version)


def context() -> dict[str, Any]:
    return {
        "now": 1_700_000_000_000,
        "evaluations": {
            "holdout": {
                "task": "classification",
                "rows": 500,
                "roc_auc": 0.83,
                "fairness": {
                    "sex": {"demographic_parity_ratio": 0.91},
                    "age_band": {"demographic_parity_ratio": 0.85},
                },
            }
        },
        "approvals": {"count": 2, "rejections": 0, "approvers": ["ana", "bo"], "request_id": 4},
        "card": {"card_version": 1, "completeness": 0.8, "missing": [], "required_missing": []},
    }


def one(p: CompiledPolicy, ctx: dict[str, Any] | None = None) -> RuleResult:
    [result] = p.evaluate(context() if ctx is None else ctx)
    return result


def test_true_passes_and_false_fails_with_the_values_seen() -> None:
    ok = one(policy(("auc", "evaluations.holdout.roc_auc >= 0.70")))
    assert (ok.outcome, ok.passed, ok.detail) == ("pass", True, "")
    assert ok.values == {"evaluations.holdout.roc_auc": 0.83}
    low = one(policy(("auc", "evaluations.holdout.roc_auc >= 0.90")))
    assert (low.outcome, low.passed) == ("fail", False)
    assert low.values == {"evaluations.holdout.roc_auc": 0.83}
    assert low.message == "auc message"


def test_absent_metric_is_missing_and_names_its_path() -> None:
    r = one(policy(("pr", "evaluations.holdout.pr_auc >= 0.5")))
    assert r.outcome == "missing"
    assert r.detail == "missing: evaluations.holdout.pr_auc"
    assert r.values == {"evaluations.holdout.pr_auc": "<missing>"}


def test_absent_evaluation_reports_the_full_path_the_rule_needed() -> None:
    r = one(policy(("val", "approvals.count > 0 && evaluations.validation.rows > 0")))
    assert r.outcome == "missing"
    assert r.detail == "missing: evaluations.validation.rows"
    assert r.values == {"approvals.count": 2, "evaluations.validation.rows": "<missing>"}


def test_missing_names_the_path_actually_reached_in_a_conditional() -> None:
    expr = (
        "evaluations.holdout.task == 'classification'"
        " ? evaluations.holdout.deltas.roc_auc.ci_high >= 0.0"
        " : evaluations.holdout.deltas.rmse.ci_low <= 0.0"
    )
    ctx = context()
    ctx["evaluations"]["holdout"].update(task="regression", deltas={})
    r = one(policy(("delta", expr)), ctx)
    assert r.outcome == "missing"
    assert r.detail == "missing: evaluations.holdout.deltas.rmse.ci_low"


def test_absent_root_section_is_missing_and_has_answers_false() -> None:
    sys_rule = policy(("hitl", "system.human_in_the_loop == true"))
    r = one(sys_rule)
    assert (r.outcome, r.detail) == ("missing", "missing: system.human_in_the_loop")
    explained = one(policy(("xai", "has(explainability.method)")))
    assert explained.outcome == "fail"
    assert explained.values == {"explainability.method": "<missing>"}


def test_absent_scalar_root_is_missing() -> None:
    ctx = context()
    del ctx["now"]
    r = one(policy(("fresh", "now > 0")), ctx)
    assert (r.outcome, r.detail) == ("missing", "missing: now")


def test_comprehension_over_members_reports_the_member_lacking_a_metric() -> None:
    expr = (
        "evaluations.holdout.fairness.all(c,"
        " evaluations.holdout.fairness[c].demographic_parity_ratio >= 0.8)"
    )
    p = policy(("parity", expr))
    assert one(p).outcome == "pass"
    ctx = context()
    del ctx["evaluations"]["holdout"]["fairness"]["age_band"]["demographic_parity_ratio"]
    r = one(p, ctx)
    assert r.outcome == "missing"
    assert r.detail == ("missing: evaluations.holdout.fairness.age_band.demographic_parity_ratio")


def test_int_and_double_arithmetic_is_an_error_not_a_crash() -> None:
    r = one(policy(("mix", "evaluations.holdout.rows + 0.5 > 100.0")))
    assert r.outcome == "error"
    assert r.detail.startswith("No such overload")
    assert r.values == {"evaluations.holdout.rows": 500}


def test_non_boolean_result_is_an_error_naming_the_value_and_its_type() -> None:
    r = one(policy(("auc", "evaluations.holdout.roc_auc")))
    assert r.outcome == "error"
    assert r.detail == "rule must give true or false, gave 0.83 (double)"


def test_runtime_failure_is_an_error_with_its_message() -> None:
    ctx = context()
    ctx["approvals"]["rejections"] = 0
    r = one(policy(("div", "10 / approvals.rejections > 1")), ctx)
    assert r.outcome == "error"
    assert "division by zero" in r.detail


def test_long_values_are_shortened_for_display_and_storage() -> None:
    ctx = context()
    ctx["card"]["missing"] = [f"section-{i}" for i in range(100)]
    r = one(policy(("card", "size(card.missing) == 0")), ctx)
    shown = r.values["card.missing"]
    assert isinstance(shown, str) and len(shown) <= 200 and shown.endswith("…")
    small = one(policy(("card", "size(card.required_missing) == 0")))
    assert small.values == {"card.required_missing": []}


def test_referenced_paths_follow_members_and_literal_indexes_but_not_bound_variables() -> None:
    expr = (
        "evaluations['holdout'].roc_auc > 0.7"
        " && evaluations.holdout.fairness.all(c, evaluations.holdout.fairness[c].x > 0.8)"
        " && size(card.required_missing) == 0 && approvals.approvers.exists(a, a == 'x')"
        " && version.flavor != 'system.risk_tier' // policy.name in a comment"
    )
    assert referenced_paths(expr) == [
        "evaluations.holdout.roc_auc",
        "evaluations.holdout.fairness",
        "card.required_missing",
        "approvals.approvers",
        "version.flavor",
    ]


def test_lookup_returns_the_sentinel_for_absent_paths() -> None:
    ctx = context()
    assert lookup(ctx, "approvals.count") == 2
    assert lookup(ctx, "approvals.count.more") is MISSING
    assert lookup(ctx, "system.name") is MISSING


def test_one_evidence_serves_every_policy_and_results_keep_policy_identity() -> None:
    first = policy(("auc", "evaluations.holdout.roc_auc >= 0.7"), name="quality", version=3)
    second = policy(
        ("approved", "approvals.count >= 3"), ("card", "card.completeness >= 0.5"), name="gov"
    )
    evidence = Evidence(context())
    results = evaluate_policies([first, second], evidence)
    assert [(r.policy, r.policy_version, r.rule, r.outcome) for r in results] == [
        ("quality", 3, "auc", "pass"),
        ("gov", 1, "approved", "fail"),
        ("gov", 1, "card", "pass"),
    ]
    # A comprehension variable must not leak into the shared context for later rules.
    leak = policy(("a", "approvals.approvers.all(x, x != '')"), ("b", "has(approvals.x)"))
    assert [r.outcome for r in leak.evaluate(evidence)] == ["pass", "fail"]


def test_compiled_policies_are_reused_for_the_same_document() -> None:
    a = policy(("auc", "evaluations.holdout.roc_auc >= 0.7"), version=7)
    b = policy(("auc", "evaluations.holdout.roc_auc >= 0.7"), version=7)
    c = policy(("auc", "evaluations.holdout.roc_auc >= 0.8"), version=7)
    assert a is b and a is not c
    stored = compile_policy(a.spec.model_dump(mode="json"), 7, digest="d1")
    assert compile_policy({"not": "validated on a hit"}, 7, digest="d1") is stored


def test_results_round_trip_through_dicts() -> None:
    r = one(policy(("pr", "evaluations.holdout.pr_auc >= 0.5")))
    assert RuleResult.from_dict(r.to_dict()) == r
    assert r.to_dict()["detail"] == "missing: evaluations.holdout.pr_auc"


@pytest.mark.parametrize(
    ("outcomes", "line"),
    [
        ([], "no rules apply"),
        (["pass", "pass"], "all 2 rules passed"),
        (["pass", "fail", "missing"], "2 of 3 rules failed: r1, r2"),
    ],
)
def test_summary_line(outcomes: list[str], line: str) -> None:
    results = [RuleResult("p", 1, f"r{i}", o, "m", {}, "") for i, o in enumerate(outcomes)]
    assert summary_line(results) == line


def test_results_table_shows_outcomes_values_and_details() -> None:
    p = policy(
        ("auc", "evaluations.holdout.roc_auc >= 0.7"),
        ("pr", "evaluations.holdout.pr_auc >= 0.5"),
        ("mix", "evaluations.holdout.rows + 0.5 > 1.0"),
        name="quality",
    )
    console = Console(width=200, record=True, color_system=None)
    console.print(results_table(p.evaluate(context()), title="credit-model v3 → champion"))
    out = console.export_text()
    for text in (
        "credit-model v3 → champion",
        "PASS",
        "MISSING",
        "ERROR",
        "evaluations.holdout.roc_auc=0.83",
        "evaluations.holdout.pr_auc=<missing>",
        "missing: evaluations.holdout.pr_auc",
        "quality v1",
    ):
        assert text in out


def test_rules_reading_one_map_differently_each_see_what_they_need() -> None:
    fairness = "evaluations.holdout.fairness"
    p = policy(
        ("columns", f"size({fairness}) == 2"),
        ("parity", f"{fairness}.all(c, {fairness}[c].demographic_parity_ratio >= 0.8)"),
        ("named", f"{fairness}.exists(c, c == 'sex') && {fairness}.sex.groups == null"),
        ("whole", f"{fairness} == {{}}"),
    )
    ctx = context()
    ctx["evaluations"]["holdout"]["fairness"]["sex"]["groups"] = None
    assert [(r.rule, r.outcome) for r in p.evaluate(ctx)] == [
        ("columns", "pass"),
        ("parity", "pass"),
        ("named", "pass"),
        ("whole", "fail"),
    ]


def test_short_circuit_skips_absent_evidence_and_has_checks_presence() -> None:
    p = policy(
        ("first", "approvals.count > 1 || evaluations.validation.rows > 0"),
        ("ternary", "approvals.count > 1 ? true : evaluations.validation.rows > 0"),
        ("deep-has", "has(evaluations.validation.rows)"),
        ("root-has", "has(system.name) || has(explainability.method)"),
    )
    assert [(r.rule, r.outcome, r.detail) for r in p.evaluate(context())] == [
        ("first", "pass", ""),
        ("ternary", "pass", ""),
        ("deep-has", "missing", "missing: evaluations.validation.rows"),
        ("root-has", "fail", ""),
    ]


def test_literal_keys_with_dots_are_read_as_one_key() -> None:
    ctx = context()
    ctx["evaluations"]["holdout"]["slices"] = {"region.code": {"N": {"rows": 10}}}
    r = one(policy(("slice", "evaluations.holdout.slices['region.code'].N.rows == 10")), ctx)
    assert r.outcome == "pass"
