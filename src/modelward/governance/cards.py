"""Model cards: built from stored evidence plus the sections only a person can write.

The card's shape follows Google's Model Card Toolkit schema where the two overlap
(``model_details``, ``model_parameters``, ``quantitative_analysis``, ``considerations``,
with MCT's field names), and adds what a governed registry knows and MCT has no place for:
``evaluations`` (the newest evaluation per name, as policies see it), ``fairness``,
``explainability``, ``lineage``, ``deployment``, ``governance`` (the AI-register entry) and
``integrity``.

Everything here is pure: no database, no clock. The same evidence and sections always give
the same card and the same rendered bytes, because a rendered card is hashed and bound into
the audit trail.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from modelward.errors import InvalidInput

CARD_SCHEMA = "modelward-model-card/1"

HUMAN_SECTIONS: dict[str, str] = {
    "overview": "What the model does and how it is meant to be used, in a few sentences.",
    "intended_use": "The decisions or tasks the model was built and validated for.",
    "out_of_scope_uses": "Uses the model must not be put to, and why.",
    "users": "Who uses the model's outputs (teams, roles, downstream systems).",
    "limitations": "Known weaknesses: populations, conditions or inputs where it does poorly.",
    "tradeoffs": "Choices made between competing goals (accuracy, fairness, cost, latency).",
    "ethical_considerations": (
        "Risks to people and how they are mitigated; text, or a list of "
        "{name, mitigation_strategy}."
    ),
    "caveats_and_recommendations": "What a reader should keep in mind before relying on it.",
    "license": "The terms under which the model may be used.",
    "contact": "Where to send questions or report a problem with the model.",
}

# Fields filled from evidence rather than written by a person.
GENERATED_FIELDS: dict[str, str] = {
    "evaluation": "At least one evaluation of this version on a registered dataset.",
    "training_data": "The dataset versions the model was trained on.",
    "fairness": "Fairness metrics across sensitive groups from an evaluation.",
    "explainability": "Feature importance for this version.",
    "lineage": "The run, datasets or parent version the model came from.",
    "governance": "The AI-register entry the model belongs to.",
}

# Every field completeness is scored over, in the order ``missing`` lists them.
CARD_FIELDS: list[str] = [
    "overview",
    "intended_use",
    "out_of_scope_uses",
    "users",
    "limitations",
    "tradeoffs",
    "ethical_considerations",
    "caveats_and_recommendations",
    "license",
    "contact",
    *GENERATED_FIELDS,
]

_LOW = ["overview", "intended_use", "evaluation"]
_MEDIUM = [*_LOW, "limitations", "training_data", "users"]
_HIGH = [*_MEDIUM, "ethical_considerations", "fairness", "explainability", "out_of_scope_uses"]
_CRITICAL = [*_HIGH, "caveats_and_recommendations", "contact"]
TIER_REQUIRED: dict[str, list[str]] = {
    "low": _LOW,
    "medium": _MEDIUM,
    "high": _HIGH,
    "critical": _CRITICAL,
}
"""Card fields each risk tier requires; each tier requires everything the one below does.

- low: say what the model is and what it is for, and show it was evaluated;
- medium: also where it fails, what it learned from, and who consumes its outputs;
- high: also the risks to people, the fairness and explainability evidence behind them,
  and what it must not be used for;
