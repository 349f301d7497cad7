"""Shared field types with the limits every entry point enforces."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from modelward.errors import InvalidInput

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"
_NAME = re.compile(NAME_PATTERN)

MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_KEY = 250

NAME_RULE = "1-128 letters, digits, '_', '.' or '-', starting with a letter or digit"


def _name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"invalid name {value!r}: {NAME_RULE}")
    return value


# Names of experiments, models, datasets, aliases: safe in URLs, paths and references.
Name = Annotated[str, AfterValidator(_name)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=MAX_KEY, pattern=r"^[^\x00]+$")]


def check_name(value: str, field: str) -> str:
    """Refuse a name that could not appear in a URL or a ``name@alias`` reference."""
    if not isinstance(value, str) or not _NAME.match(value):
        raise InvalidInput(
            f"invalid name {value!r}: {NAME_RULE}",
            field=field,
        )
    return value


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
