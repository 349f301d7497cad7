"""Every service verb, declared once: its HTTP route, the role it needs, whether it writes.

The in-process transport calls ``fn`` directly; the REST API is generated from the same
table and the HTTP transport calls it, so both transports expose exactly the same verbs.

A service function takes ``uow`` first; its other parameters become, by name, path
parameters (``{name}`` in the path), the JSON body (the one pydantic-model parameter)
or query parameters (everything else).
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter

from modelward.auth.roles import Role


@dataclass
class Operation:
    name: str
    method: str
    path: str
    fn: Callable[..., Any]
    role: Role
    write: bool
    status_code: int
    tag: str
    long: bool = False
    # False when an answer can change without a write (e.g. an approval expiring).
    cacheable: bool = True
    hints: dict[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def params(self) -> list[inspect.Parameter]:
        return [p for p in inspect.signature(self.fn).parameters.values() if p.name != "uow"]

    @functools.cached_property
    def path_params(self) -> set[str]:
        return {m.split(":")[0] for m in re.findall(r"{([^}]+)}", self.path)}

    @functools.cached_property
    def body_param(self) -> str | None:
        for p in self.params:
            hint = self.hints.get(p.name)
            if isinstance(hint, type) and issubclass(hint, BaseModel):
                return p.name
        return None

    @property
    def returns(self) -> Any:
        return self.hints.get("return")

    @functools.cached_property
    def adapter(self) -> TypeAdapter[Any] | None:
        """Validates and serialises the return type; built once per operation."""
        return None if self.returns is None else TypeAdapter(self.returns)


OPERATIONS: dict[str, Operation] = {}


def operation(
    method: str,
    path: str,
    *,
    role: Role = Role.viewer,
    write: bool | None = None,
    status_code: int = 200,
    tag: str = "",
    long: bool = False,
    cacheable: bool = True,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a service function as an operation of every transport.

    A ``long`` operation is a write that computes for a while (an evaluation): it runs in a
    read transaction and records its result through ``uow.write_phase()``.
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        name = fn.__name__
        if name in OPERATIONS:
            raise RuntimeError(f"operation {name} registered twice")
        is_write = method != "GET" if write is None else write
        OPERATIONS[name] = Operation(
            name=name,
            method=method,
            path=path,
            fn=fn,
            role=role,
            write=is_write,
            status_code=status_code,
            tag=tag or fn.__module__.split(".")[1],
            long=long,
            cacheable=cacheable,
            hints=typing.get_type_hints(fn),
        )
        return fn

    return register


def load_all() -> dict[str, Operation]:
    """Import every module that declares operations."""
    import modelward.services  # noqa: F401

    return OPERATIONS