- critical: also the caveats a decision-maker must read, and a contact for problems.
"""

MAX_SECTION_CHARS = 20_000
MAX_ETHICAL_ITEMS = 50
_ETHICAL_KEYS = {"name", "mitigation_strategy"}


# ----------------------------------------------------------------------------- sections


def validate_sections(sections: dict[str, Any]) -> dict[str, Any]:
    """The human sections, checked and normalised: stripped, empty ones dropped, keys sorted.

    Values are Markdown strings; ``ethical_considerations`` may instead be a list of
    ``{"name", "mitigation_strategy"}``. Raises ``InvalidInput`` naming the offending key.
    """
    if not isinstance(sections, dict):
        raise InvalidInput(
            f"sections: expected an object of section name to text, got {type(sections).__name__}",
            field="sections",
        )
    clean: dict[str, Any] = {}
    for key in sorted(sections, key=str):
        value = sections[key]
        if key not in HUMAN_SECTIONS:
            known = ", ".join(HUMAN_SECTIONS)
            raise InvalidInput(
                f"sections.{key}: unknown card section (known: {known})", field=f"sections.{key}"
            )
        if key == "ethical_considerations" and isinstance(value, list):
            items = _ethical_items(value)
            if items:
                clean[key] = items
            continue
        text = _section_text(value, f"sections.{key}")
        if text:
            clean[key] = text
    return clean


def _section_text(value: Any, field: str, limit: int = MAX_SECTION_CHARS) -> str:
    if not isinstance(value, str):
        raise InvalidInput(
            f"{field}: expected Markdown text, got {type(value).__name__}", field=field
        )
    if len(value) > limit:
        raise InvalidInput(
            f"{field}: {len(value)} characters, at most {limit} allowed", field=field
        )
    return value.strip()


def _ethical_items(items: list[Any]) -> list[dict[str, str]]:
    base = "sections.ethical_considerations"
    if len(items) > MAX_ETHICAL_ITEMS:
        raise InvalidInput(
            f"{base}: {len(items)} items, at most {MAX_ETHICAL_ITEMS} allowed", field=base
        )
    out = []
    for i, item in enumerate(items):
        field = f"{base}[{i}]"
        if not isinstance(item, dict):
            raise InvalidInput(
                f"{field}: expected {{name, mitigation_strategy}}, got {type(item).__name__}",
                field=field,
            )
        extra = sorted(set(item) - _ETHICAL_KEYS, key=str)
        if extra:
            raise InvalidInput(
                f"{field}.{extra[0]}: unknown key (allowed: name, mitigation_strategy)",
                field=f"{field}.{extra[0]}",
            )
        name = _section_text(item.get("name", ""), f"{field}.name")
        if not name:
            raise InvalidInput(f"{field}.name: must not be empty", field=f"{field}.name")
        mitigation = _section_text(
            item.get("mitigation_strategy", ""), f"{field}.mitigation_strategy"
        )
        out.append({"name": name, "mitigation_strategy": mitigation})
    return out


# ----------------------------------------------------------------------------- building


def build_card(evidence: dict[str, Any], sections: dict[str, Any]) -> dict[str, Any]:
    """The card as a JSON-ready dict: MCT-shaped sections plus modelward's own."""
    human = validate_sections(sections or {})
    evidence = _plain(evidence)
    version = evidence.get("version") or {}
    system = evidence.get("system") or None
    evaluations = _newest_per_name(evidence.get("evaluations") or [])
    return {
        "schema": CARD_SCHEMA,
        "model_details": _model_details(version, system, human),
        "model_parameters": _model_parameters(version, evidence, evaluations),
        "quantitative_analysis": _quantitative_analysis(evaluations),
        "considerations": _considerations(human, system),
        "evaluations": [_evaluation_summary(e) for e in evaluations],
        "fairness": _fairness(evaluations),
        "explainability": _explainability(evidence.get("explainability")),
        "lineage": _lineage(evidence.get("lineage")),
        "deployment": _deployment(evidence.get("deployment"), version),
        "governance": _governance(system),
        "integrity": {
            "digest": str(version.get("digest", "")),
            "signed": bool(version.get("signature")),
            "trusted": bool(version.get("trusted", False)),
            "created_by": str(version.get("created_by", "")),
        },
    }


