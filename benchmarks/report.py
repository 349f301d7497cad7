"""Turn raw results into the comparison rows: both figures, the advantage and the goal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Row:
    key: str  # workload key in the results
    field: str  # figure within each side's result
    label: str  # may name config sizes: {runs}, {search_large}, {audit_events}
    unit: str
    higher_is_better: bool
    goal_ratio: float | None = None  # modelward at least this many times better than MLflow
    goal_abs: float | None = None  # modelward's figure at most this
    comparable: bool = True  # False: the two sides did different work, no ratio


ROWS = [
    Row("runs", "median_chunk_runs_per_s", "1. create runs: median of chunks", "runs/s", True, 10),
    Row("runs", "runs_per_s", "1. create runs: overall", "runs/s", True),
    Row("points", "median_points_per_s", "2. metric points into one run", "points/s", True, 30),
    Row(
        "populate", "runs_per_s", "3. fill the {search_large}-run experiment (see notes)",
        "runs/s", True, comparable=False,
    ),
    Row("search_small", "p50_ms", "3. search {runs} runs p50", "ms", False, 10),
    Row("search_large", "p50_ms", "3. search {search_large} runs p50", "ms", False, 10),
    Row("alias", "p50_ms", "4. resolve name@alias p50", "ms", False, 4),
    Row("cold_start_fresh", "seconds", "5. cold start, empty database", "s", False, goal_abs=2.0),
    Row(
        "cold_start_restart", "seconds", "5. cold start, filled database (median)", "s", False,
        goal_abs=2.0,
    ),
    Row("memory", "rss_mb", "5. resident memory (RSS, process tree)", "MB", False, 10),
    Row("memory", "pss_mb", "5. proportional memory (PSS, process tree)", "MB", False),
    Row("audit", "verify_cli_s", "6. audit verify {audit_events} events (CLI)", "s", False,
        goal_abs=10.0),
    Row("audit", "verify_fn_s", "6. audit verify {audit_events} events (function)", "s", False),
]  # fmt: skip


def _value(results: dict[str, Any], key: str, side: str, field: str) -> float | str | None:
    entry = results.get(key, {}).get(side)
    if entry is None:
        return None
    if "error" in entry:
        return "error"
    value = entry.get(field)
    return float(value) if isinstance(value, int | float) else None


def _same_answer(entry: dict[str, Any]) -> bool:
    """Both sides returned as many runs, filtered and ordered as asked."""
    sides = [entry.get(s) or {} for s in ("mlflow", "modelward")]
    if any("returned" not in s for s in sides):
        return True  # a side is missing or failed; the row already says so
    checks = all(s["filter_ok"] and s["order_ok"] and s["capped_ok"] for s in sides)
    return checks and sides[0]["returned"] == sides[1]["returned"]


def summary(results: dict[str, Any], cfg: dict[str, Any]) -> list[dict[str, Any]]:
    sizes = {k: f"{v:,}" for k, v in cfg.items()}
    return [_row(r, results, sizes) for r in ROWS]


def _row(r: Row, results: dict[str, Any], sizes: dict[str, str]) -> dict[str, Any]:
    ml = _value(results, r.key, "mlflow", r.field)
    mw = _value(results, r.key, "modelward", r.field)
    adv = None
    if r.comparable and isinstance(ml, float) and isinstance(mw, float) and ml > 0 and mw > 0:
        adv = mw / ml if r.higher_is_better else ml / mw
    met = None
    if r.goal_ratio is not None and adv is not None:
        met = adv >= r.goal_ratio
    if r.goal_abs is not None and isinstance(mw, float):
        met = mw <= r.goal_abs
    if r.key.startswith("search") and not _same_answer(results.get(r.key, {})):
        met = False  # a faster search that returns something else proves nothing
    goal = ""
    if r.goal_ratio:
        goal = f">= {r.goal_ratio:g}x"
    elif r.goal_abs:
        goal = f"<= {r.goal_abs:g} {r.unit}"
    return {
        "workload": r.label.format(**sizes),
        "unit": r.unit,
        "mlflow": ml,
        "modelward": mw,
        "advantage": adv,
        "goal": goal,
        "met": met,
    }


def _fmt(v: Any, none: str = "-") -> str:
    if v is None:
        return none
    if isinstance(v, str):
        return v
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def table(rows: list[dict[str, Any]]) -> str:
    head = ["workload", "unit", "MLflow", "modelward", "advantage", "goal", "met"]
    body = [
        [
            r["workload"], r["unit"], _fmt(r["mlflow"]), _fmt(r["modelward"]),
            f"{r['advantage']:.1f}x" if r["advantage"] else "-", r["goal"] or "-",
            {True: "yes", False: "NO", None: "-"}[r["met"]],
        ]
        for r in rows
    ]  # fmt: skip
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=False)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths, strict=False))]
    lines.append("  ".join("-" * w for w in widths))
    for row in body:
        cells = [
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=False))
        ]
        lines.append("  ".join(cells))
    return "\n".join(lines)


def markdown(rows: list[dict[str, Any]]) -> str:
    """The same table for BENCHMARKS.md."""
    out = ["| workload | unit | MLflow | modelward | modelward advantage | goal | met |",
           "| --- | --- | ---: | ---: | ---: | --- | --- |"]  # fmt: skip
    for r in rows:
        adv = f"{r['advantage']:.1f}×" if r["advantage"] else "–"
        met = {True: "yes", False: "**no**", None: "–"}[r["met"]]
        ml, mw = _fmt(r["mlflow"], "–"), _fmt(r["modelward"], "–")
        out.append(
            f"| {r['workload']} | {r['unit']} | {ml} | {mw} | {adv} | {r['goal'] or '–'} | {met} |"
        )
    return "\n".join(out)


if __name__ == "__main__":
    import json
    import sys

    doc = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results/latest.json"))
    print(markdown(doc["summary"]))
