"""``modelward deploy manifest``: Kubernetes or KServe objects that run the gateway for one
endpoint, as YAML to apply with ``kubectl apply -f``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from modelward.cli.common import console, get_client
from modelward.errors import Conflict, InvalidInput

# Option names of ManifestOptions → the flags a user types, for error messages.
FLAGS = {
    "image": "--image",
    "namespace": "--namespace",
    "replicas": "--replicas",
    "min_replicas": "--min",
    "max_replicas": "--max",
    "target_cpu": "--target-cpu",
    "cpu_request": "--cpu-request",
    "cpu_limit": "--cpu-limit",
    "memory_request": "--memory-request",
    "memory_limit": "--memory-limit",
    "port": "--port",
    "secret": "--secret",
    "service_account": "--service-account",
    "grace_seconds": "--grace-seconds",
}


def _options(given: dict[str, Any]) -> Any:
    """ManifestOptions from the flags given (absent ones keep their defaults); a limit of
    ``none`` drops that limit. A bad value is a usage error naming its flag."""
    from modelward.serving.manifest import ManifestOptions

    fields = {k: v for k, v in given.items() if v is not None}
    for key in ("cpu_limit", "memory_limit"):
        if str(fields.get(key, "")).strip().lower() == "none":
            fields[key] = None
    try:
        return ManifestOptions(**fields)
    except InvalidInput as exc:
        raise _bad_parameter(exc) from None


def _bad_parameter(exc: InvalidInput) -> typer.BadParameter:
    field = exc.field or ""
    reason = exc.message.removeprefix(f"{field}: ")
    for name, flag in FLAGS.items():
        reason = re.sub(rf"\b{name}\b", flag, reason)
    return typer.BadParameter(reason, param_hint=FLAGS.get(field, field))


def _endpoint(name: str) -> Any:
    from modelward.serving.manifest import EndpointInfo

    out = get_client().get_endpoint(name)
    if out.status != "active":
        raise Conflict(f"endpoint {name} is {out.status}: there is nothing to serve", field="name")
    if out.mode != "online":
        raise Conflict(
            f"endpoint {name} is in {out.mode} mode, which the gateway does not serve; "
            f"switch it with: modelward deploy update {name} --mode online",
            field="name",
        )
    return EndpointInfo(name=out.name, ref=out.ref, digest=out.digest)


def manifest(
    name: str = typer.Argument(..., help="The endpoint to serve."),
    kubernetes: bool = typer.Option(
        False, "--kubernetes", help="Deployment, Service, HorizontalPodAutoscaler and PDB."
    ),
    kserve: bool = typer.Option(
        False, "--kserve", help="A KServe InferenceService (RawDeployment mode, protocol v2)."
    ),
    image: str = typer.Option(None, "--image", help="Image (default modelward:VERSION)."),
    namespace: str = typer.Option(None, "--namespace", help="Namespace of every object."),
    replicas: int = typer.Option(None, "--replicas", help="A fixed number of pods, no autoscaler."),
    min_replicas: int = typer.Option(None, "--min", help="Autoscaler minimum (default 2)."),
    max_replicas: int = typer.Option(None, "--max", help="Autoscaler maximum (default 10)."),
    target_cpu: int = typer.Option(
        None, "--target-cpu", help="CPU percent to scale at (default 70)."
    ),
    cpu_request: str = typer.Option(None, "--cpu-request", help="CPU request (default 500m)."),
    cpu_limit: str = typer.Option(None, "--cpu-limit", help="'none' for no limit (default 2)."),
    memory_request: str = typer.Option(
        None, "--memory-request", help="Memory request (default 512Mi)."
    ),
    memory_limit: str = typer.Option(
        None, "--memory-limit", help="'none' for no limit (default 2Gi)."
    ),
    port: int = typer.Option(None, "--port", help="Port the gateway listens on (default 8080)."),
    secret: str = typer.Option(
        None, "--secret", help="Secret holding the store settings (default modelward)."
    ),
    service_account: str = typer.Option(None, "--service-account", help="Pods' service account."),
    grace_seconds: int = typer.Option(
        None, "--grace-seconds", help="Seconds to drain on stop (default 45)."
    ),
    pdb: bool = typer.Option(True, "--pdb/--no-pdb", help="Add a PodDisruptionBudget."),
    out: Path = typer.Option(None, "--out", help="Write the YAML to FILE instead of stdout."),
) -> None:
    """Print the objects that run the online gateway for endpoint NAME in a cluster; its pods
    read MODELWARD_URI and MODELWARD_ARTIFACTS from a Secret (see docs/kubernetes.md)."""
    from modelward.serving.manifest import kserve_manifest, kubernetes_manifests, to_yaml

    if kubernetes == kserve:
        raise typer.BadParameter(
            "give exactly one of --kubernetes or --kserve", param_hint="--kubernetes/--kserve"
        )
    options = _options(
        {
            "image": image,
            "namespace": namespace,
            "replicas": replicas,
            "min_replicas": min_replicas,
            "max_replicas": max_replicas,
            "target_cpu": target_cpu,
            "cpu_request": cpu_request,
            "cpu_limit": cpu_limit,
            "memory_request": memory_request,
            "memory_limit": memory_limit,
            "port": port,
            "secret": secret,
            "service_account": service_account,
            "grace_seconds": grace_seconds,
            "disruption_budget": pdb,
        }
    )
    endpoint = _endpoint(name)
    objects = (
        kubernetes_manifests(endpoint, options)
        if kubernetes
        else [kserve_manifest(endpoint, options)]
    )
    text = to_yaml(objects)
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    kinds = ", ".join(o["kind"] for o in objects)
    console.print(f"wrote {kinds} for endpoint {name} to {out}", highlight=False)


def add_manifest_command(sub: typer.Typer) -> None:
    """Register ``manifest`` on the ``deploy`` sub-app."""
    sub.command("manifest")(manifest)
