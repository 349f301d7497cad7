"""The gateway's Prometheus metrics, in a registry of its own (one per gateway)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Latency buckets in seconds: dense below 10 ms, where single-row models answer.
BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        arm = ["endpoint", "version", "arm"]
        self.requests = Counter(
            "modelward_gateway_requests", "Prediction requests answered", [*arm, "code"], registry=r
        )
        self.errors = Counter(
            "modelward_gateway_errors", "Requests an arm could not answer (5xx)", arm, registry=r
        )
        self.latency = Histogram(
            "modelward_gateway_request_seconds",
            "Time from request to answer",
            arm,
            buckets=BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "modelward_gateway_in_flight", "Prediction requests being answered", registry=r
        )
        self.load_seconds = Gauge(
            "modelward_gateway_model_load_seconds",
            "Time to load a version",
            ["version"],
            registry=r,
        )
        self.load_failures = Counter(
            "modelward_gateway_model_load_failures",
            "Versions that failed to load",
            ["version"],
            registry=r,
        )
        self.queue_rows = Gauge(
            "modelward_gateway_log_queue_rows", "Predictions waiting to be logged", registry=r
        )
        self.dropped = Counter(
            "modelward_gateway_log_dropped",
            "Predictions dropped from the log (must stay 0)",
            registry=r,
        )
        self.logged = Counter(
            "modelward_gateway_log_written", "Predictions written to the log", registry=r
        )
        self.flush_failures = Counter(
            "modelward_gateway_log_flush_failures",
            "Log flushes that failed and were retried",
            registry=r,
        )
        self.share = Gauge(
            "modelward_gateway_plan_share",
            "Percent of requests routed to each arm",
            ["endpoint", "arm"],
            registry=r,
        )
        self._children: dict[tuple[Any, ...], Any] = {}
        self.dropped.inc(0)

    def answered(self, endpoint: str, version: str, arm: str, code: int, seconds: float) -> None:
        """Count one request; label children are cached: looking them up is most of the cost."""
        key = (endpoint, version, arm, code)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(endpoint, version, arm, str(code)),
                self.latency.labels(endpoint, version, arm),
                self.errors.labels(endpoint, version, arm),
            )
        children[0].inc()
        children[1].observe(seconds)
        if code >= 500:
            children[2].inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
