"""API errors become the project's own errors, and the client's never escape.

The sweep at the end calls every public entry point of the Kubernetes
backend and the picker's inventory while the API refuses in each way it
can, and checks that only ``DhJupyterError``s come out, with no client
exception attached.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fixtures.kube import Kube

from dh_jupyter.cluster import errors, watch
from dh_jupyter.cluster.errors import Action, spec_field, translate
from dh_jupyter.cluster.inventory import Inventory
from dh_jupyter.errors import (
    ClusterError,
    ClusterUnavailableError,
    DhJupyterError,
    PermissionDeniedError,
    QuotaExceededError,
)
from dh_jupyter.runs.kubernetes import KubernetesBackend
from dh_jupyter.spec import RunSpec


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(errors, "BACKOFF", (0.01, 0.01, 0.01))
    monkeypatch.setattr(watch, "RECONNECT_BACKOFF", (0.0, 0.05))


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (
            "spec.template.spec.containers[0].resources.requests[cpu]",
            "resources.cpu.requests",
        ),
        (
            "spec.template.spec.containers[0].resources.limits[memory]",
            "resources.mem.limits",
        ),
        (
            "spec.template.spec.containers[0].resources.limits[nvidia.com/gpu]",
            "resources.gpu.limits",
        ),
        ("spec.template.spec.containers[0].resources.requests", "resources"),
        (
            "spec.template.spec.containers[0].volumeMounts[1].mountPath",
            "volumes[1].mount_path",
        ),
        (
            "spec.template.spec.volumes[0].persistentVolumeClaim.claimName",
            "volumes[0].spec.claim_name",
        ),
        (
            "spec.template.spec.volumes[2].secret.secretName",
            "volumes[2].spec.secret_name",
        ),
        ("spec.template.spec.tolerations[1].operator", "tolerations[1]"),
        ("spec.template.spec.nodeSelector", "node_selector"),
        ("spec.template.spec.affinity.nodeAffinity", "affinity"),
        ("spec.template.spec.containers[0].image", "image"),
        ("spec.template.spec.containers[0].env[3].name", "env"),
        ("spec.template.spec.containers[0].envFrom[0].secretRef.name", "secrets[0]"),
        ("spec.template.spec.serviceAccountName", "service_account"),
        ("spec.template.spec.imagePullSecrets[0].name", "image_pull_secrets[0]"),
        ("spec.template.spec.priorityClassName", "priority_class"),
        ("spec.activeDeadlineSeconds", "timeout"),
        ("spec.backoffLimit", "retries"),
        ("spec.ttlSecondsAfterFinished", "ttl"),
        ("metadata.labels[kueue.x-k8s.io/queue-name]", "queue"),
        ("spec.template.metadata.labels", "labels"),
        ("metadata.name", "name"),
        ("spec.template.spec.hostNetwork", ""),
    ],
)
def test_a_job_field_path_maps_back_to_the_run_spec_field(
    path: str, field: str
) -> None:
    assert spec_field(path) == field


def test_the_configmaps_data_is_the_cell() -> None:
    assert spec_field("data[cell.py]", "configmaps") == "cell"


class UnexpectedError(Exception):
    """An exception type the cluster layer has never heard of."""


def test_an_unknown_exception_becomes_a_cluster_error_without_its_text() -> None:
    error = translate(UnexpectedError("token=abc123"), Action("list", "pods", "team-a"))

    assert type(error) is ClusterError
    assert str(error) == (
        'The request to list pods in namespace "team-a" failed unexpectedly '
        "(UnexpectedError); try again, and report it if it persists."
    )


def test_a_body_that_is_not_a_status_is_not_shown() -> None:
    class RefusedError(Exception):
        status = 400
        body = "<html>proxy error: secret internals</html>"

    error = translate(RefusedError(), Action("get", "pods/log", "team-a", "p"))

    assert str(error) == (
        'The Kubernetes API refused to get pods/log in namespace "team-a" (HTTP 400).'
    )


def test_retries_stop_at_the_first_error_that_is_not_transient() -> None:
    attempts: list[int] = []

    class ForbiddenError(Exception):
        status = 403
        body = ""

    def request() -> None:
        attempts.append(1)
        raise ForbiddenError()

    with pytest.raises(DhJupyterError):
        errors.call(Action("list", "jobs", "ns", group="batch"), request)

    assert len(attempts) == 1


def test_a_transient_error_is_retried_until_the_backoff_is_used_up() -> None:
    attempts: list[int] = []

    def request() -> None:
        attempts.append(1)
        raise ConnectionRefusedError(111, "Connection refused")

    with pytest.raises(ClusterUnavailableError) as raised:
        errors.call(Action("list", "jobs", "ns", server="https://k8s:6443"), request)

    assert len(attempts) == 4
    assert str(raised.value) == (
        "Cannot reach the Kubernetes API at https://k8s:6443 (connection refused); "
        "check that the cluster is running and that KUBECONFIG or "
        "c.DhJupyter.kube_context points at it."
    )


GATEKEEPER = (
    'admission webhook "validation.gatekeeper.sh" denied the request: '
    '[require-team-label] you must provide labels: {"team"}'
)
FORBIDDEN = [
    pytest.param(
        'jobs.batch "dhrun-x-abcde" is forbidden: exceeded quota: object-counts, '
        "requested: count/jobs.batch=1, used: count/jobs.batch=10, limited: "
        "count/jobs.batch=10",
        QuotaExceededError,
        'You may not create jobs in namespace "dh-test" now: it would exceed the '
        'ResourceQuota "object-counts" (requested count/jobs.batch=1, used '
        "count/jobs.batch=10, limited count/jobs.batch=10); delete runs you no "
        "longer need, wait for others to finish, or ask an administrator for more "
        "quota.",
        id="a quota",
    ),
    pytest.param(
        GATEKEEPER,
        PermissionDeniedError,
        'The cluster refused to create jobs in namespace "dh-test" (HTTP 403): "'
        + GATEKEEPER
        + '"; change the run spec as it says, or ask an administrator about the '
        "cluster's policy.",
        id="an admission webhook",
    ),
    pytest.param(
        'jobs.batch is forbidden: User "system:serviceaccount:dh-test:default" '
        'cannot create resource "jobs" in API group "batch" in the namespace '
        '"dh-test"',
        PermissionDeniedError,
        'You may not create jobs in namespace "dh-test" (HTTP 403); ask an '
        'administrator for a Role with the rule {apiGroups: ["batch"], resources: '
        '["jobs"], verbs: ["create"]} bound to your account in that namespace.',
        id="RBAC",
    ),
    pytest.param(
        " ",
        PermissionDeniedError,
        'You may not create jobs in namespace "dh-test" (HTTP 403); ask an '
        'administrator for a Role with the rule {apiGroups: ["batch"], resources: '
        '["jobs"], verbs: ["create"]} bound to your account in that namespace.',
        id="no message",
    ),
]


@pytest.mark.parametrize(("message", "kind", "sentence"), FORBIDDEN)
def test_a_403_is_explained_in_the_words_of_whoever_refused(
    kube: Kube, message: str, kind: type[ClusterError], sentence: str
) -> None:
    kube.fail("create", "jobs", 403, message=message)

    with pytest.raises(PermissionDeniedError) as raised:
        KubernetesBackend(kube.config).submit(RunSpec(), "print(1)")

    assert type(raised.value) is kind
    assert str(raised.value) == sentence
    assert kube.items("configmaps") == []


def test_a_policy_s_long_message_is_quoted_shortened() -> None:
    class ForbiddenError(Exception):
        status = 403
        body = json.dumps(
            {"kind": "Status", "code": 403, "message": "denied: " + "x" * 1000}
        )

    error = translate(ForbiddenError(), Action("create", "jobs", "team-a"))

    quoted = str(error).split('"')[3]
    assert len(quoted) == errors.MESSAGE_LIMIT
    assert quoted.startswith("denied: xxx")
    assert quoted.endswith("…")


def entry_points(kube: Kube) -> dict[str, Callable[[], Any]]:
    """Every public call that talks to the cluster, as the surfaces make it."""
    backend = KubernetesBackend(kube.config)
    inventory = Inventory(kube.config)
    existing = backend.submit(RunSpec(), "print(1)")
    return {
        "submit": lambda: backend.submit(RunSpec(), "print(2)"),
        "runs": backend.runs,
        "get": lambda: backend.get(existing.name),
        "status": lambda: existing.status,
        "wait": lambda: existing.wait(timeout=5),
        "logs": lambda: list(existing.logs()),
        "cancel": existing.cancel,
        "claims": inventory.claims,
        "config_maps": inventory.config_maps,
        "secrets": inventory.secrets,
        "gpu_products": inventory.gpu_products,
        "nodes": inventory.nodes,
        "local_queues": inventory.local_queues,
    }


FAULTS = [
    pytest.param(401, id="401"),
    pytest.param(403, id="403"),
    pytest.param(404, id="404"),
    pytest.param(409, id="409"),
    pytest.param(422, id="422"),
    pytest.param(500, id="500"),
    pytest.param(503, id="503"),
]
VERBS = ("create", "list", "get", "patch", "delete", "watch", "log")
KINDS = ("jobs", "configmaps", "pods", "secrets", "persistentvolumeclaims", "nodes")


@pytest.mark.parametrize("status", FAULTS)
def test_no_client_exception_reaches_a_caller_whatever_the_api_answers(
    kube: Kube, status: int
) -> None:
    calls = entry_points(kube)
    for verb in VERBS:
        for kind in KINDS:
            kube.fail(verb, kind, status, times=1000)

    for name, call in calls.items():
        error = outcome(call)
        if error is None:
            continue
        assert isinstance(error, DhJupyterError), f"{name} let {error!r} out"
        assert type(error).__module__.startswith("dh_jupyter."), name
        assert error.__cause__ is None, name
        assert error.__suppress_context__ or error.__context__ is None, name


def outcome(call: Callable[[], Any]) -> BaseException | None:
    """What ``call`` raised, or None."""
    try:
        call()
    except Exception as error:  # every kind is what the sweep looks for
        return error
    return None


def test_no_client_exception_reaches_a_caller_when_nothing_answers(
    kube: Kube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kube.refused_kubeconfig(tmp_path / "refused")))
    backend = KubernetesBackend(kube.config)
    inventory = Inventory(kube.config)
    calls: dict[str, Callable[[], Any]] = {
        "submit": lambda: backend.submit(RunSpec(), "print(2)"),
        "runs": backend.runs,
        "get": lambda: backend.get("dhrun-x-abcde"),
        "claims": inventory.claims,
        "secrets": inventory.secrets,
        "gpu_products": inventory.gpu_products,
    }

    for name, call in calls.items():
        with pytest.raises(ClusterUnavailableError) as raised:
            call()
        assert raised.value.__cause__ is None, name
