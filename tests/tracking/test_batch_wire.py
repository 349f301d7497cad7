"""The fast way of reading a metric batch gives what the full model gives, errors included."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from modelward.client.base import invalid_from_pydantic
from modelward.tracking.schemas import MAX_METRICS_PER_BATCH, LogBatch

BATCHES: list[Any] = [
    {"metrics": [["auc", 0.9, 0, 1], ["loss", 1, 2, None]]},
    {"metrics": [["auc", "NaN", 0, 1], ["auc", "Infinity", 1, 2], ["auc", "0.5", 2, 3]]},
    {"metrics": [{"key": "auc", "value": 0.9}, ["loss", 0.2]], "params": {"C": "1"}},
    {"metrics": [["auc", 0.9, 1.0, 5]], "tags": {"team": "risk"}},
    {"params": {"a": "1"}, "tags": {"b": "2"}},
    {},
    # Refused, each for a reason the error must name.
    {"metrics": [["", 0.9, 0, 1]]},
    {"metrics": [["a\x01b", 0.9, 0, 1]]},
    {"metrics": [["k" * 251, 0.9, 0, 1]]},
    {"metrics": [["auc", "high", 0, 1]]},
    {"metrics": [["auc", 0.9, 1.5, 1]]},
    {"metrics": [["auc", 0.9, 0, -1]]},
    {"metrics": [["auc", 0.9, 2**63, 1]]},
    {"metrics": [["auc", 0.9, 0, 1, 7]]},
    {"metrics": [["auc", 0.5, 0, 1]] * (MAX_METRICS_PER_BATCH + 1)},
    {"metrics": "auc"},
    {"params": {"a": "x" * 10_000}},
    {"tags": {"": "x"}},
]


def _outcome(read: Any, raw: bytes) -> Any:
    try:
        batch = read(raw)
    except ValidationError as exc:
        err = invalid_from_pydantic(exc)
        return ("refused", err.field, err.message)
    # repr: NaN equals itself only as text.
    return repr(("read", batch.metrics, batch.params, batch.tags, sorted(batch.model_fields_set)))


@pytest.mark.parametrize("batch", BATCHES, ids=range(len(BATCHES)))
def test_the_wire_path_reads_or_refuses_like_the_model(batch: Any) -> None:
    raw = json.dumps(batch).encode()
    fast = _outcome(LogBatch.model_validate_wire, raw)
    assert fast == _outcome(LogBatch.model_validate_json, raw)
    from_python = _outcome(lambda _: LogBatch.from_points(**batch), raw)
    assert from_python == _outcome(lambda _: LogBatch(**batch), raw)


def test_a_bad_key_is_named_at_its_position() -> None:
    raw = json.dumps({"metrics": [["ok", 1, 0, 1], ["", 1, 0, 1]]}).encode()
    with pytest.raises(ValidationError) as caught:
        LogBatch.model_validate_wire(raw)
    assert invalid_from_pydantic(caught.value).field == "metrics.1.key"
