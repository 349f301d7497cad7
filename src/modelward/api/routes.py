"""Generate one FastAPI route per operation, sharing the SDK's in-process call path.

FastAPI still parses path and query parameters, checks the role and documents every
route, but the two costly steps of a request are done directly with pydantic: the JSON
body is validated from the raw bytes (``model_validate_json``) and the result is
serialised once (``dump_json``) without FastAPI's second validation of the response.
"""

from __future__ import annotations

import functools
import inspect
import typing
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.routing import Route

from modelward.api.deps import principal_dependency
from modelward.api.dispatch import install_lean_dispatch
from modelward.api.lean_routes import is_lean, lean_endpoint
from modelward.api.read_cache import ReadCache
from modelward.auth.roles import Principal
from modelward.client.base import invalid_from_pydantic
from modelward.client.transport import run_operation
from modelward.errors import InvalidInput
from modelward.operations import Operation
from modelward.store import Store

JSON = "application/json"


def _is_list(hint: Any) -> bool:
    """``list[X]`` or ``list[X] | None``: a repeatable query parameter."""
    if getattr(hint, "__origin__", None) is list:
        return True
    return any(getattr(arg, "__origin__", None) is list for arg in typing.get_args(hint))


async def _read_body(request: Request, model: type[BaseModel]) -> BaseModel:
    return parse_body(await request.body(), model)


def parse_body(raw: bytes, model: type[BaseModel]) -> BaseModel:
    """The request body validated straight from its bytes, or ``InvalidInput`` naming why."""
    if not raw.strip():
        raise InvalidInput("body: a JSON object is required", field="body")
    # A model may offer a faster way to validate its wire form (a metric batch does).
    validate = getattr(model, "model_validate_wire", model.model_validate_json)
    try:
        return validate(raw)  # type: ignore[no-any-return]
    except ValidationError as exc:
        err = invalid_from_pydantic(exc)
        if not err.field:  # malformed JSON or a non-UTF-8 body: the whole body is at fault
            raise InvalidInput(f"body: {err.message}", field="body") from None
        raise err from None


def answer(
    store: Store, cache: ReadCache | None, principal: Principal, op: Operation, kwargs: Any
) -> bytes | None:
    """Run the operation (or reuse its answer at an unchanged store) and serialise it."""
    adapter = op.adapter
    # The audit verbs read the chain itself: an edit made behind modelward's back moves
    # no head, and verify must still see it.
    if op.write or cache is None or adapter is None or op.tag == "audit" or not op.cacheable:
        result = run_operation(store, principal, op, kwargs)
        return None if adapter is None else adapter.dump_json(result)
    principal.require(op.role, op.name.replace("_", " "))
    key = cache.key(op.name, kwargs)
    head = cache.head(store.engine)
    body = cache.get(key, head)
    if body is None:
        body = adapter.dump_json(run_operation(store, principal, op, kwargs))
        cache.put(key, head, body)
    return body


def _endpoint(op: Operation) -> Any:
    body_name = op.body_param
    body_model: type[BaseModel] | None = op.hints[body_name] if body_name else None

    async def endpoint(request: Request, principal: Principal, **kwargs: Any) -> Response:
        if body_model is not None:
            kwargs[body_name] = await _read_body(request, body_model)  # type: ignore[index]
        state = request.app.state
        body = await run_in_threadpool(answer, state.store, state.read_cache, principal, op, kwargs)
        if body is None:
            return Response(status_code=op.status_code)
        return Response(body, status_code=op.status_code, media_type=JSON)

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
        if p.name == body_name:
            continue
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


def _body_doc(model: type[BaseModel]) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {JSON: {"schema": ref}}}}


def install_operations(app: FastAPI, operations: dict[str, Operation]) -> None:
    # Routes go straight onto the app: an included router adds a second matching pass
    # to every request.
    bodies: dict[str, type[BaseModel]] = {}
    lean: dict[int, Any] = {}
    documented: dict[int, Any] = {}
    # A path ending in ``{ref:path}`` would swallow ``…/{ref:path}/evaluations``: the
    # greedy routes go last (Starlette takes the first match).
    ordered = sorted(operations.values(), key=lambda op: op.path.endswith(":path}"))
    for op in ordered:
        extra = None
        if op.body_param:
            model = op.hints[op.body_param]
            bodies[model.__name__] = model
            extra = _body_doc(model)
        if is_lean(op):
            # Served without FastAPI's per-request machinery, so a plain route holds its
            # place in the router; FastAPI's route, costly to build, is made only to
            # document it, when the OpenAPI schema is first asked for.
            route = _placeholder(op)
            app.router.routes.append(route)
            route.app = lean[id(route)] = lean_endpoint(op)
            documented[id(route)] = functools.partial(_add_route, op=op, extra=extra)
            continue
        _add_route(app.router, op, extra)
    _document(app, bodies, documented)
    install_lean_dispatch(app, lean)


def _add_route(router: APIRouter, op: Operation, extra: dict[str, Any] | None) -> None:
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
        openapi_extra=extra,
    )


def _placeholder(op: Operation) -> Route:
    """A route that matches exactly what FastAPI's would: one method, no implied HEAD."""
    route = Route(op.path, _unreachable, methods=[op.method], name=op.name)
    route.methods = {op.method}
    return route


async def _unreachable(request: Request) -> Response:  # replaced by the lean endpoint
    raise AssertionError("a lean route's placeholder endpoint was called")


def _document(app: FastAPI, bodies: dict[str, type[BaseModel]], documented: dict[int, Any]) -> None:
    """``/openapi.json`` from FastAPI's routes, made then for the lean operations, plus the
    request-body schemas FastAPI does not see (bodies are read from the raw request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            summary=app.summary,
            description=app.description,
            terms_of_service=app.terms_of_service,
            contact=app.contact,
            license_info=app.license_info,
            routes=_documented_routes(app, documented),
            webhooks=app.webhooks.routes,
            tags=app.openapi_tags,
            servers=app.servers,
            separate_input_output_schemas=app.separate_input_output_schemas,
            external_docs=app.openapi_external_docs,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        template = "#/components/schemas/{model}"
        for name, model in bodies.items():
            body = model.model_json_schema(ref_template=template, mode="validation")
            for def_name, definition in body.pop("$defs", {}).items():
                components.setdefault(def_name, definition)
            components.setdefault(name, body)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _documented_routes(app: FastAPI, documented: dict[int, Any]) -> list[Any]:
    """The app's routes in order, each lean placeholder swapped for FastAPI's own route,
    built on a router configured as the app's (its error responses, response class)."""
    own = app.router
    docs = APIRouter(
        responses=own.responses,
        default_response_class=own.default_response_class,
        dependencies=list(own.dependencies),
        generate_unique_id_function=own.generate_unique_id_function,
        dependency_overrides_provider=app,
    )
    out = []
    for route in own.routes:
        build = documented.get(id(route))
        if build is None:
            out.append(route)
            continue
        build(docs)
        out.append(docs.routes[-1])
    return out
