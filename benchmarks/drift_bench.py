"""Data drift: modelward's binned engine against Evidently's DataDriftPreset.

    .venv/bin/python benchmarks/drift_bench.py [--rows 1000000] [--exact-rows 20000]

Each side runs in a child process of its own environment (Evidently in
benchmarks/.venv-evidently, see requirements-evidently.txt) on the same generated data:
reference and current windows of ``--rows`` rows, 20 numeric and 5 categorical columns,
3 numeric and 2 categorical of them shifted in current. Time and peak memory are measured
after the data is in memory (memory: the peak resident set added over the loaded data).

Both sides use the same method and threshold per column: normed Wasserstein >= 0.1 for
numeric columns, Jensen-Shannon distance >= 0.1 for categorical ones (modelward's defaults
for windows this large). A second, smaller run checks that PSI, KL and JS computed by
``modelward.monitoring.stats`` on Evidently's own bins equal Evidently's values, and that
Evidently's raw-data Wasserstein lies within our sketch estimate's error bound.

The children import only numpy (plus their own side), so both generate identical data.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EVIDENTLY_PYTHON = HERE / ".venv-evidently" / "bin" / "python"
MODELWARD_PYTHON = ROOT / ".venv" / "bin" / "python"
SEED = 20240611
N_NUMERIC, N_CATEGORICAL = 20, 5
SHIFTED = {"num_00", "num_01", "num_02", "cat_00", "cat_01"}
THRESHOLD = 0.1


# --- the workload ---------------------------------------------------------------------------


def _numeric(rng: np.random.Generator, i: int, rows: int, current: bool) -> np.ndarray:
    shape = i % 4
    if shape == 0:
        x = rng.normal(10.0 * i, 1.0 + i / 10, rows)
    elif shape == 1:
        x = rng.lognormal(0.0, 0.6, rows)
    elif shape == 2:
        x = rng.uniform(-5.0, 5.0, rows)
    else:
        x = rng.poisson(3.0 + i, rows).astype("float64")
    if current and i == 0:
        x = x + 0.5 * (1.0 + i / 10)  # half a standard deviation
    elif current and i == 1:
        x = x * 1.6  # scale change
    elif current and i == 2:
        x = np.where(rng.random(rows) < 0.25, rng.uniform(3.0, 9.0, rows), x)  # a new mode
    return x


CATEGORY_SETS = [[f"v{j}" for j in range(n)] for n in (4, 8, 3, 12, 6)]


def _categorical(rng: np.random.Generator, i: int, rows: int, current: bool) -> np.ndarray:
    values = list(CATEGORY_SETS[i])
    weights = np.linspace(1.0, 2.0, len(values))
    if current and i == 0:
        weights = weights[::-1] ** 3  # frequencies reordered
    if current and i == 1:
        values.append("unseen")  # a category the reference never had
        weights = np.append(weights, weights.sum() * 0.35)
    codes = rng.choice(len(values), size=rows, p=weights / weights.sum())
    return np.asarray(values, dtype=object)[codes]


def make_data(rows: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Reference and current columns, identical for a given ``rows`` in any process."""
    sides = []
    for current in (False, True):
        rng = np.random.default_rng([SEED, int(current)])
        cols = {f"num_{i:02d}": _numeric(rng, i, rows, current) for i in range(N_NUMERIC)}
        cols |= {f"cat_{i:02d}": _categorical(rng, i, rows, current) for i in range(N_CATEGORICAL)}
        sides.append(cols)
    return sides[0], sides[1]


def is_numeric(name: str) -> bool:
    return name.startswith("num_")


# --- measuring ------------------------------------------------------------------------------


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


class Measure:
    """Wall time and peak RSS added from now on (Linux: resets the high-water mark)."""

    def __enter__(self) -> Measure:
        Path("/proc/self/clear_refs").write_text("5")
        self.rss_kb = _status_kb("VmRSS:")
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.added_mb = max(0, _status_kb("VmHWM:") - self.rss_kb) / 1024


# --- Evidently side (its own environment) ---------------------------------------------------


