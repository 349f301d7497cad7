"""Model cards: the MCT-shaped card, completeness per risk tier, and byte-stable rendering."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from modelward.errors import InvalidInput
from modelward.governance.cards import (
    CARD_FIELDS,
    HUMAN_SECTIONS,
    TIER_REQUIRED,
    build_card,
    completeness,
    render_html,
    render_markdown,
    validate_sections,
)


def evidence(**overrides: Any) -> dict[str, Any]:
    """What the registry knows about credit v3: a high-risk system, one evaluation, SHAP-free."""
    base: dict[str, Any] = {
        "version": {
            "model": "credit",
            "version": 3,
            "digest": "ab" * 32,
            "flavor": "sklearn",
            "created_by": "ana",
            "created_at": "2024-05-01T10:00:00+00:00",
            "run_id": "r1",
            "signature": {
                "inputs": [{"name": "amount", "type": "double"}, {"name": "age", "type": "long"}],
                "outputs": [{"name": "bad", "type": "long"}],
            },
            "description": "Logistic regression on applicant features.",
            "trusted": True,
            "aliases": ["champion"],
            "parent_version": 2,
        },
        "system": {
            "name": "credit-scoring",
            "purpose": "Rank loan applications for manual review.",
            "business_owner": "lending",
            "technical_owner": "risk-ml",
            "risk_tier": "high",
            "tier_rationale": "Access to credit.",
            "decision_type": "advisory",
            "human_in_the_loop": True,
            "affected_people": "Loan applicants",
            "regulatory_tags": ["gdpr", "eu-ai-act"],
            "limitations": "",
            "status": "active",
        },
        "training_data": [
            {
                "ref": "credit-train/1",
                "digest": "cd" * 32,
                "num_rows": 800,
                "num_columns": 4,
                "schema": [{"name": "amount", "dtype": "float64"}, {"name": "age", "dtype": "int"}],
                "profile": {"columns": {}},
                "role": "training",
            }
        ],
        "evaluations": [
            {
                "id": "ev1",
                "name": "holdout",
                "dataset": "credit-holdout/2",
                "dataset_digest": "ef" * 32,
                "task": "classification",
                "against_version": 2,
                "created_at": "2024-05-02T09:00:00+00:00",
                "created_by": "ana",
                "results": {
                    "task": "classification",
                    "rows": 200,
                    "target": "bad",
                    "positive_label": "1",
                    "threshold": 0.5,
                    "metrics": {"roc_auc": 0.8123, "accuracy": 0.9},
                    "latency_ms": {"p50": 1.5, "p95": 3.0, "batch_rows": 50, "batches": 4},
                    "slices": {
                        "age_band": {
                            "<30": {"rows": 80, "accuracy": 0.85},
                            "30+": {"rows": 120, "accuracy": 0.93, "roc_auc": 0.79},
                        }
                    },
                    "fairness": {
                        "age": {
                            "demographic_parity_difference": 0.07,
                            "demographic_parity_ratio": 0.88,
                            "equalized_odds_difference": 0.11,
                            "groups": {
                                "<30": {"rows": 80, "selection_rate": 0.31, "accuracy": 0.85},
                                "30+": {"rows": 120, "selection_rate": 0.24, "accuracy": 0.93},
                            },
                        }
                    },
                    "deltas": {"roc_auc": {"delta": 0.012, "ci_low": -0.004, "ci_high": 0.03}},
                    "undefined": {"slices.age_band.<30.roc_auc": "one class in slice"},
                    "bootstrap": {"resamples": 200, "seed": 0, "confidence": 0.95},
                },
            }
        ],
        "explainability": {
            "method": "permutation",
            "features": ["amount", "age"],
            "importance": {"amount": 0.21, "age": 0.034},
            "rows": 200,
            "dataset": "credit-holdout/2",
            "created_at": "2024-05-02T10:00:00+00:00",
        },
        "lineage": {
            "run": {"id": "r1", "experiment": "credit", "params": {"C": "1.0"}, "metrics": {}},
            "datasets": [
                {"dataset": "credit-train", "version": 1, "content_hash": "9f", "role": "training"}
            ],
            "parent": 2,
            "code": {"commit": "4e1c2b7", "dirty": True, "branch": "main"},
        },
        "deployment": {
            "aliases": ["champion"],
            "production_alias": "champion",
            "in_production": True,
        },
    }
    base.update(overrides)
    return base


FULL_SECTIONS = {
    "overview": "Scores applications by default risk.",
    "intended_use": "Prioritise manual review.",
    "out_of_scope_uses": "Automatic rejection.",
    "users": "Credit analysts.",
    "limitations": "Few applicants over 70.",
    "tradeoffs": "Recall over precision.",
    "ethical_considerations": [{"name": "Age", "mitigation_strategy": "Monitor parity by age."}],
    "caveats_and_recommendations": "Recalibrate quarterly.",
    "license": "Internal use only.",
    "contact": "risk-ml@example.com",
}


def test_card_follows_the_model_card_toolkit_shape() -> None:
    card = build_card(evidence(), FULL_SECTIONS)
    details = card["model_details"]
    assert details["name"] == "credit"
    assert details["version"] == {
        "name": "3",
        "date": "2024-05-01T10:00:00+00:00",
        "diff": "derived from version 2",
    }
    assert details["owners"] == [
        {"name": "risk-ml", "contact": "risk-ml@example.com"},
        {"name": "lending", "contact": "risk-ml@example.com"},
    ]
    assert card["model_parameters"]["model_architecture"] == "sklearn"
    assert card["model_parameters"]["input_format"] == "amount: double, age: long"
    [data] = card["model_parameters"]["data"]
    assert data["name"] == "credit-train/1"
    # The column a fairness analysis grouped by is flagged as sensitive in the training data.
    assert data["sensitive"] == {"sensitive_data": ["age"]}

    metrics = card["quantitative_analysis"]["performance_metrics"]
    assert {"type": "roc_auc", "value": 0.8123, "slice": ""}.items() <= metrics[1].items()
    sliced = [m for m in metrics if m["slice"] == "age_band=30+"]
    assert {m["type"] for m in sliced} == {"accuracy", "roc_auc"}
    [delta] = [m for m in metrics if m["type"] == "roc_auc_delta"]
    assert delta["confidence_interval"] == {"lower_bound": -0.004, "upper_bound": 0.03}

    considerations = card["considerations"]
    assert considerations["use_cases"] == [{"description": "Prioritise manual review."}]
    assert considerations["ethical_considerations"] == FULL_SECTIONS["ethical_considerations"]
    assert card["governance"]["risk_tier"] == "high"
    assert card["governance"]["regulatory_tags"] == ["eu-ai-act", "gdpr"]
    assert card["explainability"]["features"][0] == {"name": "amount", "importance": 0.21}
    assert card["deployment"]["in_production"] is True
    json.dumps(card, allow_nan=False)  # the card is stored and hashed as JSON


def test_only_the_newest_evaluation_of_each_name_is_shown() -> None:
    ev = evidence()
    older = copy.deepcopy(ev["evaluations"][0])
    older.update(id="ev0", created_at="2024-04-01T00:00:00+00:00")
    older["results"]["metrics"] = {"roc_auc": 0.5}
    ev["evaluations"].append(older)
    card = build_card(ev, {})
    assert [e["id"] for e in card["evaluations"]] == ["ev1"]
    assert card["evaluations"][0]["metrics"]["roc_auc"] == 0.8123


def test_rendering_is_byte_for_byte_deterministic() -> None:
    first = build_card(evidence(), FULL_SECTIONS)
    # The same evidence with every mapping in reverse insertion order.
    reordered = json.loads(json.dumps(evidence()), object_pairs_hook=lambda p: dict(reversed(p)))
    sections = dict(reversed(list(FULL_SECTIONS.items())))
    second = build_card(reordered, sections)
    assert render_markdown(first).encode() == render_markdown(second).encode()
    assert render_html(first).encode() == render_html(second).encode()
    assert render_html(first) == render_html(build_card(evidence(), FULL_SECTIONS))


@pytest.mark.parametrize(
    ("tier", "required_missing"),
    [
        (None, ["overview", "intended_use"]),
        ("low", ["overview", "intended_use"]),
        ("medium", ["overview", "intended_use", "users", "limitations"]),
        (
            "high",
            [
                "overview",
                "intended_use",
                "out_of_scope_uses",
                "users",
                "limitations",
                "ethical_considerations",
            ],
        ),
        (
            "critical",
            [
                "overview",
                "intended_use",
                "out_of_scope_uses",
                "users",
                "limitations",
                "ethical_considerations",
                "caveats_and_recommendations",
                "contact",
            ],
        ),
    ],
)
def test_completeness_names_what_each_tier_still_requires(
    tier: str | None, required_missing: list[str]
) -> None:
    # Evidence is complete (evaluation, data, fairness, importance, lineage, register entry);
    # no person has written anything yet.
    result = completeness(build_card(evidence(), {}), tier)
    assert result["missing"] == list(HUMAN_SECTIONS)
    assert result["required_missing"] == required_missing
    assert result["score"] == round(6 / 16, 4)


def test_a_fully_written_card_meets_every_tier() -> None:
    card = build_card(evidence(), FULL_SECTIONS)
    for tier in TIER_REQUIRED:
        assert completeness(card, tier) == {"score": 1.0, "missing": [], "required_missing": []}


def test_missing_evidence_counts_against_the_tier() -> None:
    bare = evidence(system=None, evaluations=[], explainability=None, training_data=[])
    bare["lineage"] = {"run": None, "datasets": [], "parent": None, "code": None}
    result = completeness(build_card(bare, FULL_SECTIONS), "high")
    generated = ["evaluation", "training_data", "fairness", "explainability", "lineage"]
    assert result["missing"] == [*generated, "governance"]
    assert result["required_missing"] == [
        "evaluation",
        "training_data",
        "fairness",
        "explainability",
    ]
    assert result["score"] == round(10 / len(CARD_FIELDS), 4)
    # The page still renders, saying what is absent.
    html = render_html(build_card(bare, {}))
    assert "No evaluation recorded." in html and "Not registered in the AI register." in html


def test_an_unknown_tier_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        completeness(build_card(evidence(), {}), "extreme")
    assert err.value.field == "tier"


def test_sections_are_validated_and_normalised() -> None:
    clean = validate_sections({"users": "  analysts \n", "overview": "", "license": "MIT"})
    assert clean == {"license": "MIT", "users": "analysts"}
    assert validate_sections({"ethical_considerations": "Age bias."}) == {
        "ethical_considerations": "Age bias."
    }


@pytest.mark.parametrize(
    ("sections", "field"),
    [
        ({"purpose": "x"}, "sections.purpose"),
        ({"overview": 3}, "sections.overview"),
        ({"overview": "x" * 20_001}, "sections.overview"),
        ({"users": ["a"]}, "sections.users"),
        (
            {"ethical_considerations": [{"name": "a", "risk": "b"}]},
            "sections.ethical_considerations[0].risk",
        ),
        (
            {"ethical_considerations": [{"mitigation_strategy": "b"}]},
            "sections.ethical_considerations[0].name",
        ),
        ({"ethical_considerations": ["a"]}, "sections.ethical_considerations[0]"),
    ],
)
def test_bad_sections_name_the_offending_key(sections: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_sections(sections)
    assert err.value.field == field
    assert field in err.value.message


def test_html_escapes_what_people_write() -> None:
    hostile = {
        "overview": "Scores <script>alert('x')</script> applicants & more",
        "ethical_considerations": [
            {"name": "<img src=x onerror=alert(1)>", "mitigation_strategy": "ok"}
        ],
    }
    ev = evidence()
    ev["system"]["name"] = "<b>sys</b>"
    html = render_html(build_card(ev, hostile))
    assert "<script>" not in html and "<img" not in html and "<b>sys" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; applicants &amp; more" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_html_is_one_self_contained_page() -> None:
    html = render_html(build_card(evidence(), FULL_SECTIONS))
    assert html.startswith("<!DOCTYPE html>")
    assert 'name="viewport"' in html and "<style>" in html
    for external in ("http://", "https://", "<link", "<script", "src="):
        assert external not in html
    # Metrics, slices and fairness are tables; importance bars carry their numbers as text.
    assert "<caption>Overall</caption>" in html and "<caption>By age_band</caption>" in html
    assert "<caption>Groups of age</caption>" in html
    assert '<span class="val">0.2100</span>' in html and "width:100.0%" in html
    assert "width:16.2%" in html  # age: 0.034 of the largest importance, 0.21


def test_markdown_shows_every_section_and_keeps_tables_intact() -> None:
    sections = {"overview": "Line one.\n\nLine two.", "users": "Analysts"}
    ev = evidence()
    ev["training_data"][0]["ref"] = "credit|train/1"
    md = render_markdown(build_card(ev, sections))
    assert md.startswith("# Model card: credit version 3\n")
    assert "## Overview\n\nLine one.\n\nLine two.\n" in md
    assert "## Tradeoffs\n\n_Not provided._\n" in md
    assert "| roc_auc | 0.8123 |" in md
    assert "| 30+ | 120 | 0.9300 | 0.7900 |" in md
    assert "| roc_auc | 0.0120 | -0.0040 | 0.0300 |" in md
    assert "credit\\|train/1" in md  # a pipe in a value does not split the table row
    assert "| amount | 0.2100 |" in md
    assert "- **Datasets:** credit-train/1 (training)\n" in md
    assert "- **Code:** 4e1c2b7 on main with uncommitted changes\n" in md
    assert "\n\n\n" not in md and md.endswith("\n")
