"""Two transports behind one client: in-process service calls, or HTTP to a server."""

from __future__ import annotations

import json
import time
from typing import Any, Protocol
from urllib.parse import quote

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from modelward.auth.roles import Principal
from modelward.errors import Conflict, InvalidInput, ModelwardError, from_dict
from modelward.operations import OPERATIONS, Operation, load_all
from modelward.store import Store


class Transport(Protocol):
    def call(self, op_name: str, /, **kwargs: Any) -> Any: ...
    def put_artifact(self, data: bytes) -> str: ...
    def get_artifact(self, digest: str, name: str | None = None) -> bytes: ...
    def close(self) -> None: ...


def run_operation(store: Store, principal: Principal, op: Operation, kwargs: dict[str, Any]) -> Any:
    """Run one operation in its own transaction, the way both the API and the SDK do."""
    principal.require(op.role, op.name.replace("_", " "))
    for attempt in range(8):
        try:
            with store.unit_of_work(principal, write=op.write and not op.long) as uow:
                return op.fn(uow, **kwargs)
        except OperationalError as exc:
            # busy_timeout makes this rare; a bounded retry makes it invisible.
            if "locked" not in str(exc) or attempt == 7:
                raise
            time.sleep(0.05 * (attempt + 1))
        except DBIntegrityError as exc:
            raise Conflict(
                f"{op.name}: the change conflicts with stored state ({exc.orig})"
            ) from exc
        except (DataError, OverflowError, UnicodeEncodeError) as exc:
            refused = _unstorable(op, kwargs, exc)
            if refused is None:  # not caused by the request: a genuine error
                raise
            raise refused from exc
    raise AssertionError("unreachable")


INT64 = 2**63


def _culprit(value: Any, field: str) -> tuple[str, str] | None:
    """The first value no database can store, as (field, reason)."""
    # Iterative: JSON nested a few hundred levels deep must not exhaust the stack.
    pending: list[tuple[Any, str]] = [(value, field)]
    while pending:
        item, where = pending.pop()
        reason = _unstorable_reason(item)
        if reason:
            return where, reason
        if isinstance(item, BaseModel):
            fields = type(item).model_fields
            children: Any = [(f.alias or name, getattr(item, name)) for name, f in fields.items()]
        elif isinstance(item, dict):
            children = list(item.items())
        elif isinstance(item, (list, tuple)):
            children = list(enumerate(item))
        else:
            continue
        for key, child in reversed(children):
            pending.append((child, f"{where}.{key}" if where else str(key)))
            pending.append((key, where))  # a dict key is checked where the dict is
    return None


def _unstorable_reason(value: Any) -> str | None:
    if isinstance(value, str):
        if "\x00" in value:
            return "contains a NUL character"
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "is not valid Unicode text (it holds an unpaired surrogate)"
    elif isinstance(value, int) and not isinstance(value, bool) and not -INT64 <= value < INT64:
        return "is out of range (|n| < 2**63)"
    return None


def _refused(op: Operation, kwargs: dict[str, Any]) -> InvalidInput | None:
    """An InvalidInput naming the argument no database can store, if there is one."""
    body = op.body_param
    for name, value in kwargs.items():
        found = _culprit(value, "" if name == body else name)
        if found:
            field, reason = found
            where = field or "body"
            return InvalidInput(f"{where} {reason}; it cannot be stored", field=where)
    return None


def _unstorable(op: Operation, kwargs: dict[str, Any], exc: Exception) -> InvalidInput | None:
    """The InvalidInput for a value the database refused, naming it when it can be found."""
    refused = _refused(op, kwargs)
    if refused is None and isinstance(exc, DataError):  # the database refused a value
        reason = str(exc.orig).splitlines()[0]
        return InvalidInput(f"{op.name}: a value in the request cannot be stored: {reason}")
    return refused


class LocalTransport:
    """Calls the services in this process against a SQLite or PostgreSQL store."""

    def __init__(self, store: Store, principal: Principal) -> None:
        self.store = store
        self.principal = principal
        load_all()

    def call(self, op_name: str, /, **kwargs: Any) -> Any:
        return run_operation(self.store, self.principal, OPERATIONS[op_name], kwargs)

    def put_artifact(self, data: bytes) -> str:
        return self.store.artifacts.put_bytes(data)

    def get_artifact(self, digest: str, name: str | None = None) -> bytes:
        return self.store.artifacts.get_bytes(digest, name)

    def close(self) -> None:
        self.store.close()


class HttpTransport:
    """Calls a ``modelward server`` over its REST API."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 60.0) -> None:
        from modelward.client.http_pool import HttpPool

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._http = HttpPool(self.base_url, headers, timeout)
        load_all()

    def _exchange(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str | None = None,
        query: dict[str, Any] | None = None,
    ) -> tuple[int, bytes]:
        status, data = self._http.request(
            method, path, body=body, content_type=content_type, query=query
        )
        if status >= 400:
            try:
                err = json.loads(data)["error"]
            except Exception:
                raise ModelwardError(f"HTTP {status} from {self.base_url}{path}") from None
            raise from_dict(err)
        return status, data

    def call(self, op_name: str, /, **kwargs: Any) -> Any:
        op = OPERATIONS[op_name]
        try:
            path, body, query = self._request(op, dict(kwargs))
        except (UnicodeEncodeError, PydanticSerializationError) as exc:
            # Text that is not valid Unicode cannot even be encoded to be sent.
            refused = _refused(op, kwargs)
            if refused is None:
                raise
            raise refused from exc
        content_type = None if body is None else "application/json"
        status, data = self._exchange(op.method, path, body, content_type, query)
        if op.adapter is None or status == 204:
            return None
        return op.adapter.validate_json(data)

    def _request(
        self, op: Operation, kwargs: dict[str, Any]
    ) -> tuple[str, bytes | None, dict[str, Any]]:
        path = op.path
        for p in op.path_params:
            value = str(kwargs.pop(p))
            if "{" + p + ":path}" in path:
                path = path.replace("{" + p + ":path}", quote(value, safe="/@"))
            else:
                path = path.replace("{" + p + "}", quote(value, safe="@"))
        body: bytes | None = None
        if op.body_param is not None:
            value = kwargs.pop(op.body_param)
            if isinstance(value, BaseModel):
                # pydantic's own JSON: faster than dump + json.dumps, and it writes the
                # NaN / Infinity strings models configure (json.dumps would refuse them).
                body = value.model_dump_json().encode()
            else:
                body = json.dumps(value, ensure_ascii=False, allow_nan=False).encode()
        return path, body, kwargs

    def put_artifact(self, data: bytes) -> str:
        from modelward.artifacts.store import sha256_bytes

        digest = sha256_bytes(data)
        self._exchange("PUT", f"/api/v1/artifacts/{digest}", data, "application/octet-stream")
        return digest

    def get_artifact(self, digest: str, name: str | None = None) -> bytes:
        from modelward.artifacts.store import sha256_bytes
        from modelward.errors import IntegrityError

        _, data = self._exchange("GET", f"/api/v1/artifacts/{digest}")
        actual = sha256_bytes(data)
        if actual != digest:
            raise IntegrityError(
                f"artifact {name or digest} is corrupted: expected sha256 {digest}, found {actual}",
                field="digest",
            )
        return data

    def close(self) -> None:
        self._http.close()
