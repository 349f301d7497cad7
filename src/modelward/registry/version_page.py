"""One page of a model's versions, newest first, with the total: a model with hundreds of
versions is listed a page at a time instead of building every version's details."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy import func, select

from modelward.errors import InvalidInput
from modelward.operations import operation
from modelward.registry.references import get_model_row
from modelward.registry.schemas import ModelVersionPublic
from modelward.registry.service import version_public
from modelward.registry.tables import ModelVersion
from modelward.uow import UnitOfWork

MAX_PAGE = 200
MAX_OFFSET = 1_000_000_000


class VersionPage(BaseModel):
    model: str
    total: int = Field(description="versions matching, over all pages")
    offset: int
    limit: int
    versions: list[ModelVersionPublic] = Field(description="newest first")


@operation("GET", "/api/v1/models/{name}/version-page")
def list_versions_page(
    uow: UnitOfWork,
    name: str,
    offset: int = 0,
    limit: int = 50,
    include_archived: bool = True,
) -> VersionPage:
    """``limit`` versions of a model from ``offset``, newest first, and how many there are."""
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidInput(f"offset: must be between 0 and {MAX_OFFSET}", field="offset")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit: must be between 1 and {MAX_PAGE}", field="limit")
    model = get_model_row(uow.session, name)
    where = [ModelVersion.model_id == model.id]
    if not include_archived:
        where.append(ModelVersion.status == "active")
    total = uow.session.scalar(select(func.count()).select_from(ModelVersion).where(*where)) or 0
    rows = uow.session.scalars(
        select(ModelVersion)
        .where(*where)
        .order_by(ModelVersion.version.desc())
        .offset(offset)
        .limit(limit)
    )
    return VersionPage(
        model=model.name,
        total=int(total),
        offset=offset,
        limit=limit,
        versions=[version_public(r, uow) for r in rows],
    )
