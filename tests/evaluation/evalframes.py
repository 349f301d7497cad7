"""Generated frames shared by the evaluation tests."""

from __future__ import annotations

import numpy as np
import pandas as pd


def binary_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """Two informative features, one pure-noise feature and a group column."""
    rng = np.random.default_rng(seed)
    x1, x2, noise = rng.normal(size=n), rng.normal(size=n), rng.normal(size=n)
    logit = 2.0 * x1 - 1.0 * x2
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    group = np.where(rng.random(n) < 0.4, "a", "b")
    return pd.DataFrame({"x1": x1, "x2": x2, "noise": noise, "group": group, "y": y})
