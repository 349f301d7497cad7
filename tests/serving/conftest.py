"""A store with an online endpoint and versions to route between, and a live gateway."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import modelward as mw
from modelward.client.transport import LocalTransport
from modelward.config import StoreLocation
from modelward.store import Store
from support import ADMIN, LiveGateway

ENDPOINT = "credit-api"
MODEL = "scorer"
FEATURES = ["age", "income", "debt", "years"]


def applicants(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.normal(40, 12, n),
            "income": rng.normal(3.0, 1.0, n),
            "debt": rng.normal(1.0, 0.5, n),
            "years": rng.normal(5, 3, n),
        }
    )
    frame["bad"] = ((frame["debt"] - 0.3 * frame["income"] + rng.normal(0, 0.3, n)) > 0).astype(int)
    return frame


@dataclass
class Served:
    client: mw.Client
    store: Store
    good: str  # scorer/1: the primary
    better: str  # scorer/2: a sound challenger
    flipped: str  # scorer/3: predicts the opposite class (a deliberately worse challenger)


def build_versions(client: mw.Client) -> Served:
    train = applicants(600)
    x, y = train[FEATURES], train["bad"]
    dataset = client.register_dataset("applicants-train", train)
    refs = []
    for name, target, c in (("good", y, 1.0), ("better", y, 0.5), ("flipped", 1 - y, 1.0)):
        with client.start_run("gateway-tests", params={"C": c, "variant": name}) as run:
            run.log_input(dataset, role="training")
            model = LogisticRegression(C=c).fit(x, target)
            refs.append(run.log_model(model, MODEL, signature=mw.infer_signature(x)).ref)
    client.create_endpoint(ENDPOINT, refs[0], mode="online")
    return Served(client, None, *refs)  # type: ignore[arg-type]


@pytest.fixture
def served(store: Store) -> Served:
    client = mw.Client.over(LocalTransport(store, ADMIN))
    out = build_versions(client)
    out.store = store
    return out


@pytest.fixture
def sqlite_served(sqlite_url: str, tmp_path: Path) -> Iterator[Served]:
    store = Store(StoreLocation(sqlite_url, str(tmp_path / "artifacts")))
    client = mw.Client.over(LocalTransport(store, ADMIN))
    out = build_versions(client)
    out.store = store
    yield out
    store.close()


@pytest.fixture
def gateway(sqlite_served: Served) -> Iterator[LiveGateway]:
    gw = LiveGateway(sqlite_served.store)
    yield gw
    gw.stop()


def rows(n: int, seed: int = 1) -> list[dict[str, float]]:
    frame = applicants(n, seed)[FEATURES]
    return [{k: float(v) for k, v in r.items()} for r in frame.to_dict("records")]
