"""Durations written the way people write them: ``30s``, ``15m``, ``6h``, ``1d``, ``2w``."""

from __future__ import annotations

import re
from typing import Any

from modelward.errors import InvalidInput

_DURATION = re.compile(r"^\s*([0-9]{1,7})\s*([smhdw])\s*$")
UNIT_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def parse_duration_ms(value: Any, field: str, *, units: str = "smhdw") -> int:
    """A positive duration in milliseconds; anything else is refused naming ``field``."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None or match.group(2) not in units or int(match.group(1)) == 0:
        examples = ", ".join(
            f"{n}{u}" for n, u in zip((30, 15, 6, 1, 2), "smhdw", strict=True) if u in units
        )
        raise InvalidInput(
            f"{field}: expected a positive duration such as {examples}, got {value!r}",
            field=field,
        )
    return int(match.group(1)) * UNIT_MS[match.group(2)]
