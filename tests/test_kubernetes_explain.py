"""Every pending and failed case is explained in plain words, with its fix.

Each case submits a real Job through the real ``kubernetes`` client, lets
the emulator play what a cluster does for that problem (the scheduler's
messages, the kubelet's waiting reasons, the Job controller's conditions),
and checks the exact sentence the user sees.
"""

from __future__ import annotations

from typing import Any

import pytest
from fixtures.kube import Kube

from dh_jupyter.runs.kubernetes import KubernetesBackend, KubernetesRun
from dh_jupyter.runs.status import Phase, Status
from dh_jupyter.spec import RunSpec

NS = "dh-test"


def settle(run: KubernetesRun, reason: str, timeout: float = 15) -> Status:
    """The run's status once its reason is ``reason`` (or after ``timeout``)."""
    with run.tracker.following():
        run.tracker.wait_until(lambda _, status: status.reason == reason, timeout)
        return run.tracker.status


def submit(kube: Kube, spec: dict[str, Any]) -> KubernetesRun:
    return KubernetesBackend(kube.config).submit(RunSpec.from_dict(spec), "print(1)")


def volume(kind: str, spec: dict[str, str]) -> dict[str, Any]:
    """A run-spec volume called "data" of ``kind``."""
    return {
        "volume_type": kind,
        "name": "data",
        "mount_path": "/mnt/data",
        "spec": spec,
    }


CASES = [
    pytest.param(
        "insufficient-cpu",
        {"resources": {"cpu": {"requests": "64"}}},
        Phase.PENDING,
        "no node can take it: 2 of 5 nodes lack free cpu, 3 of 5 nodes do not "
        "match its node selector or affinity",
        "Ask for less cpu (resources.cpu.requests) or wait for running work to "
        "finish; check node_selector, gpu_type and affinity against the labels "
        "your nodes have.",
        id="insufficient cpu",
    ),
    pytest.param(
        "insufficient-memory",
        {"resources": {"mem": {"requests": "512Gi"}}},
        Phase.PENDING,
        "no node can take it: 3 of 3 nodes lack free memory",
        "Ask for less memory (resources.mem.requests) or wait for running work to "
        "finish.",
        id="insufficient memory",
    ),
    pytest.param(
        "insufficient-gpu",
        {"resources": {"gpu": {"limits": "8"}}},
        Phase.PENDING,
        "no node can take it: 4 of 4 nodes lack a free GPU (nvidia.com/gpu)",
        "Ask for fewer GPUs (resources.gpu), pick another gpu_type, or wait until "
        "one is free.",
        id="insufficient gpu",
    ),
    pytest.param(
        "untolerated-taint",
        {"resources": {"gpu": {"limits": "1"}}},
        Phase.PENDING,
        "no node can take it: 1 of 3 nodes has the taint "
        "node-role.kubernetes.io/control-plane it does not tolerate, 2 of 3 nodes "
        "have the taint nvidia.com/gpu=present it does not tolerate",
        'To use the nvidia.com/gpu=present nodes, add the toleration {"key": '
        '"nvidia.com/gpu", "operator": "Equal", "value": "present"} to tolerations.',
        id="untolerated taint",
    ),
    pytest.param(
        "no-matching-node",
        {"node_selector": {"disktype": "nvme"}},
        Phase.PENDING,
        "no node can take it: 3 of 3 nodes do not match its node selector or affinity",
        "Check node_selector, gpu_type and affinity against the labels your nodes "
        "have.",
        id="selector matches no node",
    ),
    pytest.param(
        "unbound-claim",
        {"volumes": [volume("persistent_volume_claim", {"claim_name": "datasets"})]},
        Phase.PENDING,
        'the PersistentVolumeClaim "datasets" is not bound to a volume yet',
        "It binds once a volume is provisioned for it; if it stays unbound, ask an "
        "administrator about its storage class, or use another claim.",
        id="unbound claim",
    ),
    pytest.param(
        "missing-claim",
        {"volumes": [volume("persistent_volume_claim", {"claim_name": "datasets"})]},
        Phase.PENDING,
        f'the PersistentVolumeClaim "datasets" does not exist in namespace "{NS}"',
        "Create it, or fix volumes[0].spec.claim_name; the picker lists the claims "
        "you can use.",
        id="missing claim",
    ),
    pytest.param(
        "missing-configmap",
        {"volumes": [volume("config_map", {"name": "settings"})]},
        Phase.PENDING,
        f'the ConfigMap "settings" does not exist in namespace "{NS}"',
        "Create it, or fix volumes[0].spec.name.",
        id="missing configmap (FailedMount)",
    ),
    pytest.param(
        "missing-secret-volume",
        {"volumes": [volume("secret", {"secret_name": "tls-certs"})]},
        Phase.PENDING,
        f'the Secret "tls-certs" does not exist in namespace "{NS}"',
        "Create it, or fix volumes[0].spec.secret_name.",
        id="missing secret volume (FailedMount)",
    ),
    pytest.param(
        "missing-secret-env",
        {"secrets": ["hf-token"]},
        Phase.PENDING,
        f'the Secret "hf-token" does not exist in namespace "{NS}"',
        'Create it, or remove "hf-token" from secrets.',
        id="missing secret (CreateContainerConfigError)",
    ),
    pytest.param(
        "image-pull-error",
        {"image": "pyhton:3.11"},
        Phase.PENDING,
        'the image "pyhton:3.11" cannot be pulled: it does not exist',
        "Check image (name and tag); for a private registry, add its pull secret to "
        "image_pull_secrets.",
        id="ErrImagePull",
    ),
    pytest.param(
        "image-pull-backoff",
        {"image": "pyhton:3.11"},
        Phase.PENDING,
        'the image "pyhton:3.11" cannot be pulled; retrying',
        "Check image (name and tag); for a private registry, add its pull secret to "
        "image_pull_secrets.",
        id="ImagePullBackOff",
    ),
    pytest.param(
        "pulling",
        {"image": "python:3.12-slim"},
        Phase.PULLING,
        "python:3.12-slim",
        "",
        id="pulling the image",
    ),
    pytest.param(
        "quota-exceeded",
        {"resources": {"cpu": {"limits": "4"}}},
        Phase.PENDING,
        "the namespace's quota does not allow its pod: exceeded quota: compute, "
        "requested: limits.cpu=4, used: limits.cpu=8, limited: limits.cpu=10",
        "Ask for less, wait for other runs to finish, or ask an administrator for "
        "more quota.",
        id="resource quota exceeded",
    ),
    pytest.param(
        "oom-killed",
        {"resources": {"mem": {"requests": "1Gi", "limits": "2Gi"}}},
        Phase.FAILED,
        "the cell ran out of memory and was killed (its limit is 2Gi)",
        'Ask for more memory: set resources.mem.limits to "4Gi" or more.',
        id="OOMKilled",
    ),
    pytest.param(
        "exit-code",
        {},
        Phase.FAILED,
        "the cell exited with code 3",
        "The end of its logs shows the error.",
        id="non-zero exit code",
    ),
    pytest.param(
        "retries-exhausted",
        {"retries": 2},
        Phase.FAILED,
        "the cell exited with code 1 on attempt 3, its last",
        "The end of its logs shows the error.",
        id="BackoffLimitExceeded after retries",
    ),
    pytest.param(
        "rejected-attempts",
        {"retries": 2},
        Phase.FAILED,
        "it failed 3 times, more than its 2 retries allow",
        "The logs of the last attempt show why.",
        id="BackoffLimitExceeded with no exit code to tell",
    ),
    pytest.param(
        "deadline-exceeded",
        {"timeout": 600},
        Phase.FAILED,
        "it ran longer than its timeout of 10 min",
        "Raise timeout, or make the cell finish sooner.",
        id="DeadlineExceeded",
    ),
    pytest.param(
        "kueue-pending",
        {"queue": "team-a", "resources": {"gpu": {"limits": "1"}}},
        Phase.QUEUED,
        'waiting in Kueue queue "team-a": couldn\'t assign flavors to pod set main: '
        "insufficient unused quota for nvidia.com/gpu in flavor default-flavor, 1 "
        "more needed",
        "It starts when the queue admits it; ask for less, or use another queue "
        "(queue).",
        id="waiting in a Kueue queue",
    ),
]