def evidently_side(rows: int) -> dict[str, Any]:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    ref_cols, cur_cols = make_data(rows)
    ref, cur = pd.DataFrame(ref_cols), pd.DataFrame(cur_cols)
    del ref_cols, cur_cols
    names = list(ref.columns)
    definition = DataDefinition(
        numerical_columns=[n for n in names if is_numeric(n)],
        categorical_columns=[n for n in names if not is_numeric(n)],
    )
    preset = DataDriftPreset(
        num_method="wasserstein",
        num_threshold=THRESHOLD,
        cat_method="jensenshannon",
        cat_threshold=THRESHOLD,
    )
    with Measure() as m:
        snapshot = Report([preset]).run(
            Dataset.from_pandas(cur, data_definition=definition),
            Dataset.from_pandas(ref, data_definition=definition),
        )
        result = snapshot.dict()
    values = {
        metric["config"]["column"]: float(metric["value"])
        for metric in result["metrics"]
        if metric["config"].get("type", "").endswith("ValueDrift")
    }
    return {"seconds": m.seconds, "added_mb": m.added_mb, "values": values}


def evidently_exact(rows: int) -> dict[str, Any]:
    import pandas as pd
    from evidently.legacy.calculations.stattests.jensenshannon import _jensenshannon
    from evidently.legacy.calculations.stattests.kl_div import _kl_div
    from evidently.legacy.calculations.stattests.psi import _psi
    from evidently.legacy.calculations.stattests.wasserstein_distance_norm import (
        _wasserstein_distance_norm,
    )
    from evidently.legacy.core import ColumnType

    ref_cols, cur_cols = make_data(rows)
    out: dict[str, dict[str, float]] = {}
    for name in ref_cols:
        ref, cur = pd.Series(ref_cols[name]), pd.Series(cur_cols[name])
        kind = ColumnType.Numerical if is_numeric(name) else ColumnType.Categorical
        row = {
            "psi": _psi(ref, cur, kind, THRESHOLD)[0],
            "kl_div": _kl_div(ref, cur, kind, THRESHOLD)[0],
            "jensenshannon": _jensenshannon(ref, cur, kind, THRESHOLD)[0],
        }
        if is_numeric(name):
            row["wasserstein"] = _wasserstein_distance_norm(ref, cur, kind, THRESHOLD)[0]
        out[name] = {k: float(v) for k, v in row.items()}
    return {"values": out}


# --- modelward side -------------------------------------------------------------------------


def build_baseline(ref: Any) -> dict[str, Any]:
    """Baseline bins from the reference: sketch and decile edges, or the categories.

    The deciles are taken from the same 201 ``inverted_cdf`` quantiles as the sketch (every
    20th point): one selection pass per column instead of two, same edges as
    ``datasets.profile.histogram_edges``. The selection is ``monitoring.sketch.inverted_cdf``
    (the baseline's own, equal to numpy's ``inverted_cdf`` without sorting the column).
    """
    from modelward.monitoring.sketch import inverted_cdf

    features: dict[str, Any] = {}
    qs = np.linspace(0.0, 1.0, 201)
    for name in ref.columns:
        if is_numeric(name):
            x = ref[name].to_numpy(dtype="float64")
            points = inverted_cdf(x, qs) + 0.0
            features[name] = {
                "kind": "numeric",
                "edges": _dedup(points[::20]),
                "sketch_edges": _dedup(points),
                "std": float(np.std(x)),
            }
        else:
            features[name] = {"kind": "categorical", "categories": sorted(ref[name].unique())}
    return {"features": features}


def _dedup(points: np.ndarray) -> list[float]:
    edges = np.unique(points)
    return (edges if edges.size > 1 else np.repeat(edges, 2)).tolist()


def column_drift(spec: dict[str, Any], ref: dict[str, Any], cur: dict[str, Any]) -> dict:
    from modelward.monitoring import stats

    n_cats = len(spec.get("categories", []))
    method, threshold, uses_p = stats.default_method(
        spec["kind"], ref["count"], cur["count"], n_cats
    )
    if method == "wasserstein":
        lows = [s["min"] for s in (ref, cur) if s["min"] is not None]
        highs = [s["max"] for s in (ref, cur) if s["max"] is not None]
        value, bound = stats.wasserstein_from_sketch(
            spec["sketch_edges"],
            [ref["sketch_under"], *ref["sketch"], ref["sketch_over"]],
            [cur["sketch_under"], *cur["sketch"], cur["sketch_over"]],
            spec["std"],
            low=min(lows, default=None),
            high=max(highs, default=None),
        )
    elif method == "jensenshannon":
        cats = spec["categories"]
        value, bound = (
            stats.js_distance(
                [ref["categories"].get(c, 0) for c in cats] + [ref["unseen"]],
                [cur["categories"].get(c, 0) for c in cats] + [cur["unseen"]],
            ),
            0.0,
        )
    else:  # small windows only; this benchmark's windows are large
        raise SystemExit(f"unexpected method {method} for {rows_note(ref)}")
    drifted = stats.is_drifted(uses_p, threshold, value)
    return {"method": method, "value": value, "bound": bound, "drifted": drifted}


