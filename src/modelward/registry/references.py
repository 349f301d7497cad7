"""Model references, parsed in one place: ``name`` (latest), ``name/3`` and ``name@alias``.

Every verb that takes a reference goes through :func:`parse_model_ref` (pure, used by the
SDK before anything is sent) and :func:`resolve_version` (inside a unit of work).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelward.errors import InvalidInput, NotFound
from modelward.validation import NAME_PATTERN, NAME_RULE, check_name

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from modelward.registry.tables import ModelVersion, RegisteredModel

LATEST = "latest"
MAX_VERSION = 2**31 - 1
_NAME = re.compile(NAME_PATTERN)
REF_RULE = "expected NAME (latest version), NAME/VERSION (e.g. credit-scorer/3) or NAME@ALIAS"


@dataclass(frozen=True)
class ModelRef:
    """A parsed reference: exactly one of ``version`` and ``alias``, or neither (latest)."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}/{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return self.name


def parse_model_ref(ref: object, field: str = "ref") -> ModelRef:
    """Split a reference into its parts, or refuse it with the reason."""
    if not isinstance(ref, str) or not ref:
        raise InvalidInput(f"a model reference must be a non-empty string; {REF_RULE}", field=field)
    if "@" in ref and "/" in ref:
        raise InvalidInput(f"malformed model reference {ref!r}: {REF_RULE}", field=field)
    if "@" in ref:
        name, alias = ref.split("@", 1)
        _check_part(ref, name, field)
        if alias == LATEST:
            return ModelRef(name)
        if alias.isdigit():
            raise InvalidInput(
                f"malformed model reference {ref!r}: a version number is written {name}/{alias}",
                field=field,
            )
        _check_part(ref, alias, field)
        return ModelRef(name, alias=alias)
    if "/" in ref:
        name, number = ref.split("/", 1)
        _check_part(ref, name, field)
        return ModelRef(name, version=_version_number(ref, number, field))
    _check_part(ref, ref, field)
    return ModelRef(ref)


def _check_part(ref: str, part: str, field: str) -> None:
    if not _NAME.match(part):
        raise InvalidInput(
            f"malformed model reference {ref!r}: {part!r} is not a valid name ({NAME_RULE}); "
            f"{REF_RULE}",
            field=field,
        )


def _version_number(ref: str, number: str, field: str) -> int:
    if not (number.isascii() and number.isdigit()) or int(number) < 1 or int(number) > MAX_VERSION:
        raise InvalidInput(
            f"malformed model reference {ref!r}: the version must be a whole number from 1; "
            f"{REF_RULE}",
            field=field,
        )
    return int(number)


def check_alias(alias: object, field: str = "alias") -> str:
    """An alias is a name that is neither a number nor the reserved word ``latest``."""
    check_name(alias, field)  # type: ignore[arg-type]
    assert isinstance(alias, str)
    if alias.isdigit():
        raise InvalidInput(
            f"alias {alias!r} is a number and would read as a version; choose a word", field=field
        )
    if alias.lower() == LATEST:
        raise InvalidInput(
            "alias 'latest' is reserved: it always means the newest version", field=field
        )
    return alias


def get_model_row(session: Session, name: str, field: str = "name") -> RegisteredModel:
    from sqlalchemy import select

    from modelward.registry.tables import RegisteredModel

    check_name(name, field)
    row = session.scalar(select(RegisteredModel).where(RegisteredModel.name == name))
    if row is None:
        raise NotFound(f"no registered model named {name!r}", field=field)
    return row


def get_version_row(
    session: Session, model: RegisteredModel, number: int, field: str = "version"
) -> ModelVersion:
    from sqlalchemy import select

    from modelward.registry.tables import ModelVersion

    row = session.scalar(
        select(ModelVersion)
        .where(ModelVersion.model_id == model.id, ModelVersion.version == number)
        .options(*_on_demand())
    )
    if row is None:
        raise NotFound(f"model {model.name!r} has no version {number}", field=field)
    return row


def _on_demand() -> tuple[Any, ...]:
    """Tags and inputs load when first touched: resolving a reference (the gate does it on
    every alias move) needs neither."""
    from sqlalchemy.orm import lazyload

    from modelward.registry.tables import ModelVersion

    return (lazyload(ModelVersion.tags), lazyload(ModelVersion.inputs))


def resolve_version(session: Session, ref: str | ModelRef, field: str = "ref") -> ModelVersion:
    """The version a reference points at now, or NotFound naming what is missing."""
    from sqlalchemy import select

    from modelward.registry.tables import ModelAlias, ModelVersion

    parsed = ref if isinstance(ref, ModelRef) else parse_model_ref(ref, field)
    model = get_model_row(session, parsed.name, field)
    if parsed.version is not None:
        return get_version_row(session, model, parsed.version, field)
    if parsed.alias is not None:
        row = session.scalar(
            select(ModelVersion)
            .join(ModelAlias, ModelAlias.version_id == ModelVersion.id)
            .where(ModelAlias.model_id == model.id, ModelAlias.alias == parsed.alias)
            .options(*_on_demand())
        )
        if row is None:
            raise NotFound(f"model {model.name!r} has no alias {parsed.alias!r}", field=field)
        return row
    latest = session.scalar(
        select(ModelVersion)
        .where(ModelVersion.model_id == model.id, ModelVersion.status == "active")
        .order_by(ModelVersion.version.desc())
        .limit(1)
        .options(*_on_demand())
    )
    if latest is None:
        raise NotFound(f"model {model.name!r} has no active version", field=field)
    return latest