def _plain(value: Any) -> Any:
    """JSON values only, so the card serialises the same way everywhere."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _newest_per_name(evaluations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    newest: dict[str, dict[str, Any]] = {}
    for ev in sorted(evaluations, key=lambda e: (str(e.get("created_at")), str(e.get("id")))):
        newest[str(ev.get("name", ""))] = ev
    return [newest[name] for name in sorted(newest)]


def _model_details(
    version: dict[str, Any], system: dict[str, Any] | None, human: dict[str, Any]
) -> dict[str, Any]:
    parent = version.get("parent_version") or 0
    contact = human.get("contact", "")
    names = []
    for key in ("technical_owner", "business_owner"):
        name = (system or {}).get(key) or ""
        if name and name not in names:
            names.append(name)
    if not names and version.get("created_by"):
        names.append(str(version["created_by"]))
    return {
        "name": str(version.get("model", "")),
        "overview": human.get("overview", ""),
        "documentation": str(version.get("description") or ""),
        "version": {
            "name": str(version.get("version", "")),
            "date": str(version.get("created_at", "")),
            "diff": f"derived from version {parent}" if parent else "",
        },
        "owners": [{"name": n, "contact": contact} for n in names],
        "licenses": [{"custom_text": human["license"]}] if "license" in human else [],
        "references": [],
        "citations": [],
    }


def _columns(columns: Any) -> str:
    if not isinstance(columns, list):
        return ""
    return ", ".join(f"{c.get('name')}: {c.get('type')}" for c in columns if isinstance(c, dict))


def _model_parameters(
    version: dict[str, Any], evidence: dict[str, Any], evaluations: list[dict[str, Any]]
) -> dict[str, Any]:
    # Columns a fairness analysis grouped by are the sensitive ones in the data that has them.
    sensitive = sorted({col for e in evaluations for col in (_results(e).get("fairness") or {})})
    data = []
    for ds in evidence.get("training_data") or []:
        schema = [c.get("name") for c in ds.get("schema") or [] if isinstance(c, dict)]
        data.append(
            {
                "name": str(ds.get("ref", "")),
                "link": str(ds.get("ref", "")),
                "sensitive": {"sensitive_data": [c for c in sensitive if c in schema]},
                "graphics": {},
                "role": str(ds.get("role", "training")),
                "digest": str(ds.get("digest", "")),
                "rows": ds.get("num_rows"),
                "columns": ds.get("num_columns"),
            }
        )
    signature = version.get("signature") or {}
    return {
        "model_architecture": str(version.get("flavor", "")),
        "data": data,
        "input_format": _columns(signature.get("inputs")),
        "output_format": _columns(signature.get("outputs")),
    }


def _results(evaluation: dict[str, Any]) -> dict[str, Any]:
    results = evaluation.get("results")
    return results if isinstance(results, dict) else {}


def _metric_items(values: Any) -> list[tuple[str, float]]:
    if not isinstance(values, dict):
        return []
    return [
        (k, v)
        for k, v in sorted(values.items())
        if isinstance(v, int | float) and not isinstance(v, bool) and k != "rows"
    ]


def _quantitative_analysis(evaluations: list[dict[str, Any]]) -> dict[str, Any]:
    metrics: list[dict[str, Any]] = []
    for ev in evaluations:
        name, results = str(ev.get("name", "")), _results(ev)
        base = {"evaluation": name, "dataset": str(ev.get("dataset", ""))}
        for metric, value in _metric_items(results.get("metrics")):
            metrics.append({"type": metric, "value": value, "slice": "", **base})
        for column, groups in sorted((results.get("slices") or {}).items()):
            for group, values in sorted(groups.items()):
                for metric, value in _metric_items(values):
                    cut = f"{column}={group}"
                    metrics.append({"type": metric, "value": value, "slice": cut, **base})
        for metric, delta in sorted((results.get("deltas") or {}).items()):
            interval = {"lower_bound": delta.get("ci_low"), "upper_bound": delta.get("ci_high")}
            metrics.append(
                {
                    "type": f"{metric}_delta",
                    "value": delta.get("delta"),
                    "slice": "",
                    "confidence_interval": interval,
                    **base,
                }
            )
    return {"performance_metrics": metrics, "graphics": {}}


def _descriptions(text: str) -> list[dict[str, str]]:
    return [{"description": text}] if text else []


def _considerations(human: dict[str, Any], system: dict[str, Any] | None) -> dict[str, Any]:
    limitations = _descriptions(human.get("limitations", ""))
    register_limits = str((system or {}).get("limitations") or "").strip()
    if register_limits:
        limitations.append({"description": register_limits})
    ethical = human.get("ethical_considerations", [])
    if isinstance(ethical, str):
        ethical = [{"name": ethical, "mitigation_strategy": ""}]
    return {
        "users": _descriptions(human.get("users", "")),
        "use_cases": _descriptions(human.get("intended_use", "")),
        "out_of_scope_uses": _descriptions(human.get("out_of_scope_uses", "")),
        "limitations": limitations,
        "tradeoffs": _descriptions(human.get("tradeoffs", "")),
        "ethical_considerations": ethical,
        "caveats_and_recommendations": _descriptions(human.get("caveats_and_recommendations", "")),
    }


def _evaluation_summary(ev: dict[str, Any]) -> dict[str, Any]:
    results = _results(ev)
    return {
        "name": str(ev.get("name", "")),
        "id": str(ev.get("id", "")),
        "dataset": str(ev.get("dataset", "")),
        "dataset_digest": str(ev.get("dataset_digest", "")),
        "task": str(ev.get("task") or results.get("task") or ""),
        "rows": results.get("rows"),
        "target": results.get("target"),
        "threshold": results.get("threshold"),
        "against_version": ev.get("against_version"),
        "created_at": str(ev.get("created_at", "")),
        "created_by": str(ev.get("created_by", "")),
        "metrics": dict(_metric_items(results.get("metrics"))),
        "latency_ms": {
            k: v for k, v in (results.get("latency_ms") or {}).items() if k in ("p50", "p95")
        },
        "slices": results.get("slices") or {},
        "deltas": results.get("deltas") or {},
        "undefined": results.get("undefined") or {},
    }


def _fairness(evaluations: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for ev in evaluations:
        fairness = _results(ev).get("fairness")
        if fairness:
            out[str(ev.get("name", ""))] = fairness
    return out


def _explainability(explained: dict[str, Any] | None) -> dict[str, Any]:
    if not explained:
        return {}
    importance = explained.get("importance") or {}
    features = [f for f in explained.get("features") or importance if f in importance]
    return {
        "method": str(explained.get("method", "")),
        "dataset": str(explained.get("dataset", "")),
        "rows": explained.get("rows"),
        "created_at": str(explained.get("created_at", "")),
        "features": [{"name": f, "importance": importance[f]} for f in features],
    }


def _lineage(lineage: dict[str, Any] | None) -> dict[str, Any]:
    lineage = lineage or {}
    return {
        "run": lineage.get("run") or None,
        "datasets": lineage.get("datasets") or [],
        "parent": lineage.get("parent") or None,
        "code": lineage.get("code") or None,
    }


def _deployment(deployment: dict[str, Any] | None, version: dict[str, Any]) -> dict[str, Any]:
    deployment = deployment or {}
    aliases = deployment.get("aliases", version.get("aliases")) or []
    return {
        "aliases": sorted(str(a) for a in aliases),
        "production_alias": str(deployment.get("production_alias", "")),
        "in_production": bool(deployment.get("in_production", False)),
        "production_since": deployment.get("production_since") or None,
    }


_SYSTEM_KEYS = (
    "name",
    "purpose",
    "risk_tier",
    "tier_rationale",
    "decision_type",
    "human_in_the_loop",
    "business_owner",
    "technical_owner",
    "affected_people",
    "regulatory_tags",
    "status",
)


def _governance(system: dict[str, Any] | None) -> dict[str, Any]:
    if not system:
        return {}
    out = {k: system.get(k) for k in _SYSTEM_KEYS if k in system}
    out["regulatory_tags"] = sorted(str(t) for t in system.get("regulatory_tags") or [])
    return out


# ----------------------------------------------------------------------------- completeness


def _has(card: dict[str, Any], field: str) -> bool:
    details = card.get("model_details") or {}
    considerations = card.get("considerations") or {}
    if field == "overview":
        return bool(details.get("overview"))
    if field == "intended_use":
        return bool(considerations.get("use_cases"))
    if field == "license":
        return bool(details.get("licenses"))
    if field == "contact":
        return any(o.get("contact") for o in details.get("owners") or [])
    if field in HUMAN_SECTIONS:
        return bool(considerations.get(field))
    if field == "evaluation":
        return bool((card.get("quantitative_analysis") or {}).get("performance_metrics"))
    if field == "training_data":
        return bool((card.get("model_parameters") or {}).get("data"))
    if field == "lineage":
        return any((card.get("lineage") or {}).values())
    return bool(card.get(field))


def completeness(card: dict[str, Any], tier: str | None) -> dict[str, Any]:
    """How much of the card is filled in, and what the risk tier still requires.

    ``score`` is the share of all :data:`CARD_FIELDS` present, rounded to 4 places;
    ``required_missing`` uses ``TIER_REQUIRED[tier]`` (a model outside the register
    counts as ``low``).
    """
    if tier is None:
        tier = "low"
    if tier not in TIER_REQUIRED:
        raise InvalidInput(
            f"tier: must be one of {', '.join(TIER_REQUIRED)}, got {tier!r}", field="tier"
        )
    missing = [f for f in CARD_FIELDS if not _has(card, f)]
    required = set(TIER_REQUIRED[tier])
    return {
        "score": round(1 - len(missing) / len(CARD_FIELDS), 4),
        "missing": missing,
        "required_missing": [f for f in missing if f in required],
    }


# ----------------------------------------------------------------------------- rendering

_TITLES = {
    "overview": "Overview",
    "intended_use": "Intended use",
    "users": "Users",
    "out_of_scope_uses": "Out-of-scope uses",
    "limitations": "Limitations",
    "tradeoffs": "Tradeoffs",
    "ethical_considerations": "Ethical considerations",
    "caveats_and_recommendations": "Caveats and recommendations",
}
_CONSIDERATION_KEYS = {"intended_use": "use_cases"}


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    if value == 0 or 1e-4 <= abs(value) < 1e6:
        return f"{value:.4f}"
    return f"{value:.4g}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        sep = "; " if any(isinstance(v, dict) for v in value) else ", "
        return sep.join(_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_text(v)}" for k, v in sorted(value.items()))
    return _number(value)


def _cell(value: Any) -> str:
    """Text safe inside one Markdown table cell."""
    return " ".join(_text(value).replace("|", "\\|").split())


def _table(caption: str, header: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    return {"caption": caption, "header": header, "rows": [[_text(c) for c in r] for r in rows]}


def _facts(pairs: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """Label and text of each fact that has a value."""
    return [(label, _text(v)) for label, v in pairs if v not in (None, "", [], {})]


def _group_table(caption: str, first: str, groups: dict[str, Any]) -> dict[str, Any]:
    """One row per group, one column per number any group has."""
    keys = sorted({k for g in groups.values() if isinstance(g, dict) for k in g} - {"rows"})
    header = [first, "rows", *keys]
    rows = [
        [name, g.get("rows"), *(g.get(k) for k in keys)]
        for name, g in sorted(groups.items())
        if isinstance(g, dict)
    ]
    return _table(caption, header, rows)


def _human_view(card: dict[str, Any]) -> list[dict[str, Any]]:
    details, considerations = card["model_details"], card["considerations"]
    out = []
    for key, title in _TITLES.items():
        if key == "overview":
            entries = [{"name": "", "text": details.get("overview", "")}]
        else:
            found = considerations.get(_CONSIDERATION_KEYS.get(key, key)) or []
            entries = [
                {"name": e.get("name", ""), "text": e.get("description") or ""}
                if "description" in e
                else {"name": e.get("name", ""), "text": e.get("mitigation_strategy", "")}
                for e in found
            ]
        entries = [e for e in entries if e["name"] or e["text"]]
        out.append({"key": key, "title": title, "entries": entries})
    return out


def _details_view(card: dict[str, Any]) -> list[tuple[str, str]]:
    d, p, i = card["model_details"], card["model_parameters"], card["integrity"]
    return _facts(
        [
            ("Model", d["name"]),
            ("Version", d["version"]["name"]),
            ("Created", d["version"]["date"]),
            ("Created by", i["created_by"]),
            ("Lineage", d["version"]["diff"]),
            ("Architecture", p["model_architecture"]),
            ("Digest", i["digest"]),
            ("Signature", "present" if i["signed"] else "none"),
            ("Trusted", i["trusted"]),
            ("Inputs", p["input_format"]),
            ("Outputs", p["output_format"]),
            ("Owners", [o["name"] for o in d["owners"]]),
            ("Contact", d["owners"][0]["contact"] if d["owners"] else ""),
            ("License", [lic["custom_text"] for lic in d["licenses"]]),
            ("Description", d["documentation"]),
        ]
    )


def _evaluation_view(ev: dict[str, Any]) -> dict[str, Any]:
    facts = _facts(
        [
            ("Evaluation id", ev["id"]),
            ("Dataset", ev["dataset"]),
            ("Dataset digest", ev["dataset_digest"]),
            ("Task", ev["task"]),
            ("Rows", ev["rows"]),
            ("Target", ev["target"]),
            ("Threshold", ev["threshold"]),
            ("Compared with version", ev["against_version"]),
            ("Latency p50 (ms)", ev["latency_ms"].get("p50")),
            ("Latency p95 (ms)", ev["latency_ms"].get("p95")),
            ("Evaluated", ev["created_at"]),
            ("Evaluated by", ev["created_by"]),
        ]
    )
    tables = [_table("Overall", ["metric", "value"], [[k, v] for k, v in ev["metrics"].items()])]
    for column, groups in sorted(ev["slices"].items()):
        tables.append(_group_table(f"By {column}", column, groups))
    if ev["deltas"]:
        rows = [
            [m, d.get("delta"), d.get("ci_low"), d.get("ci_high")]
            for m, d in sorted(ev["deltas"].items())
        ]
        header = ["metric", "change", "95% CI low", "95% CI high"]
        tables.append(_table("Change against the compared version", header, rows))
    undefined = [(path, str(reason)) for path, reason in sorted(ev["undefined"].items())]
    return {"title": ev["name"], "facts": facts, "tables": tables, "undefined": undefined}


_FAIRNESS_SUMMARY = [
    "demographic_parity_difference",
    "demographic_parity_ratio",
    "equalized_odds_difference",
]


def _fairness_view(card: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, columns in sorted(card["fairness"].items()):
        rows = [[col, *(f.get(k) for k in _FAIRNESS_SUMMARY)] for col, f in sorted(columns.items())]
        tables = [_table("Disparity by sensitive column", ["column", *_FAIRNESS_SUMMARY], rows)]
        for col, f in sorted(columns.items()):
            tables.append(_group_table(f"Groups of {col}", col, f.get("groups") or {}))
        out.append({"title": name, "tables": tables})
    return out


def _bars(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bar widths as a share of the largest magnitude; the number is always shown too."""
    magnitudes = [
        abs(f["importance"]) for f in features if isinstance(f["importance"], int | float)
    ]
    top = max(magnitudes, default=0) or 1
    bars = []
    for f in features:
        value = f["importance"] if isinstance(f["importance"], int | float) else 0
        bars.append(
            {
                "name": f["name"],
                "value": _number(f["importance"]),
                "width": f"{100 * abs(value) / top:.1f}%",
                "negative": value < 0,
            }
        )
    return bars