@pytest.mark.parametrize(("scenario", "spec", "phase", "reason", "hint"), CASES)
def test_what_the_cluster_does_is_explained_with_the_fix(
    kube: Kube,
    scenario: str,
    spec: dict[str, Any],
    phase: Phase,
    reason: str,
    hint: str,
) -> None:
    if scenario.startswith("kueue"):
        kube.install_kueue()
    run = submit(kube, spec)

    kube.scenario(scenario, run.name)
    status = settle(run, reason)

    assert (status.phase, status.reason, status.hint) == (phase, reason, hint)
    assert kube.created("jobs", run.name) == 1


def test_a_run_whose_job_is_deleted_by_someone_else_ends_cancelled(kube: Kube) -> None:
    run = submit(kube, {})
    assert run.status.phase is Phase.QUEUED

    kube.delete("jobs", run.name)
    status = run.wait(timeout=15)

    assert (status.phase, status.reason, status.hint) == (
        Phase.CANCELLED,
        "its Job was deleted before it finished",
        "Someone or something else deleted it; run the cell again.",
    )


def test_the_status_reads_as_one_line_while_waiting(kube: Kube) -> None:
    run = submit(kube, {"resources": {"mem": {"requests": "512Gi"}}})

    kube.scenario("insufficient-memory", run.name)
    status = settle(run, "no node can take it: 3 of 3 nodes lack free memory")

    assert status.describe() == (
        "waiting: no node can take it: 3 of 3 nodes lack free memory. Ask for less "
        "memory (resources.mem.requests) or wait for running work to finish."
    )
