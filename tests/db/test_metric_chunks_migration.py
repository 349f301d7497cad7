"""Migration 0006 moves stored metric history into chunks without losing or reordering a
point, and its downgrade gives the rows back; on both databases."""

from __future__ import annotations

import math
from pathlib import Path

from alembic import command
from sqlalchemy import text

import modelward as mw
from modelward.db.engine import make_engine
from modelward.db.migrate import alembic_config, current_revision, upgrade

RUN = "a" * 32
# (key, value, step, timestamp) in logging order: steps out of order, a repeated step, a
# tie on step and timestamp (logging order decides), NaN and infinities.
POINTS = [
    ("loss", 0.9, 0, 1000),
    ("loss", 0.5, 2, 1002),
    ("loss", 0.7, 1, 1001),
    ("loss", 0.6, 1, 1001),
    ("auc", math.nan, 0, 1000),
    ("auc", math.inf, 1, 1001),
    ("auc", -math.inf, 1, 1000),
    ("auc", 0.8, 5, 999),
]


def _store_at_0005(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine, "0005")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO experiments (id, name, description, created_by, created_at) "
                "VALUES (1, 'exp', '', 'me', 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO runs (id, experiment_id, name, status, lifecycle, start_time, "
                "created_by) VALUES (:r, 1, 'r', 'FINISHED', 'active', 0, 'me')"
            ),
            {"r": RUN},
        )
        for key, value, step, ts in POINTS:
            nan = math.isnan(value)
            conn.execute(
                text(
                    "INSERT INTO run_metrics (run_id, key, value, is_nan, step, timestamp) "
                    "VALUES (:r, :k, :v, :n, :s, :t)"
                ),
                {"r": RUN, "k": key, "v": 0.0 if nan else value, "n": nan, "s": step, "t": ts},
            )
    engine.dispose()


def _expected(key: str) -> list[tuple[float, int, int]]:
    logged = [(v, s, t) for k, v, s, t in POINTS if k == key]
    return sorted(logged, key=lambda p: (p[1], p[2]))  # stable: logging order on ties


def _same(a: list[tuple[float, int, int]], b: list[tuple[float, int, int]]) -> bool:
    return len(a) == len(b) and all(
        (x[0] == y[0] or (math.isnan(x[0]) and math.isnan(y[0]))) and x[1:] == y[1:]
        for x, y in zip(a, b, strict=True)
    )


def test_stored_history_survives_the_move_to_chunks_and_back(db_url: str, tmp_path: Path) -> None:
    _store_at_0005(db_url)
    engine = make_engine(db_url)
    upgrade(engine, "0006")
    assert current_revision(engine) == "0006"
    client = mw.Client(db_url, artifacts=str(tmp_path / "artifacts"))
    try:
        for key in ("loss", "auc"):
            got = [(p.value, p.step, p.timestamp) for p in client.get_metric_history(RUN, key)]
            assert _same(got, _expected(key)), key
    finally:
        client.close()
    command.downgrade(alembic_config(engine), "0005")
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT key, value, is_nan, step, timestamp FROM run_metrics ORDER BY id")
        ).all()
    engine.dispose()
    back = {
        key: [
            (math.nan if nan else value, step, ts) for k, value, nan, step, ts in rows if k == key
        ]
        for key in ("loss", "auc")
    }
    for key in ("loss", "auc"):
        logged = [(v, s, t) for k, v, s, t in POINTS if k == key]
        assert _same(back[key], logged), key
