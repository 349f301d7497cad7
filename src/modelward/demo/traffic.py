"""Simulated scoring traffic for the demo: applicants drawn from the German credit training
data, whose population shifts halfway (larger and longer loans, more of them for new cars)."""

from __future__ import annotations

import numpy as np
import pandas as pd

DAYS = 28
SHIFT_DAY = 14  # from this day on the population has moved
PER_DAY = 250
LABEL_LAG_DAYS = 7  # a loan's outcome is known a week after the decision
DAY_MS = 86_400_000
HOUR_MS = 3_600_000


def applicants(data: pd.DataFrame, target: str, now_ms: int, seed: int = 7) -> pd.DataFrame:
    """``DAYS`` days of applicants ending at ``now_ms``, with ``__id__``, ``__ts__`` and the
    true outcome in ``target`` (known later, through labels)."""
    rng = np.random.default_rng(seed)
    start = (now_ms // DAY_MS - DAYS) * DAY_MS
    days = []
    for day in range(DAYS):
        rows = data.sample(PER_DAY, replace=True, random_state=int(rng.integers(1 << 31)))
        rows = rows.reset_index(drop=True)
        if day >= SHIFT_DAY:
            rows = _shifted(rows, rng)
        # Applications arrive in office hours, 08:00 to 16:00 UTC.
        opening = start + day * DAY_MS + 8 * HOUR_MS
        rows["__ts__"] = opening + rng.integers(0, 8 * HOUR_MS, len(rows))
        rows["__id__"] = [f"app-{day:02d}-{i:04d}" for i in range(len(rows))]
        days.append(rows)
    return pd.concat(days, ignore_index=True)


def _shifted(rows: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = rows.copy()
    rows["credit_amount"] = (rows["credit_amount"] * rng.uniform(1.6, 2.2, len(rows))).round()
    rows["credit_amount"] = rows["credit_amount"].astype(rows["credit_amount"].dtype)
    rows["duration_in_month"] = rows["duration_in_month"] + 12
    new_car = rng.random(len(rows)) < 0.45
    rows.loc[new_car, "purpose"] = "car (new)"
    return rows


def labelled(traffic: pd.DataFrame, now_ms: int) -> pd.DataFrame:
    """The applicants whose outcome is known by ``now_ms``."""
    # Whole days only, so the same traffic gives the same labels whatever the time of day.
    known = traffic["__ts__"] + LABEL_LAG_DAYS * DAY_MS < now_ms // DAY_MS * DAY_MS
    return traffic[known]
