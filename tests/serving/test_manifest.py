"""Kubernetes and KServe manifests for the gateway: what a cluster is asked to run, and the
``modelward deploy manifest`` command on a real store."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from subprocess import PIPE
from typing import Any

import pytest
import yaml

from modelward import __version__
from modelward.errors import InvalidInput
from modelward.serving.manifest import (
    EndpointInfo,
    ManifestOptions,
    kserve_manifest,
    kubernetes_manifests,
    resource_name,
    to_yaml,
)

CLI = [sys.executable, "-c", "from modelward.cli.main import main; main()"]
DIGEST = "sha256:" + "0123456789abcdef" * 4
ENDPOINT = EndpointInfo("credit-api", "scorer/1", DIGEST)
DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
API_VERSIONS = {
    "Deployment": "apps/v1",
    "Service": "v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "PodDisruptionBudget": "policy/v1",
}


def by_kind(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in docs}


def gateway_container(pod: dict[str, Any]) -> dict[str, Any]:
    (container,) = pod["containers"]
    return container


def test_yaml_parses_into_the_four_objects_with_a_header() -> None:
    objects = kubernetes_manifests(ENDPOINT, ManifestOptions(namespace="ml"))
    text = to_yaml(objects)

    docs = list(yaml.safe_load_all(text))
    assert docs == objects
    assert [(d["apiVersion"], d["kind"]) for d in docs] == list(
        (v, k) for k, v in API_VERSIONS.items()
    )
    assert {d["metadata"]["name"] for d in docs} == {"credit-api"}
    assert {d["metadata"]["namespace"] for d in docs} == {"ml"}
    header = text.split("---", 1)[0]
    assert all(line.startswith("#") for line in header.strip().splitlines())
    assert "credit-api" in header and "scorer/1" in header and DIGEST in header
    assert to_yaml(kubernetes_manifests(ENDPOINT, ManifestOptions(namespace="ml"))) == text


def test_the_container_serves_this_endpoint_from_the_secret() -> None:
    deployment = by_kind(kubernetes_manifests(ENDPOINT, ManifestOptions(secret="store-conn")))[
        "Deployment"
    ]
    pod = deployment["spec"]["template"]["spec"]
    c = gateway_container(pod)
    assert [*c["command"], *c["args"]] == [
        "modelward", "serve", "--host", "0.0.0.0", "--port", "8080", "--endpoint", "credit-api",
    ]  # fmt: skip
    assert c["image"] == f"modelward:{__version__}"
    assert c["ports"][0]["containerPort"] == 8080
    from_secret = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in c["env"] if "valueFrom" in e}
    assert from_secret == {
        "MODELWARD_URI": {"name": "store-conn", "key": "MODELWARD_URI"},
        "MODELWARD_ARTIFACTS": {"name": "store-conn", "key": "MODELWARD_ARTIFACTS"},
    }
    assert c["envFrom"] == [{"secretRef": {"name": "store-conn"}}]

    assert c["livenessProbe"]["httpGet"] == {"path": "/v2/health/live", "port": 8080}
    assert c["readinessProbe"]["httpGet"] == {"path": "/v2/health/ready", "port": 8080}
    assert c["startupProbe"]["httpGet"]["path"] == "/v2/health/live"
    assert pod["terminationGracePeriodSeconds"] >= 30


def test_pods_run_unprivileged_on_a_read_only_root_and_are_scraped() -> None:
    deployment = by_kind(kubernetes_manifests(ENDPOINT, ManifestOptions(port=9000)))["Deployment"]
    template = deployment["spec"]["template"]
    pod = template["spec"]
    c = gateway_container(pod)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    assert pod["automountServiceAccountToken"] is False
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    # The only writable place is a scratch volume, where MODELWARD_HOME points.
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    assert mounts == {"/tmp": "tmp"} and pod["volumes"][0]["emptyDir"]
    assert {"name": "MODELWARD_HOME", "value": "/tmp/modelward"} in c["env"]
    assert template["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert template["metadata"]["annotations"]["prometheus.io/port"] == "9000"
    assert template["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"
    assert c["livenessProbe"]["httpGet"]["port"] == 9000


def test_selectors_tie_the_objects_to_the_pods() -> None:
    docs = by_kind(kubernetes_manifests(ENDPOINT, ManifestOptions(min_replicas=3, max_replicas=7)))
    deployment = docs["Deployment"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    chosen = deployment["spec"]["selector"]["matchLabels"]
    assert chosen.items() <= pod_labels.items()
    assert "modelward.io/version" not in chosen  # a selector is immutable; versions change
    assert pod_labels["app.kubernetes.io/name"] == "modelward-gateway"
    assert pod_labels["app.kubernetes.io/instance"] == "credit-api"
    assert pod_labels["modelward.io/endpoint"] == "credit-api"
    assert pod_labels["modelward.io/version"] == "scorer-1"
    assert docs["Service"]["spec"]["selector"] == chosen
    assert docs["Service"]["spec"]["ports"][0]["targetPort"] == "http1"
    assert docs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == chosen
    hpa = docs["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "credit-api",
    }
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 7)
    assert hpa["metrics"][0]["resource"]["target"]["averageUtilization"] == 70
    assert "replicas" not in deployment["spec"]  # re-applying must not fight the autoscaler


def test_a_fixed_size_has_no_autoscaler_and_the_budget_is_optional() -> None:
    docs = kubernetes_manifests(ENDPOINT, ManifestOptions(replicas=3, disruption_budget=False))
    assert [d["kind"] for d in docs] == ["Deployment", "Service"]
    assert docs[0]["spec"]["replicas"] == 3


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"min_replicas": 5, "max_replicas": 2}, "min_replicas"),
        ({"replicas": 2, "max_replicas": 4}, "replicas"),
        ({"replicas": 0}, "replicas"),
        ({"namespace": "Prod"}, "namespace"),
        ({"secret": "my secret"}, "secret"),
        ({"service_account": "-sa"}, "service_account"),
        ({"image": ""}, "image"),
        ({"port": 80}, "port"),
        ({"target_cpu": 0}, "target_cpu"),
        ({"memory_request": "512m"}, "memory_request"),
        ({"cpu_request": "lots"}, "cpu_request"),
        ({"cpu_request": "3", "cpu_limit": "2"}, "cpu_limit"),
        ({"grace_seconds": 20}, "grace_seconds"),
    ],
)
def test_bad_options_are_refused_naming_the_option(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        ManifestOptions(**fields)
    assert caught.value.field == field
    assert caught.value.message.startswith(f"{field}: ")
    assert "\n" not in caught.value.message


def test_only_one_bound_keeps_the_other_default_consistent() -> None:
    assert (
        by_kind(kubernetes_manifests(ENDPOINT, ManifestOptions(min_replicas=12)))[
            "HorizontalPodAutoscaler"
        ]["spec"]["maxReplicas"]
        == 12
    )
    assert (
        by_kind(kubernetes_manifests(ENDPOINT, ManifestOptions(max_replicas=1)))[
            "HorizontalPodAutoscaler"
        ]["spec"]["minReplicas"]
        == 1
    )


@pytest.mark.parametrize("name", ["Credit_API.v2", "9-lives", "a" * 128, "x_", "Credit-API"])
def test_names_that_need_it_are_sanitised_to_dns_labels(name: str) -> None:
    endpoint = EndpointInfo(name, f"{'m' * 120}/12", DIGEST)
    docs = kubernetes_manifests(endpoint, ManifestOptions())
    base = docs[0]["metadata"]["name"]
    assert DNS1035.match(base) and len(f"{base}-predictor") <= 63
    assert {d["metadata"]["name"] for d in docs} == {base}
    for value in docs[0]["spec"]["template"]["metadata"]["labels"].values():
        assert len(value) <= 63 and LABEL_VALUE.match(value), value
    # The pods still serve the endpoint by its real name, and keep it exactly.
    assert gateway_container(docs[0]["spec"]["template"]["spec"])["args"][-1] == name
    assert docs[0]["metadata"]["annotations"]["modelward.io/endpoint"] == name
    isvc = kserve_manifest(endpoint, ManifestOptions())
    assert isvc["metadata"]["name"] == base


def test_sanitised_names_of_distinct_endpoints_stay_distinct() -> None:
    names = ["credit-api", "Credit-API", "credit_api", "credit.api", "a" * 60, "a" * 61]
    assert len({resource_name(n) for n in names}) == len(names)
    assert resource_name("credit-api") == "credit-api"


def test_kserve_inference_service_runs_the_gateway_on_protocol_v2() -> None:
    options = ManifestOptions(min_replicas=2, max_replicas=6, target_cpu=60, namespace="ml")
    isvc = kserve_manifest(ENDPOINT, options)
    assert (isvc["apiVersion"], isvc["kind"]) == ("serving.kserve.io/v1beta1", "InferenceService")
    assert isvc["metadata"]["namespace"] == "ml"
    assert isvc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"
    predictor = isvc["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 6)
    assert (predictor["scaleMetric"], predictor["scaleTarget"]) == ("cpu", 60)
    c = gateway_container(predictor)
    assert c["name"] == "kserve-container"
    assert {"name": "PROTOCOL", "value": "v2"} in c["env"]
    assert c["args"][0] == "serve" and c["args"][-2:] == ["--endpoint", "credit-api"]
    assert c["readinessProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert predictor["labels"]["modelward.io/endpoint"] == "credit-api"
    assert predictor["annotations"]["prometheus.io/scrape"] == "true"
    assert predictor["terminationGracePeriodSeconds"] >= 30
    (doc,) = yaml.safe_load_all(to_yaml(isvc))
    assert doc == isvc


# --- the command, on a real embedded store --------------------------------------------------


def run_all(env: dict[str, str], *commands: tuple[str, ...]) -> list[subprocess.CompletedProcess]:
    """Run independent commands at once (each starts a Python process)."""
    full = dict(os.environ, COLUMNS="200", NO_COLOR="1", **env)
    started = [
        (args, subprocess.Popen([*CLI, *args], env=full, stdout=PIPE, stderr=PIPE, text=True))
        for args in commands
    ]
    done = []
    for args, proc in started:
        out, err = proc.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(list(args), proc.returncode, out, err))
    return done


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_cli_prints_and_writes_manifests_for_a_stored_endpoint(
    sqlite_served: Any, sqlite_url: str, tmp_path: Path
) -> None:
    client = sqlite_served.client
    client.create_endpoint("Fraud_Check", sqlite_served.better, mode="online")
    client.create_endpoint("nightly", sqlite_served.good)  # batch: the gateway ignores it
    env = {"MODELWARD_URI": sqlite_url, "MODELWARD_ARTIFACTS": str(tmp_path / "artifacts")}
    out_file = tmp_path / "isvc.yaml"
    k8s, kserve, renamed, unknown, batch, min_max, no_mode, both = run_all(
        env,
        ("deploy", "manifest", "credit-api", "--kubernetes", "--namespace", "ml", "--min", "3"),
        ("deploy", "manifest", "credit-api", "--kserve", "--out", str(out_file)),
        ("deploy", "manifest", "Fraud_Check", "--kubernetes", "--replicas", "2", "--no-pdb"),
        ("deploy", "manifest", "no-such-endpoint", "--kubernetes"),
        ("deploy", "manifest", "nightly", "--kubernetes"),
        ("deploy", "manifest", "credit-api", "--kubernetes", "--min", "5", "--max", "2"),
        ("deploy", "manifest", "credit-api"),
        ("deploy", "manifest", "credit-api", "--kubernetes", "--kserve"),
    )

    assert k8s.returncode == 0, k8s.stderr
    docs = by_kind(list(yaml.safe_load_all(k8s.stdout)))
    assert set(docs) == set(API_VERSIONS)
    stored = client.get_endpoint("credit-api")
    assert docs["Deployment"]["metadata"]["annotations"] == {
        "modelward.io/endpoint": "credit-api",
        "modelward.io/version": stored.ref,
        "modelward.io/digest": stored.digest,
    }
    assert docs["HorizontalPodAutoscaler"]["spec"]["minReplicas"] == 3
    assert f"# digest:   {stored.digest}" in k8s.stdout

    assert kserve.returncode == 0, kserve.stderr
    assert str(out_file) in kserve.stdout
    (isvc,) = yaml.safe_load_all(out_file.read_text())
    assert isvc["kind"] == "InferenceService"
    assert isvc["spec"]["predictor"]["containers"][0]["args"][-1] == "credit-api"

    assert renamed.returncode == 0, renamed.stderr
    kinds = [d["kind"] for d in yaml.safe_load_all(renamed.stdout)]
    assert kinds == ["Deployment", "Service"]
    deployment = next(yaml.safe_load_all(renamed.stdout))
    assert DNS1035.match(deployment["metadata"]["name"])
    assert deployment["spec"]["template"]["spec"]["containers"][0]["args"][-1] == "Fraud_Check"

    assert unknown.returncode == 1 and unknown.stdout == ""
    assert "no-such-endpoint" in one_line_error(unknown)
    assert batch.returncode == 1 and "--mode online" in one_line_error(batch)
    assert min_max.returncode == 2 and "--min" in one_line_error(min_max)
    assert no_mode.returncode == 2 and "--kubernetes" in one_line_error(no_mode)
    assert both.returncode == 2 and "exactly one" in one_line_error(both)
