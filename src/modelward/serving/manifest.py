"""Kubernetes and KServe objects that run the online gateway for one endpoint.

Pure functions: they build plain dicts (ready for ``to_yaml`` or any Kubernetes client) and
touch neither the store nor a cluster. The gateway follows the endpoint's traffic plan, so the
objects name the version deployed when they were made, but a later version, canary or
rollback is served without applying them again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from modelward import __version__
from modelward.errors import InvalidInput

APP = "modelward-gateway"
CONTAINER = "gateway"
KSERVE_CONTAINER = "kserve-container"  # the name KServe looks for in a custom predictor
LIVE_PATH = "/v2/health/live"
READY_PATH = "/v2/health/ready"
METRICS_PATH = "/metrics"
SCRATCH = "/tmp"  # the only writable path: the root filesystem is read-only
MIN_GRACE_SECONDS = 30  # the gateway drains requests and flushes the prediction log in up to 30 s
DEFAULT_MIN_REPLICAS = 2
DEFAULT_MAX_REPLICAS = 10
# A new pod is ready before an old one goes: capacity never drops during a rollout.
ROLLING = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}

# KServe appends "-predictor" to the name of what it creates, and a Service name is a
# DNS-1035 label of at most 63 characters: keep the base well under that.
MAX_BASE = 45
_HASH_LEN = 6
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_SUFFIX: dict[str | None, Decimal] = {
    None: Decimal(1),
    "m": Decimal("0.001"),
    **{s: Decimal(1000) ** (i + 1) for i, s in enumerate("kMGTPE")},
    **{f"{s}i": Decimal(1024) ** (i + 1) for i, s in enumerate("KMGTPE")},
}


@dataclass(frozen=True)
class EndpointInfo:
    """The endpoint to serve: its name, and the version reference and digest it deploys."""

    name: str
    ref: str
    digest: str


@dataclass(frozen=True)
class ManifestOptions:
    """How to run the gateway. Every value is checked when the options are made: a bad one
    raises ``InvalidInput`` whose ``field`` is the option's name.

    ``replicas`` fixes the number of pods (no autoscaler); otherwise a HorizontalPodAutoscaler
    keeps between ``min_replicas`` (default 2) and ``max_replicas`` (default 10) pods at
    ``target_cpu`` percent of the CPU request. A limit of ``None`` sets no limit.
    """

    image: str | None = None
    namespace: str | None = None
    replicas: int | None = None
    min_replicas: int | None = None
    max_replicas: int | None = None
    target_cpu: int = 70
    cpu_request: str = "500m"
    cpu_limit: str | None = "2"
    memory_request: str = "512Mi"
    memory_limit: str | None = "2Gi"
    port: int = 8080
    service_port: int = 80
    secret: str = "modelward"
    service_account: str | None = None
    disruption_budget: bool = True
    grace_seconds: int = 45
    drain_delay_seconds: int = 5
    run_as_user: int = 10001

    def __post_init__(self) -> None:
        _check_names(self)
        _check_replicas(self)
        _check_numbers(self)
        _check_resources(self)

    @property
    def image_ref(self) -> str:
        return self.image or f"modelward:{__version__}"

    @property
    def autoscaled(self) -> bool:
        return self.replicas is None

    @property
    def lowest(self) -> int:
        """The fewest pods: the fixed count, or the autoscaler's minimum."""
        if self.replicas is not None:
            return self.replicas
        if self.min_replicas is not None:
            return self.min_replicas
        return min(DEFAULT_MIN_REPLICAS, self.max_replicas or DEFAULT_MIN_REPLICAS)

    @property
    def highest(self) -> int:
        """The most pods: the fixed count, or the autoscaler's maximum."""
        if self.replicas is not None:
            return self.replicas
        if self.max_replicas is not None:
            return self.max_replicas
        return max(DEFAULT_MAX_REPLICAS, self.min_replicas or 0)


