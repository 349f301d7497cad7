"""The online gateway: a plain ASGI application, no framework on the hot path.

Routes:
  POST /v1/endpoints/{name}/predict        friendly JSON (rows or columns)
  POST /v1/endpoints/{name}/feedback       delayed labels by request id
  GET  /v1/endpoints                       what this replica serves
  POST /v2/models/{name}[/versions/{v}]/infer   Open Inference Protocol v2
  GET  /v2/models/{name}[/versions/{v}], /v2/models/{name}/ready, /v2/health/live,
       /v2/health/ready, /v2                metadata and health
  GET  /metrics                            Prometheus text

The answer is sent before anything else happens: logging appends to an in-memory buffer,
and a shadow challenger predicts after the caller has its answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from typing import Any

from modelward.serving import codec, v2
from modelward.serving.codec import RequestError
from modelward.serving.log_writer import Entry
from modelward.serving.runtime import Arm, LiveEndpoint, Runtime

log = logging.getLogger("modelward.serving")
MAX_BODY = 1_048_576  # bytes; larger requests get 413
JSON = [(b"content-type", b"application/json")]
PROMETHEUS = [(b"content-type", b"text/plain; version=0.0.4; charset=utf-8")]


def _error(
    code: str, message: str, field: str | None = None, details: list[str] | None = None
) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message, "field": field}
    if details:
        error["details"] = details
    return json.dumps({"error": error}).encode()


class Gateway:
    def __init__(self, runtime: Runtime, *, max_body: int = MAX_BODY) -> None:
        self.runtime = runtime
        self.max_body = max_body
        self.metrics = runtime.metrics

    # -------------------------------------------------------------- ASGI plumbing

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.runtime.start()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # uvicorn has finished every request by now: this flush is the last word.
                self.runtime.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _send(self, send: Any, status: int, body: bytes, headers: list[Any] = JSON) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _body(self, scope: dict[str, Any], receive: Any, send: Any) -> bytes | None:
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > self.max_body:
                await self._too_large(send)
                return None
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await self._too_large(send)
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _too_large(self, send: Any) -> None:
        message = f"request body larger than {self.max_body} bytes"
        await self._send(send, 413, _error("too_large", message, "body"))

    # -------------------------------------------------------------- routing

    async def _http(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path, method = scope["path"], scope["method"]
        if method == "POST":
            if path.startswith("/v1/endpoints/"):
                name, _, action = path[14:].partition("/")
                if action == "predict":
                    return await self._predict(name, None, scope, receive, send, False)
                if action == "feedback":
                    return await self._feedback(name, scope, receive, send)
            elif path.startswith("/v2/models/") and path.endswith("/infer"):
                name, version = _model_path(path[11:-6])
                return await self._predict(name, version, scope, receive, send, True)
        elif method == "GET":
            return await self._get(path, send)
        await self._send(send, 404, _error("not_found", f"no route {method} {path}"))

    async def _get(self, path: str, send: Any) -> None:
        if path == "/v2/health/live":
            return await self._send(send, 200, b'{"live":true}')
        if path == "/v2/health/ready":
            ready = self.runtime.loaded_once
            return await self._send(
                send, 200 if ready else 503, json.dumps({"ready": ready}).encode()
            )
        if path == "/metrics":
            self.metrics.queue_rows.set(self.runtime.buffer.depth)
            return await self._send(send, 200, self.metrics.exposition(), PROMETHEUS)
        if path == "/v2":
            body = {"name": "modelward", "version": _version(), "extensions": []}
            return await self._send(send, 200, json.dumps(body).encode())
        if path == "/v1/endpoints":
            return await self._send(send, 200, json.dumps(self._listing()).encode())
        if path.startswith("/v2/models/"):
            rest = path[11:]
            if rest.endswith("/ready"):
                name, version = _model_path(rest[:-6])
                return await self._model_ready(name, version, send)
            name, version = _model_path(rest)
            return await self._metadata(name, version, send)
        await self._send(send, 404, _error("not_found", f"no route GET {path}"))

    def _listing(self) -> list[dict[str, Any]]:
        return [
            {
                "endpoint": live.name,
                "plan": live.kind,
                "share": live.share,
                "arms": [
                    {
                        "arm": a.name,
                        "version": a.ref,
                        "ready": a.predictor is not None,
                        "error": a.error,
                    }
                    for a in (live.primary, live.challenger)
                    if a is not None
                ],
            }
            for live in self.runtime.endpoints.values()
        ]

    def _endpoint(self, name: str) -> LiveEndpoint | None:
        return self.runtime.endpoints.get(name)

    async def _model_ready(self, name: str, version: str | None, send: Any) -> None:
        live = self._endpoint(name)
        arm = _arm(live, version) if live else None
        if arm is None:
            return await self._send(send, 404, v2.error_body(f"no model {name!r} here"))
        ready = arm.predictor is not None
        body = json.dumps({"name": name, "ready": ready}).encode()
        await self._send(send, 200 if ready else 503, body)

    async def _metadata(self, name: str, version: str | None, send: Any) -> None:
        live = self._endpoint(name)
        arm = _arm(live, version) if live else None
        if live is None or arm is None or arm.spec is None:
            why = arm.error if arm is not None and arm.error else f"no model {name!r} here"
            return await self._send(send, 404 if arm is None else 503, v2.error_body(why))
        body = v2.model_metadata(
            name=name,
            versions=sorted(live.arms_by_version),
            platform=f"modelward_{_flavor(arm)}",
            spec=arm.spec,
            outputs=[("predict", "FP64"), ("predict_proba", "FP64")],
        )
        await self._send(send, 200, body)

    # -------------------------------------------------------------- predictions

    async def _predict(
        self,
        name: str,
        pinned: str | None,
        scope: dict[str, Any],
        receive: Any,
        send: Any,
        oip: bool,
    ) -> None:
        started = time.perf_counter()
        live = self._endpoint(name)
        if live is None:
            message = f"no online endpoint named {name!r}"
            body = v2.error_body(message) if oip else _error("not_found", message, "name")
            return await self._send(send, 404, body)
        raw = await self._body(scope, receive, send)
        if raw is None:
            return
        self.metrics.in_flight.inc()
        try:
            await self._answer(live, pinned, raw, send, oip, started)
        finally:
            self.metrics.in_flight.dec()

    async def _answer(
        self,
        live: LiveEndpoint,
        pinned: str | None,
        raw: bytes,
        send: Any,
        oip: bool,
        started: float,
    ) -> None:
        decode = v2.decode_infer if oip else codec.decode_predict
        try:
            arm, decoded = self._route(live, pinned, raw, decode)
        except RequestError as exc:
            body = (
                v2.error_body(exc.message)
                if oip
                else _error("invalid_input", exc.message, exc.field, exc.details)
            )
            return await self._send(send, exc.status, body)
        if arm.predictor is None:
            return await self._unavailable(live, arm, send, oip, started, arm.error or "not loaded")
        try:
            result = arm.predictor.predict(decoded.columns, decoded.n)
        except Exception as exc:  # the model's own failure: this arm only
            log.warning("gateway: %s raised during predict: %s", arm.ref, exc)
            return await self._unavailable(
                live, arm, send, oip, started, f"the model raised {type(exc).__name__}"
            )
        request_id = decoded.request_id or os.urandom(12).hex()
        ids = [request_id] if decoded.n == 1 else [f"{request_id}.{i}" for i in range(decoded.n)]
        try:
            body = self._encode(live, arm, decoded, result, request_id, ids, oip)
        except RequestError as exc:  # e.g. predict_proba asked of a model without one
            message = exc.message
            error = v2.error_body(message) if oip else _error("invalid_input", message, exc.field)
            return await self._send(send, exc.status, error)
        await self._send(send, 200, body)
        latency_ms = (time.perf_counter() - started) * 1000
        self._record(live, arm, "online", ids, decoded, result, latency_ms)
        self.metrics.answered(live.name, arm.ref, arm.name, 200, latency_ms / 1000)
        if live.shadow_copy() and live.challenger is not None:
            self._shadow(live, live.challenger, raw, decode, ids)

    def _encode(
        self,
        live: LiveEndpoint,
        arm: Arm,
        decoded: Any,
        result: Any,
        request_id: str,
        ids: list[str],
        oip: bool,
    ) -> bytes:
        if oip:
            return v2.encode_infer(
                model_name=live.name,
                model_version=arm.version,
                request_id=request_id,
                predictions=result.predictions,
                probabilities=result.probabilities,
                classes=result.classes,
                requested=decoded.requested,
                parameters={"arm": arm.name, "ref": arm.ref},
            )
        return codec.encode_predict(
            predictions=result.predictions,
            probabilities=result.probabilities,
            classes=result.classes,
            version=arm.ref,
            arm=arm.name,
            request_id=request_id,
            ids=ids if decoded.n > 1 else None,
        )

    def _route(
        self, live: LiveEndpoint, pinned: str | None, raw: bytes, decode: Any
    ) -> tuple[Arm, Any]:
        extra = frozenset([live.key_field]) if live.key_field else frozenset()
        if pinned is not None:
            arm = live.arms_by_version.get(pinned)
            if arm is None:
                raise RequestError(404, f"version {pinned} is not served by {live.name}", "version")
        elif live.kind == "ab":
            arm = live.primary
        else:
            arm = live.pick()
        spec = arm.spec if arm.spec is not None else _any_spec(live)
        if spec is None:
            return arm, None
        decoded = decode(raw, spec, allowed_extra=extra, key_field=live.key_field)
        if live.kind == "ab" and pinned is None:
            key = decoded.routing_key
            if key is None:
                raise RequestError(
                    422,
                    f"routing_key: endpoint {live.name} runs an A-B test keyed by "
                    f"{live.key_field!r}; send that field or routing_key",
                    "routing_key",
                )
            chosen = live.by_key(str(key))
            if chosen is not arm and chosen.spec is not None and chosen.spec is not spec:
                decoded = decode(raw, chosen.spec, allowed_extra=extra, key_field=live.key_field)
            arm = chosen
        return arm, decoded

    async def _unavailable(
        self, live: LiveEndpoint, arm: Arm, send: Any, oip: bool, started: float, why: str
    ) -> None:
        message = f"{arm.ref} ({arm.name}) cannot answer: {why}"
        body = v2.error_body(message) if oip else _error("unavailable", message, "model")
        await self._send(send, 503, body)
        latency_ms = (time.perf_counter() - started) * 1000
        now_ms = int(time.time() * 1000)
        self.runtime.buffer.observe(
            (live.endpoint_id, live.plan_id, live.step_index, arm.name),
            now_ms,
            latency_ms,
            error=True,
        )
        self.metrics.answered(live.name, arm.ref, arm.name, 503, latency_ms / 1000)

    def _record(
        self,
        live: LiveEndpoint,
        arm: Arm,
        source: str,
        ids: list[str],
        decoded: Any,
        result: Any,
        latency_ms: float,
    ) -> None:
        now_ms = int(time.time() * 1000)
        scores = _positive_scores(result)
        entry = Entry(
            endpoint_id=live.endpoint_id,
            version_id=arm.version_id,
            source=source,
            arm=arm.name,
            ids=ids,
            ts_ms=now_ms,
            columns=decoded.columns,
            n=decoded.n,
            predictions=result.predictions,
            scores=scores,
            latency_ms=latency_ms,
        )
        if not self.runtime.buffer.add(entry):
            self.metrics.dropped.inc(decoded.n)
        key = (live.endpoint_id, live.plan_id, live.step_index, arm.name)
        labels = None if scores is not None else result.predictions
        self.runtime.buffer.observe(key, now_ms, latency_ms, scores=scores, labels=labels)

    def _shadow(
        self, live: LiveEndpoint, arm: Arm, raw: bytes, decode: Any, ids: list[str]
    ) -> None:
        """The challenger answers a copy; its answer is logged and counted, never returned."""
        started = time.perf_counter()
        shadow_ids = [f"{i}#shadow" for i in ids]
        now_ms = int(time.time() * 1000)
        key = (live.endpoint_id, live.plan_id, live.step_index, arm.name)
        try:
            if arm.predictor is None or arm.spec is None:
                raise RuntimeError(arm.error or "not loaded")
            extra = frozenset([live.key_field]) if live.key_field else frozenset()
            decoded = decode(raw, arm.spec, allowed_extra=extra, key_field=None)
            result = arm.predictor.predict(decoded.columns, decoded.n)
        except Exception:
            latency_ms = (time.perf_counter() - started) * 1000
            self.runtime.buffer.observe(key, now_ms, latency_ms, error=True)
            self.metrics.answered(live.name, arm.ref, "shadow", 503, latency_ms / 1000)
            return
        latency_ms = (time.perf_counter() - started) * 1000
        self._record(live, arm, "shadow", shadow_ids, decoded, result, latency_ms)
        self.metrics.answered(live.name, arm.ref, "shadow", 200, latency_ms / 1000)

    # -------------------------------------------------------------- feedback

    async def _feedback(self, name: str, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Labels for earlier answers, by request id: joined to the predictions later."""
        from modelward.errors import ModelwardError
        from modelward.monitoring.log_schemas import LabelsRequest
        from modelward.monitoring.log_service import log_labels

        raw = await self._body(scope, receive, send)
        if raw is None:
            return
        try:
            body = LabelsRequest.model_validate_json(raw)
        except ValueError as exc:
            first = exc.errors()[0] if hasattr(exc, "errors") else {"loc": (), "msg": str(exc)}
            field = ".".join(str(p) for p in first.get("loc", ())) or "body"
            return await self._send(
                send, 422, _error("invalid_input", f"{field}: {first.get('msg')}", field)
            )

        def store() -> Any:
            self.runtime.flush()  # labels may name predictions still in the buffer
            with self.runtime.store.unit_of_work(self.runtime.principal, write=True) as uow:
                return log_labels(uow, name, body)

        try:  # off the event loop: answering predictions must not wait for the database
            receipt = await asyncio.to_thread(store)
        except ModelwardError as exc:
            return await self._send(send, exc.http_status, _error(exc.code, exc.message, exc.field))
        await self._send(send, 201, receipt.model_dump_json().encode())


def _model_path(rest: str) -> tuple[str, str | None]:
    """``name`` or ``name/versions/3`` from a v2 model path."""
    name, sep, version = rest.partition("/versions/")
    return name, (version or None) if sep else None


def _arm(live: LiveEndpoint | None, version: str | None) -> Arm | None:
    if live is None:
        return None
    return live.primary if version is None else live.arms_by_version.get(version)


def _any_spec(live: LiveEndpoint) -> Any:
    for arm in (live.primary, live.challenger):
        if arm is not None and arm.spec is not None:
            return arm.spec
    return None


def _flavor(arm: Arm) -> str:
    return type(arm.predictor).__name__.lower().removesuffix("predictor") or "model"


def _positive_scores(result: Any) -> Any:
    """The positive class's probability of a binary classifier, else None."""
    p = result.probabilities
    if p is None or p.ndim != 2 or p.shape[1] != 2:
        return None
    return p[:, 1]


def _version() -> str:
    from importlib.metadata import version

    return version("modelward")