def rows_note(profile: dict[str, Any]) -> str:
    return f"a window of {profile['count']} values"


def modelward_side(rows: int) -> dict[str, Any]:
    import pandas as pd

    from modelward.monitoring import stats  # noqa: F401  (imported before timing starts)
    from modelward.monitoring.profiles import profile_frame

    ref_cols, cur_cols = make_data(rows)
    ref, cur = pd.DataFrame(ref_cols), pd.DataFrame(cur_cols)
    del ref_cols, cur_cols
    with Measure() as m:
        baseline = build_baseline(ref)
        ref_profile = profile_frame(ref, baseline)["features"]
        cur_profile = profile_frame(cur, baseline)["features"]
        verdicts = {
            name: column_drift(spec, ref_profile[name], cur_profile[name])
            for name, spec in baseline["features"].items()
        }
    return {"seconds": m.seconds, "added_mb": m.added_mb, "columns": verdicts}


def evidently_bins(ref: np.ndarray, cur: np.ndarray, numeric: bool):
    """Counts over the bins Evidently's get_binned_data uses (sturges on both, or keys)."""
    if numeric and np.unique(ref).size > 20:
        edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        return np.histogram(ref, edges)[0], np.histogram(cur, edges)[0]
    keys = sorted(set(ref.tolist()) | set(cur.tolist()))
    rk, rc = np.unique(ref, return_counts=True)
    ck, cc = np.unique(cur, return_counts=True)
    rmap, cmap = dict(zip(rk.tolist(), rc, strict=True)), dict(zip(ck.tolist(), cc, strict=True))
    return np.array([rmap.get(k, 0) for k in keys]), np.array([cmap.get(k, 0) for k in keys])


def evidently_eps(counts: np.ndarray) -> float:
    """The share Evidently puts in empty bins: 1e-4, or a millionth of the smallest share
    when that is 1e-4 or less."""
    shares = counts / counts.sum()
    smallest = float(shares[shares > 0].min())
    return smallest / 10**6 if smallest <= 0.0001 else 0.0001


def modelward_exact(rows: int) -> dict[str, Any]:
    from modelward.monitoring import stats
    from modelward.monitoring.sketch import sketch_counts, sketch_edges

    ref_cols, cur_cols = make_data(rows)
    out: dict[str, dict[str, float]] = {}
    for name, ref in ref_cols.items():
        cur = cur_cols[name]
        r, c = evidently_bins(ref, cur, is_numeric(name))
        eps = (evidently_eps(r), evidently_eps(c))
        row = {
            "psi": stats.psi(r, c, eps),
            "kl_div": stats.kl_divergence(r, c, eps),
            "jensenshannon": stats.js_distance(r, c),
        }
        if is_numeric(name):
            edges = sketch_edges(ref)
            both = np.concatenate([ref, cur])
            w, bound = stats.wasserstein_from_sketch(
                edges,
                sketch_counts(ref, edges),
                sketch_counts(cur, edges),
                float(np.std(ref)),
                low=float(both.min()),
                high=float(both.max()),
            )
            row |= {
                "wasserstein": w,
                "wasserstein_bound": bound,
                "wasserstein_raw": stats.wasserstein_normed(ref, cur),
            }
        out[name] = {k: float(v) for k, v in row.items() if v is not None}
    return {"values": out}


# --- driver ---------------------------------------------------------------------------------

SIDES = {
    "evidently": evidently_side,
    "evidently-exact": evidently_exact,
    "modelward": modelward_side,
    "modelward-exact": modelward_exact,
}