def _refuse(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", field=field)


def _check_names(o: ManifestOptions) -> None:
    if o.image is not None and (not o.image or re.search(r"\s", o.image)):
        raise _refuse("image", f"{o.image!r} is not an image reference (empty or has spaces)")
    if o.namespace is not None and not _is_label(o.namespace, _DNS1123_LABEL):
        raise _refuse(
            "namespace",
            f"{o.namespace!r} is not a namespace name: at most 63 lower-case letters, digits "
            "or '-', starting and ending with a letter or digit",
        )
    for field in ("secret", "service_account"):
        value = getattr(o, field)
        if value is None and field == "service_account":
            continue
        if not (isinstance(value, str) and len(value) <= 253 and _DNS1123_SUBDOMAIN.match(value)):
            raise _refuse(
                field,
                f"{value!r} is not a Kubernetes object name: lower-case letters, digits, '-' "
                "and '.', starting and ending with a letter or digit",
            )


def _is_label(value: str, pattern: re.Pattern[str]) -> bool:
    return isinstance(value, str) and len(value) <= 63 and bool(pattern.match(value))


def _check_replicas(o: ManifestOptions) -> None:
    for field in ("replicas", "min_replicas", "max_replicas"):
        value = getattr(o, field)
        if value is not None and not (isinstance(value, int) and 1 <= value <= 1000):
            raise _refuse(field, f"{value!r} is not a number of pods between 1 and 1000")
    if o.replicas is not None and (o.min_replicas is not None or o.max_replicas is not None):
        raise _refuse(
            "replicas",
            "give a fixed number of replicas or the autoscaler's min/max, not both",
        )
    if o.min_replicas is not None and o.max_replicas is not None:
        if o.min_replicas > o.max_replicas:
            raise _refuse(
                "min_replicas",
                f"{o.min_replicas} is above max_replicas {o.max_replicas}: the autoscaler's "
                "minimum must not exceed its maximum",
            )


def _check_numbers(o: ManifestOptions) -> None:
    _in_range("target_cpu", o.target_cpu, 1, 100, "percent of the CPU request")
    # The gateway runs as a non-root user, which may not bind ports below 1024.
    _in_range("port", o.port, 1024, 65535, "port the gateway can bind as a non-root user")
    _in_range("service_port", o.service_port, 1, 65535, "port")
    _in_range("drain_delay_seconds", o.drain_delay_seconds, 0, 60, "number of seconds")
    _in_range("run_as_user", o.run_as_user, 1, 2**31 - 1, "non-root user id")
    _in_range("grace_seconds", o.grace_seconds, MIN_GRACE_SECONDS, 3600, "number of seconds")
    if o.grace_seconds < o.drain_delay_seconds + MIN_GRACE_SECONDS:
        raise _refuse(
            "grace_seconds",
            f"{o.grace_seconds} leaves less than {MIN_GRACE_SECONDS} s to drain requests after "
            f"the {o.drain_delay_seconds} s drain delay",
        )


def _in_range(field: str, value: Any, low: int, high: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _refuse(field, f"{value!r} is not a {what} between {low} and {high}")


def _check_resources(o: ManifestOptions) -> None:
    for kind in ("cpu", "memory"):
        request = _quantity(f"{kind}_request", getattr(o, f"{kind}_request"), kind)
        limit_text = getattr(o, f"{kind}_limit")
        if limit_text is None:
            continue
        limit = _quantity(f"{kind}_limit", limit_text, kind)
        if request > limit:
            raise _refuse(
                f"{kind}_limit",
                f"{limit_text} is below {kind}_request {getattr(o, f'{kind}_request')}",
            )


def _quantity(field: str, text: Any, kind: str) -> Decimal:
    found = _QUANTITY.match(text) if isinstance(text, str) else None
    if found is None:
        raise _refuse(field, f"{text!r} is not a Kubernetes quantity such as 500m, 2 or 512Mi")
    if kind == "memory" and found.group(2) == "m":  # a classic slip: 512m is half a byte
        raise _refuse(field, f"{text} means {text[:-1]} thousandths of a byte; write Mi or M")
    try:
        value = Decimal(found.group(1)) * _SUFFIX[found.group(2)]
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise _refuse(field, f"{text!r} is not a number") from None
    if value <= 0:
        raise _refuse(field, f"{text} must be above zero")
    return value


def resource_name(endpoint: str) -> str:
    """The Kubernetes name for an endpoint: the endpoint name itself when it already is a
    DNS-1035 label of at most 45 characters, otherwise a lower-cased, dash-joined, shortened
    form plus six hex digits of the name's hash, so two endpoints never share a name."""
    base = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]+", "-", endpoint.lower())).strip("-")
    if not base:
        raise _refuse("endpoint", f"{endpoint!r} has no letter or digit to name objects after")
    if base == endpoint and len(base) <= MAX_BASE and _DNS1035.match(base):
        return base
    if not base[0].isalpha():
        base = f"mw-{base}"
    digest = hashlib.sha256(endpoint.encode()).hexdigest()[:_HASH_LEN]
    return f"{base[: MAX_BASE - _HASH_LEN - 1].rstrip('-')}-{digest}"


def label_value(text: str) -> str:
    """``text`` as a label value: other characters become '-', at most 63 characters
    (a shortened value ends in six hex digits of the full text's hash)."""
    value = re.sub(r"[^A-Za-z0-9_.-]", "-", text)
    if len(value) > 63:
        digest = hashlib.sha256(text.encode()).hexdigest()[:_HASH_LEN]
        value = f"{value[: 63 - _HASH_LEN - 1]}-{digest}"
    value = re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", value)
    return value if _LABEL_VALUE.match(value) else ""


def selector(endpoint: EndpointInfo) -> dict[str, str]:
    """The labels that pick the endpoint's pods (stable across versions)."""
    return {
        "app.kubernetes.io/name": APP,
        "app.kubernetes.io/instance": resource_name(endpoint.name),
    }


def labels(endpoint: EndpointInfo) -> dict[str, str]:
    return {
        **selector(endpoint),
        "app.kubernetes.io/component": "gateway",
        "app.kubernetes.io/part-of": "modelward",
        "modelward.io/endpoint": label_value(endpoint.name),
        "modelward.io/version": label_value(endpoint.ref),
    }


def exact_annotations(endpoint: EndpointInfo) -> dict[str, str]:
    """The exact names a label could only approximate."""
    return {
        "modelward.io/endpoint": endpoint.name,
        "modelward.io/version": endpoint.ref,
        "modelward.io/digest": endpoint.digest,
    }


def _metadata(endpoint: EndpointInfo, options: ManifestOptions) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": resource_name(endpoint.name)}
    if options.namespace:
        meta["namespace"] = options.namespace
    meta["labels"] = labels(endpoint)
    meta["annotations"] = exact_annotations(endpoint)
    return meta


def scrape_annotations(options: ManifestOptions) -> dict[str, str]:
    return {
        "prometheus.io/scrape": "true",
        "prometheus.io/port": str(options.port),
        "prometheus.io/path": METRICS_PATH,
    }


def _probe(path: str, port: int, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def _resources(options: ManifestOptions) -> dict[str, Any]:
    out: dict[str, Any] = {
        "requests": {"cpu": options.cpu_request, "memory": options.memory_request}
    }
    limits = {"cpu": options.cpu_limit, "memory": options.memory_limit}
    if any(v is not None for v in limits.values()):
        out["limits"] = {k: v for k, v in limits.items() if v is not None}
    return out


def _env(options: ManifestOptions) -> list[dict[str, Any]]:
    def secret_key(key: str) -> dict[str, Any]:
        # Not optional: a Secret without the key stops the pod at once with a clear event.
        return {"name": key, "valueFrom": {"secretKeyRef": {"name": options.secret, "key": key}}}

    return [
        secret_key("MODELWARD_URI"),
        secret_key("MODELWARD_ARTIFACTS"),
        {"name": "MODELWARD_HOME", "value": f"{SCRATCH}/modelward"},
        {"name": "HOME", "value": SCRATCH},
    ]


def container(
    endpoint: EndpointInfo, options: ManifestOptions, *, name: str = CONTAINER
) -> dict[str, Any]:
    """The gateway container: ``modelward serve`` for this one endpoint, its store settings
    from the Secret (every other key of the Secret, such as storage credentials, becomes an
    environment variable too), probes on the health routes, no root, read-only root fs."""
    out: dict[str, Any] = {
        "name": name,
        "image": options.image_ref,
        "imagePullPolicy": "IfNotPresent",
        "command": ["modelward"],
        "args": serve_args(endpoint, options),
        "ports": [{"name": "http1", "containerPort": options.port, "protocol": "TCP"}],
        "env": _env(options),
        "envFrom": [{"secretRef": {"name": options.secret}}],
        "resources": _resources(options),
        "startupProbe": _probe(LIVE_PATH, options.port, period=2, failures=30),
        "livenessProbe": _probe(LIVE_PATH, options.port, period=10, failures=3),
        "readinessProbe": _probe(READY_PATH, options.port, period=5, failures=2),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": SCRATCH}],
    }
    if options.drain_delay_seconds:
        # Load balancers keep sending for a moment after a pod starts terminating: keep
        # accepting during that moment, then SIGTERM makes the gateway drain.
        pause = f"import time; time.sleep({options.drain_delay_seconds})"
        out["lifecycle"] = {"preStop": {"exec": {"command": ["python3", "-c", pause]}}}
    return out


def serve_args(endpoint: EndpointInfo, options: ManifestOptions) -> list[str]:
    """The ``modelward`` arguments the container runs."""
    return ["serve", "--host", "0.0.0.0", "--port", str(options.port), "--endpoint", endpoint.name]


def pod_spec(
    endpoint: EndpointInfo, options: ManifestOptions, main: dict[str, Any]
) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if options.service_account:
        spec["serviceAccountName"] = options.service_account
    spec["automountServiceAccountToken"] = False  # the gateway never calls the Kubernetes API
    spec["terminationGracePeriodSeconds"] = options.grace_seconds
    spec["securityContext"] = {
        "runAsNonRoot": True,
        "runAsUser": options.run_as_user,
        "runAsGroup": options.run_as_user,
        "fsGroup": options.run_as_user,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    spec["containers"] = [main]
    spec["volumes"] = [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
    spec["topologySpreadConstraints"] = [
        {
            "maxSkew": 1,
            "topologyKey": "kubernetes.io/hostname",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector(endpoint)},
        }
    ]
    return spec


def deployment(endpoint: EndpointInfo, options: ManifestOptions) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if not options.autoscaled:  # with an autoscaler, re-applying must not reset the count
        spec["replicas"] = options.replicas
    spec["revisionHistoryLimit"] = 5
    spec["selector"] = {"matchLabels": selector(endpoint)}
    spec["strategy"] = ROLLING
    spec["template"] = {
        "metadata": {
            "labels": labels(endpoint),
            "annotations": {**scrape_annotations(options), **exact_annotations(endpoint)},
        },
        "spec": pod_spec(endpoint, options, container(endpoint, options)),
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(endpoint, options),
        "spec": spec,
    }


def service(endpoint: EndpointInfo, options: ManifestOptions) -> dict[str, Any]:
    port = {"name": "http", "port": options.service_port, "targetPort": "http1", "protocol": "TCP"}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(endpoint, options),
        "spec": {"type": "ClusterIP", "selector": selector(endpoint), "ports": [port]},
    }


def autoscaler(endpoint: EndpointInfo, options: ManifestOptions) -> dict[str, Any]:
    target = {"type": "Utilization", "averageUtilization": options.target_cpu}
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(endpoint, options),
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": resource_name(endpoint.name),
            },
            "minReplicas": options.lowest,
            "maxReplicas": options.highest,
            "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": target}}],
        },
    }


