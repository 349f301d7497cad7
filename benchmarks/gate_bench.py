"""How long the policy gate takes: 20 rules against a realistic evidence context.

    .venv/bin/python benchmarks/gate_bench.py [--repeats 2000] [--calls 200]

Prints p50/p95 of (build the CEL view of a context + evaluate all 20 rules) in process,
then, when the client offers ``check_policy``, the end-to-end p50 of that call on an
embedded SQLite store with the same 20-rule policy in force.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from modelward.governance.gate_eval import Evidence, compile_policy
from modelward.governance.policy_doc import parse_policy

RULES = [
    ("auc", "evaluations.holdout.roc_auc >= 0.70"),
    ("pr-auc", "evaluations.holdout.pr_auc >= 0.40"),
    ("calibration", "evaluations.holdout.ece <= 0.05"),
    ("brier", "evaluations.holdout.brier <= 0.20"),
    ("rows", "evaluations.holdout.rows >= 1000"),
    ("latency", "evaluations.holdout.latency_ms.p95 <= 50.0"),
    ("no-regression", "target.current_version == 0 || "
     "evaluations.holdout.deltas.roc_auc.ci_high >= 0.0"),
    ("compared", "target.current_version == 0 || "
     "evaluations.holdout.against.version == target.current_version"),
    ("fairness-evidence", "size(evaluations.holdout.fairness) > 0"),
    ("parity", "evaluations.holdout.fairness.all(c, "
     "evaluations.holdout.fairness[c].demographic_parity_ratio >= 0.8)"),
    ("odds", "evaluations.holdout.fairness.all(c, "
     "evaluations.holdout.fairness[c].equalized_odds_difference <= 0.1)"),
    ("slice-auc", "evaluations.holdout.slices.region.all(v, "
     "evaluations.holdout.slices.region[v].roc_auc >= 0.65)"),
    ("slice-rows", "evaluations.holdout.slices.region.exists(v, "
     "evaluations.holdout.slices.region[v].rows >= 100)"),
    ("approvals", "approvals.count >= 2"),
    ("no-rejections", "approvals.rejections == 0"),
    ("approvers", "approvals.approvers.all(a, a != version.created_by)"),
    ("card", "card.card_version >= 1 && card.completeness >= 0.8"),
    ("card-required", "size(card.required_missing) == 0"),
    ("explainability", "has(explainability.method) && size(explainability.features) > 0"),
    ("signature", "version.has_signature"),
]  # fmt: skip


def policy_document(tier: str = "high") -> str:
    lines = [
        "name: bench-gate",
        f"applies_to: {{risk_tiers: [{tier}], aliases: [champion]}}",
        "rules:",
    ]
    for name, expr in RULES:
        lines += [f"  - name: {name}", f"    expr: {expr!r}", f"    message: {name} must hold."]
    return "\n".join(lines) + "\n"


def _group(rows: int, rate: float) -> dict[str, Any]:
    return {"rows": rows, "selection_rate": rate, "accuracy": 0.8, "recall": 0.7}


def realistic_context() -> dict[str, Any]:
    metrics = {
        "accuracy": 0.81, "precision": 0.74, "recall": 0.69, "f1": 0.71, "roc_auc": 0.84,
        "pr_auc": 0.62, "log_loss": 0.41, "brier": 0.14, "ece": 0.03,
    }  # fmt: skip
    regions = {f"r{i}": {"rows": 400 + i, **metrics} for i in range(12)}
    fairness = {
        col: {
            "demographic_parity_difference": 0.04,
            "demographic_parity_ratio": 0.9,
            "equalized_odds_difference": 0.05,
            "groups": {f"g{i}": _group(500, 0.3 + i / 100) for i in range(6)},
        }
        for col in ("sex", "age_band", "ethnicity")
    }
    holdout = {
        "id": "e1", "dataset": "credit-holdout/2", "dataset_digest": "ab" * 32, "rows": 5000,
        "task": "classification", "created_at": 1_700_000_000_000, **metrics,
        "latency_ms": {"p50": 4.1, "p95": 9.8},
        "slices": {"region": regions, "channel": {"web": {"rows": 3000, **metrics}}},
        "fairness": fairness, "against": {"version": 3, "digest": "cd" * 32},
        "deltas": {m: {"delta": 0.01, "ci_low": -0.01, "ci_high": 0.03} for m in metrics},
    }  # fmt: skip
    return {
        "now": 1_700_000_000_000,
        "version": {"model": "credit", "version": 4, "digest": "ef" * 32, "flavor": "sklearn",
                    "created_by": "dev", "created_at": 1, "run_id": "", "trusted": False,
                    "has_signature": True, "parent_version": 3, "aliases": []},
        "target": {"alias": "champion", "current_version": 3, "current_digest": "cd" * 32},
        "system": {"name": "credit", "risk_tier": "high", "human_in_the_loop": True,
                   "open_incidents": 0, "regulatory_tags": ["EU-AI-Act:Annex-III"]},
        "evaluations": {"holdout": holdout},
        "explainability": {"method": "permutation", "dataset": "credit-holdout/2",
                           "rows": 5000, "features": [f"f{i}" for i in range(30)],
                           "importance": {f"f{i}": 1 / (i + 1) for i in range(30)},
                           "created_at": 1},
        "card": {"card_version": 2, "completeness": 0.95, "missing": [], "required_missing": []},
        "approvals": {"count": 2, "rejections": 0, "approvers": ["ana", "bo"], "request_id": 7},
        "monitoring": {},
        "policy": {"name": "bench-gate", "version": 1},
    }  # fmt: skip


def percentiles(samples_s: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1000 for s in samples_s)
    return statistics.median(ms), ms[min(len(ms) - 1, int(0.95 * len(ms)))]


def in_process(repeats: int) -> None:
    policy = compile_policy(parse_policy(policy_document()), 1)
    context = realistic_context()
    results = policy.evaluate(Evidence(context))
    failed = [r.rule for r in results if not r.passed]
    assert not failed, f"benchmark context should pass every rule, failed: {failed}"
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        policy.evaluate(Evidence(context))  # a fresh Evidence: the CEL view is rebuilt too
        samples.append(time.perf_counter() - t0)
    p50, p95 = percentiles(samples)
    print(f"in process, {len(RULES)} rules incl. context build: "
          f"p50 {p50:.3f} ms  p95 {p95:.3f} ms  ({repeats} evaluations)")  # fmt: skip


def end_to_end(calls: int) -> None:
    import modelward

    if not hasattr(modelward.Client, "check_policy"):
        print("end to end: skipped, modelward.Client has no check_policy")
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        artifact = work / "model.bin"
        artifact.write_bytes(b"weights")
        client = modelward.Client(f"sqlite:///{work / 'store.db'}", artifacts=str(work / "a"))
        client.create_model_version("credit", artifact)
        client.create_system(
            "credit-decisions",
            risk_tier="high",
            tier_rationale="Scores credit applications of private persons.",
            models=["credit"],
        )
        client.apply_policy(policy_document())
        report = client.check_policy("credit/1", to="champion")
        n_rules = sum(1 for r in report.results if r.policy == "bench-gate")
        samples, after_write = [], []
        for i in range(calls):
            t0 = time.perf_counter()
            client.check_policy("credit/1", to="champion")
            samples.append(time.perf_counter() - t0)
            # Every other round a write moves the audit head, so the next check reads the
            # stored evidence again instead of reusing it.
            client.update_registered_model("credit", tags={"round": str(i)})
            t0 = time.perf_counter()
            client.check_policy("credit/1", to="champion")
            after_write.append(time.perf_counter() - t0)
        client.close()
    p50, p95 = percentiles(samples)
    cold50, cold95 = percentiles(after_write)
    verdict = "meets" if p50 <= 5.0 else "misses"
    print(f"end to end, client.check_policy on embedded SQLite ({n_rules} rules of bench-gate, "
          f"{len(report.results)} in all): p50 {p50:.3f} ms  p95 {p95:.3f} ms  "
          f"({calls} calls; {verdict} the 5 ms goal)")  # fmt: skip
    print(f"end to end, first check after a write (evidence read again): p50 {cold50:.3f} ms  "
          f"p95 {cold95:.3f} ms")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--repeats", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args(argv)
    in_process(args.repeats)
    end_to_end(args.calls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