def child(side: str, rows: int) -> dict[str, Any]:
    python = EVIDENTLY_PYTHON if side.startswith("evidently") else MODELWARD_PYTHON
    if not python.exists():
        raise SystemExit(f"{python} is missing; see benchmarks/requirements-evidently.txt")
    cmd = [str(python), str(Path(__file__).resolve()), "--side", side, "--rows", str(rows)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{side} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report_speed(rows: int, ev: dict[str, Any], mw: dict[str, Any]) -> dict[str, Any]:
    print(f"\nDrift over {rows:,} reference + {rows:,} current rows, 25 columns")
    print(f"{'':24}{'Evidently':>14}{'modelward':>14}{'ratio':>10}")
    speed = ev["seconds"] / mw["seconds"]
    memory = mw["added_mb"] / ev["added_mb"] if ev["added_mb"] else float("nan")
    print(f"{'wall time (s)':24}{ev['seconds']:>14.2f}{mw['seconds']:>14.2f}{speed:>9.1f}x")
    print(
        f"{'peak RSS added (MB)':24}{ev['added_mb']:>14.0f}{mw['added_mb']:>14.0f}{memory:>10.3f}"
    )
    print(f"\n{'column':10}{'method':15}{'Evidently':>11}{'modelward':>11}{'± bound':>9}  verdicts")
    agree = 0
    for name, ours in mw["columns"].items():
        theirs = ev["values"][name]
        their_verdict = theirs >= THRESHOLD
        same = their_verdict == ours["drifted"]
        agree += same
        print(
            f"{name:10}{ours['method']:15}{theirs:>11.4f}{ours['value']:>11.4f}"
            f"{ours['bound']:>9.4f}  {'drift' if their_verdict else '-':>5} / "
            f"{'drift' if ours['drifted'] else '-':5} {'' if same else 'DISAGREE'}"
            f"{'  (shifted)' if name in SHIFTED else ''}"
        )
    total = len(mw["columns"])
    print(f"verdicts agree on {agree}/{total} columns")
    return {"speedup": speed, "memory_ratio": memory, "agree": agree, "columns": total}


def report_exact(rows: int, ev: dict[str, Any], mw: dict[str, Any]) -> dict[str, Any]:
    print(f"\nExactness on Evidently's bins ({rows:,} rows per window)")
    worst: dict[str, float] = {}
    for name, theirs in ev["values"].items():
        ours = mw["values"][name]
        for measure in ("psi", "kl_div", "jensenshannon"):
            diff = abs(theirs[measure] - ours[measure])
            worst[measure] = max(worst.get(measure, 0.0), diff)
    for measure, diff in worst.items():
        print(
            f"  {measure:15} max |ours - Evidently| = {diff:.3e}  {'ok' if diff <= 1e-9 else 'X'}"
        )
    numeric = [n for n in ev["values"] if is_numeric(n)]
    raw = max(
        abs(ev["values"][n]["wasserstein"] - mw["values"][n]["wasserstein_raw"]) for n in numeric
    )
    worst["wasserstein"] = raw
    print(
        f"  {'wasserstein':15} max |ours - Evidently| = {raw:.3e}  {'ok' if raw <= 1e-9 else 'X'}"
        "  (both on the raw values)"
    )
    inside, excess, widest = 0, 0.0, 0.0
    for name in numeric:
        diff = abs(ev["values"][name]["wasserstein"] - mw["values"][name]["wasserstein"])
        bound = mw["values"][name]["wasserstein_bound"]
        inside += diff <= bound
        excess, widest = max(excess, diff), max(widest, bound)
    print(
        f"  wasserstein     (sketch here, as the monitor computes it) max |diff| = {excess:.3e}, "
        f"within the error bound on {inside}/{len(numeric)} columns (largest bound {widest:.3e})"
    )
    return {"max_abs_diff": worst, "wasserstein_within_bound": inside}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--exact-rows", type=int, default=20_000)
    parser.add_argument("--side", choices=sorted(SIDES))
    args = parser.parse_args()
    if args.side:
        print(json.dumps(SIDES[args.side](args.rows)))
        return
    speed = report_speed(args.rows, child("evidently", args.rows), child("modelward", args.rows))
    exact = report_exact(
        args.exact_rows,
        child("evidently-exact", args.exact_rows),
        child("modelward-exact", args.exact_rows),
    )
    out = HERE / "results" / "drift.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"rows": args.rows, **speed, "exact": exact}, indent=2))
    print(f"\nwritten {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