def disruption_budget(endpoint: EndpointInfo, options: ManifestOptions) -> dict[str, Any]:
    # maxUnavailable rather than minAvailable: a node drain never blocks on a single pod.
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(endpoint, options),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(endpoint)}},
    }


def kubernetes_manifests(endpoint: EndpointInfo, options: ManifestOptions) -> list[dict[str, Any]]:
    """Deployment, Service, HorizontalPodAutoscaler (unless ``replicas`` fixes the count) and
    PodDisruptionBudget (unless ``disruption_budget`` is off), in the order to apply them."""
    objects = [deployment(endpoint, options), service(endpoint, options)]
    if options.autoscaled:
        objects.append(autoscaler(endpoint, options))
    if options.disruption_budget:
        objects.append(disruption_budget(endpoint, options))
    return objects


def kserve_manifest(endpoint: EndpointInfo, options: ManifestOptions) -> dict[str, Any]:
    """A ``serving.kserve.io/v1beta1`` InferenceService whose predictor is the gateway for
    this endpoint, speaking Open Inference Protocol v2 (the ``PROTOCOL`` variable is how a
    custom predictor declares it). It runs as a plain Deployment (KServe's RawDeployment
    mode) scaled on CPU by a HorizontalPodAutoscaler."""
    main = container(endpoint, options, name=KSERVE_CONTAINER)
    main["env"] = [{"name": "PROTOCOL", "value": "v2"}, *main["env"]]
    predictor: dict[str, Any] = {
        "minReplicas": options.lowest,
        "maxReplicas": options.highest,
        "scaleMetric": "cpu",
        "scaleTarget": options.target_cpu,
        "labels": labels(endpoint),
        "annotations": scrape_annotations(options),
        "deploymentStrategy": ROLLING,
        **pod_spec(endpoint, options, main),
    }
    meta = _metadata(endpoint, options)
    meta["annotations"] = {
        "serving.kserve.io/deploymentMode": "RawDeployment",
        "serving.kserve.io/autoscalerClass": "hpa",
        **meta["annotations"],
    }
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": meta,
        "spec": {"predictor": predictor},
    }


