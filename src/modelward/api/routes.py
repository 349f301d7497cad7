"""Generate one FastAPI route per operation, sharing the SDK's in-process call path."""

from __future__ import annotations

import inspect
import typing
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from starlette.concurrency import run_in_threadpool

from modelward.api.deps import principal_dependency
from modelward.auth.roles import Principal
from modelward.client.transport import run_operation
from modelward.operations import Operation


def _is_list(hint: Any) -> bool:
    """``list[X]`` or ``list[X] | None``: a repeatable query parameter."""
    if getattr(hint, "__origin__", None) is list:
        return True
    return any(getattr(arg, "__origin__", None) is list for arg in typing.get_args(hint))


def _endpoint(op: Operation) -> Any:
    async def endpoint(request: Request, principal: Principal, **kwargs: Any) -> Any:
        store = request.app.state.store
        return await run_in_threadpool(run_operation, store, principal, op, kwargs)

    params = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
        inspect.Parameter(
            "principal",
            inspect.Parameter.KEYWORD_ONLY,
            annotation=Principal,
            default=Depends(principal_dependency),
        ),
    ]
    for p in op.params:
        hint = op.hints.get(p.name, Any)
        default = p.default
        if _is_list(hint) and p.name not in op.path_params:
            default = Query(None if default is inspect.Parameter.empty else default)
        params.append(
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hint, default=default)
        )
    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__name__ = op.name
    endpoint.__doc__ = op.fn.__doc__
    return endpoint


def install_operations(app: FastAPI, operations: dict[str, Operation]) -> None:
    router = APIRouter()
    for op in operations.values():
        router.add_api_route(
            op.path,
            _endpoint(op),
            methods=[op.method],
            status_code=op.status_code,
            response_model=op.returns,
            name=op.name,
            operation_id=op.name,
            tags=[op.tag],
            summary=(op.fn.__doc__ or op.name).strip().splitlines()[0],
        )
    app.include_router(router)
