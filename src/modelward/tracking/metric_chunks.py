"""Metric history stored as chunks: one row per key per logged batch, its points packed.

A batch of 1,000 points over ten keys becomes ten rows, not a thousand: logging costs a
few inserts whatever the batch size, and a history of a million points reads as a few
thousand blobs. A chunk holds, little-endian, every point's value (float64, NaN kept as
NaN), then its step (int64), then its timestamp in ms (int64), in logging order.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

POINT_BYTES = 24
_SWAP = sys.byteorder != "little"


def _packed(kind: str, values: Sequence[Any]) -> bytes:
    arr = array(kind, values)
    if _SWAP:
        arr.byteswap()
    return arr.tobytes()


def pack(values: Sequence[float], steps: Sequence[int], timestamps: Sequence[int]) -> bytes:
    """One chunk's bytes (the three sequences have the same length)."""
    return _packed("d", values) + _packed("q", steps) + _packed("q", timestamps)


def _unpacked(kind: str, data: bytes) -> array[Any]:
    arr = array(kind)
    arr.frombytes(data)
    if _SWAP:
        arr.byteswap()
    return arr


def unpack(data: bytes) -> tuple[array[float], array[int], array[int]]:
    """A chunk's values, steps and timestamps."""
    if len(data) % POINT_BYTES:
        raise ValueError(f"a metric chunk of {len(data)} bytes is not whole points")
    n = len(data) // POINT_BYTES
    return (
        _unpacked("d", data[: 8 * n]),
        _unpacked("q", data[8 * n : 16 * n]),
        _unpacked("q", data[16 * n :]),
    )


def history(chunks: Iterable[bytes]) -> list[tuple[float, int, int]]:
    """Every point of the chunks (given oldest first) as (value, step, timestamp), ordered
    by step, then timestamp, then logging order."""
    points: list[tuple[float, int, int]] = []
    for data in chunks:
        values, steps, stamps = unpack(data)
        points.extend(zip(values, steps, stamps, strict=True))
    # sort is stable: points with equal step and timestamp stay in logging order.
    points.sort(key=lambda p: (p[1], p[2]))
    return points