def _dataset_ref(used: Any) -> str:
    if not isinstance(used, dict):
        return _text(used)
    ref = used.get("ref") or f"{used.get('dataset', '')}/{used.get('version', '')}"
    return f"{ref} ({used['role']})" if used.get("role") else str(ref)


def _code(code: Any) -> str:
    if not isinstance(code, dict) or not code.get("commit"):
        return ""
    branch = f" on {code['branch']}" if code.get("branch") else ""
    dirty = " with uncommitted changes" if code.get("dirty") else ""
    return f"{code['commit']}{branch}{dirty}"


def _context_view(card: dict[str, Any]) -> dict[str, Any]:
    lineage, deployment = card["lineage"], card["deployment"]
    run = lineage["run"] or {}
    training = [
        [d["name"], d["digest"], d["rows"], d["columns"], d["sensitive"]["sensitive_data"]]
        for d in card["model_parameters"]["data"]
    ]
    explained = card["explainability"]
    return {
        "training": _table(
            "Training data", ["dataset", "digest", "rows", "columns", "sensitive"], training
        ),
        "explain_facts": _facts(
            [(k.capitalize(), explained.get(k)) for k in ("method", "dataset", "rows")]
        ),
        "bars": _bars(explained.get("features") or []),
        "lineage": _facts(
            [
                ("Run", run.get("id")),
                ("Experiment", run.get("experiment")),
                ("Parameters", run.get("params")),
                ("Run metrics", run.get("metrics")),
                ("Datasets", [_dataset_ref(d) for d in lineage["datasets"]]),
                ("Code", _code(lineage.get("code"))),
                ("Parent version", lineage["parent"]),
            ]
        ),
        "deployment": _facts(
            [
                ("Aliases", deployment["aliases"]),
                ("Production alias", deployment["production_alias"]),
                ("In production", deployment["in_production"]),
                ("In production since", deployment["production_since"]),
            ]
        ),
        "governance": _facts(
            [(k.replace("_", " ").capitalize(), v) for k, v in card["governance"].items()]
        ),
    }


def card_view(card: dict[str, Any]) -> dict[str, Any]:
    """What both templates show, as text and tables, in display order."""
    details = card["model_details"]
    return {
        "title": f"{details['name']} version {details['version']['name']}",
        "details": _details_view(card),
        "human": _human_view(card),
        "evaluations": [_evaluation_view(e) for e in card["evaluations"]],
        "fairness": _fairness_view(card),
        **_context_view(card),
    }


@cache
def _environment(autoescape: bool) -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = _cell
    return env


def _render(template: str, card: dict[str, Any], autoescape: bool) -> str:
    view = card_view(card)
    return _environment(autoescape).get_template(template).render(v=view)


def render_markdown(card: dict[str, Any]) -> str:
    """The card as Markdown; human sections appear as written."""
    text = _render("card.md.j2", card, autoescape=False)
    # Template control flow leaves runs of blank lines; one blank line is all Markdown needs.
    lines = [line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def render_html(card: dict[str, Any]) -> str:
    """One self-contained HTML page (inline CSS, no external assets); all text is escaped."""
    return _render("card.html.j2", card, autoescape=True)