def to_yaml(objects: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> str:
    """The objects as one multi-document YAML text, keys in the order they were built (so
    the same input always gives the same bytes), after a comment naming the endpoint, the
    version and its digest."""
    items = [objects] if isinstance(objects, Mapping) else list(objects)
    docs = [
        yaml.safe_dump(dict(o), sort_keys=False, default_flow_style=False, width=100) for o in items
    ]
    return _header(items) + "---\n" + "---\n".join(docs)


def _header(items: Sequence[Mapping[str, Any]]) -> str:
    found = next(
        (o["metadata"]["annotations"] for o in items if "modelward.io/endpoint" in _notes(o)),
        None,
    )
    lines = [f"# modelward {__version__}: online gateway manifests"]
    if found:
        lines.append(f"# endpoint: {found['modelward.io/endpoint']}")
        lines.append(f"# version:  {found['modelward.io/version']}")
        lines.append(f"# digest:   {found['modelward.io/digest']}")
    lines.append(
        "# The gateway follows the endpoint's traffic plan: new versions need no re-apply."
    )
    return "".join(_one_line(line) + "\n" for line in lines)


def _notes(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    return (meta.get("annotations") or {}) if isinstance(meta, Mapping) else {}


def _one_line(text: str) -> str:
    return re.sub(r"[\r\n]+", " ", text)
