"""Policy documents are refused at save time, with the field and the spot in the file."""

from __future__ import annotations

import pytest

from modelward.errors import InvalidInput
from modelward.governance.policy_doc import MAX_DOCUMENT_BYTES, parse_policy

BASE = """\
name: high-tier-production
description: Evidence before a high-risk model serves decisions.
applies_to:
  risk_tiers: [high]
  aliases: [champion]
enabled: true
rules:
  - name: holdout-auc
    expr: evaluations.holdout.roc_auc >= 0.70
    message: Holdout ROC AUC must be at least 0.70.
"""


def refused(text: str) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        parse_policy(text)
    return info.value


def with_expr(block: str) -> str:
    """BASE with the first rule's ``expr:`` line replaced by ``block``."""
    return BASE.replace("    expr: evaluations.holdout.roc_auc >= 0.70\n", block)


def test_valid_document_parses_into_a_spec() -> None:
    spec = parse_policy(BASE)
    assert spec.name == "high-tier-production"
    assert spec.applies_to.risk_tiers == ["high"]
    assert spec.applies_to.aliases == ["champion"]
    assert spec.enabled is True
    assert [(r.name, r.expr) for r in spec.rules] == [
        ("holdout-auc", "evaluations.holdout.roc_auc >= 0.70")
    ]
    assert spec.applies("high", "champion")
    assert not spec.applies("low", "champion")
    assert not spec.applies("high", "staging")


def test_syntax_error_in_plain_expression_names_file_line_and_column() -> None:
    expr = "evaluations.holdout.roc_auc >= (0.70"
    err = refused(with_expr(f"    expr: {expr}\n"))
    assert err.field == "rules[0].expr"
    # The parser stops just past the last character: after "    expr: " and the expression.
    column = len("    expr: ") + len(expr) + 1
    assert err.message.startswith(
        f"rules[0].expr (line 9, column {column}): Syntax error: missing ')'"
    )


def test_syntax_error_in_block_scalar_counts_from_the_line_after_the_indicator() -> None:
    block = (
        "    expr: |\n"
        "      approvals.count >= 1 &&\n"
        "        evaluations.holdout.roc_auc >= >= 0.7\n"
    )
    err = refused(with_expr(block))
    assert err.field == "rules[0].expr"
    # Third line of the rule (line 11 of the file); the second ">=" starts at column 40.
    assert "(line 11, column 40): Syntax error" in err.message


def test_syntax_error_in_flow_yaml_points_inside_the_quoted_expression() -> None:
    doc = (
        "{name: p, applies_to: {risk_tiers: [low], aliases: [champion]},\n"
        " rules: [{name: a, expr: 'approvals.count >= )', message: m}]}\n"
    )
    err = refused(doc)
    assert err.field == "rules[0].expr"
    line2 = doc.splitlines()[1]
    column = line2.index("'approvals") + 1 + len("approvals.count >= ") + 1
    assert f"(line 2, column {column}): Syntax error" in err.message


def test_misspelt_root_identifier_is_refused_with_a_suggestion() -> None:
    err = refused(with_expr("    expr: evalutions.holdout.roc_auc >= 0.70\n"))
    assert err.field == "rules[0].expr"
    assert "(line 9, column 11)" in err.message
    assert "unknown identifier 'evalutions'" in err.message
    assert "did you mean 'evaluations'?" in err.message


def test_comprehension_variables_strings_and_comments_are_not_identifiers() -> None:
    expr = (
        "    expr: >-\n"
        "      evaluations.holdout.fairness.all(col,\n"
        "        evaluations.holdout.fairness[col].demographic_parity_ratio >= 0.8)\n"
        "      && version.flavor != 'bogus.identifier' // trailing remark mentions nothing\n"
        "      && type(now) == int\n"
    )
    spec = parse_policy(with_expr(expr))
    assert "col" in spec.rules[0].expr


def test_unknown_identifier_after_a_comprehension_is_still_caught() -> None:
    err = refused(with_expr("    expr: card.missing.all(s, s != '') && aprovals.count > 1\n"))
    assert "unknown identifier 'aprovals'" in err.message
    assert "did you mean 'approvals'?" in err.message


@pytest.mark.parametrize(
    ("old", "new", "field", "reason"),
    [
        ("description: E", "descriptio: E", "descriptio", "(line 2, column 1): unknown key"),
        ("risk_tiers: [high]", "risk_tiers: [hgh]", "applies_to.risk_tiers[0]", "not a risk tier"),
        ("risk_tiers: [high]", "risk_tiers: []", "applies_to.risk_tiers", "at least 1"),
        ("aliases: [champion]", "aliases: [bad alias]", "applies_to.aliases[0]", "invalid name"),
        ("name: high-tier-production", "name: -x", "name", "invalid name '-x'"),
        ("    message: Holdout ROC AUC must be at least 0.70.\n", "", "rules[0].message",
         "is required"),
        ("enabled: true", "enabled: maybe", "enabled", "boolean"),
        ("    expr: evaluations.holdout.roc_auc >= 0.70", "    expr: ''", "rules[0].expr",
         "at least 1 character"),
    ],
)  # fmt: skip
def test_field_problems_name_the_field(old: str, new: str, field: str, reason: str) -> None:
    err = refused(BASE.replace(old, new))
    assert err.field == field
    assert err.message.startswith(field)
    assert reason in err.message


def test_duplicate_rule_names_are_refused_at_the_second_rule() -> None:
    doc = BASE + "  - name: holdout-auc\n    expr: approvals.count >= 1\n    message: m\n"
    err = refused(doc)
    assert err.field == "rules[1].name"
    assert "(line 11, column 11)" in err.message
    assert "'holdout-auc' is used twice" in err.message


def test_duplicate_yaml_keys_are_refused() -> None:
    err = refused(BASE.replace("enabled: true", "enabled: true\nenabled: false"))
    assert err.field == "enabled"
    assert "key appears twice" in err.message


def test_empty_rules_are_refused() -> None:
    err = refused(BASE.split("rules:")[0] + "rules: []\n")
    assert err.field == "rules"
    assert "at least one rule" in err.message


def test_bad_yaml_reports_its_line_and_column() -> None:
    err = refused(BASE.replace("aliases: [champion]", "aliases: [champion"))
    assert err.field == "document"
    assert err.message.startswith("invalid YAML at line 6, column")


@pytest.mark.parametrize(
    ("text", "shape"), [("", "empty"), ("- a\n- b\n", "a list"), ("just words", "a str")]
)
def test_document_must_be_a_mapping(text: str, shape: str) -> None:
    err = refused(text)
    assert err.field == "document"
    assert err.message.endswith(f"this one is {shape}")


def test_oversized_document_is_refused_before_parsing() -> None:
    err = refused(BASE + "#" * MAX_DOCUMENT_BYTES)
    assert err.field == "document"
    assert "limit is 262144" in err.message


def test_overlong_expression_is_refused() -> None:
    long_expr = " || ".join(["approvals.count > 1"] * 300)
    err = refused(with_expr(f"    expr: {long_expr}\n"))
    assert err.field == "rules[0].expr"
    assert "at most 4000 characters" in err.message
