"""Submitting a cell: the objects a run makes, and every way the API can refuse.

The real ``kubernetes`` client talks HTTP to the emulator. Each refusal is
checked for the exact sentence the user reads, for leaving nothing behind,
and for never creating anything twice.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from fixtures.kube import Kube

from dh_jupyter.cluster import errors
from dh_jupyter.cluster.client import MARKER_ANNOTATION
from dh_jupyter.cluster.errors import RejectedSpecError
from dh_jupyter.errors import (
    CellTooLargeError,
    ClusterError,
    ClusterUnavailableError,
    ConflictError,
    CredentialsError,
    DhJupyterError,
    NotFoundError,
    PermissionDeniedError,
)
from dh_jupyter.runs.kubernetes import KubernetesBackend, KubernetesRun
from dh_jupyter.spec import RunSpec


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries keep their number but not their waiting, to keep tests quick."""
    monkeypatch.setattr(errors, "BACKOFF", (0.01, 0.01, 0.01))


def submit(
    kube: Kube, spec: dict[str, Any] | None = None, **options: Any
) -> KubernetesRun:
    backend = KubernetesBackend(kube.config)
    return backend.submit(RunSpec.from_dict(spec or {}), "print('hi')", **options)


def own_error(error: BaseException) -> None:
    """The error is the project's own, with no client exception attached."""
    assert isinstance(error, DhJupyterError)
    assert type(error).__module__.startswith("dh_jupyter.")
    assert error.__cause__ is None
    assert error.__suppress_context__ or error.__context__ is None


def test_a_submission_makes_the_configmap_then_the_job_then_owns_the_configmap(
    kube: Kube,
) -> None:
    run = submit(kube)

    job = kube.get("jobs", run.name)
    code_map = kube.get("configmaps", run.name)
    assert job is not None
    assert code_map is not None
    assert code_map["data"] == {"cell.py": "print('hi')"}
    assert code_map["metadata"]["ownerReferences"] == [
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "name": run.name,
            "uid": job["metadata"]["uid"],
            "controller": True,
        }
    ]
    assert [(call.verb, call.kind) for call in kube.calls()] == [
        ("create", "configmaps"),
        ("create", "jobs"),
        ("patch", "configmaps"),
    ]
    assert run.info.namespace == "dh-test"
    assert run.info.backend == "kubernetes"


def test_the_namespace_comes_from_the_spec_then_the_config_then_the_context(
    kube: Kube,
) -> None:
    for name in ("team-a", "team-b"):
        kube.add_namespace(name)

    from_context = submit(kube)
    kube.config.namespace = "team-a"
    from_config = submit(kube)
    from_spec = submit(kube, {"namespace": "team-b"})

    assert (from_context.namespace, from_config.namespace, from_spec.namespace) == (
        "dh-test",
        "team-a",
        "team-b",
    )
    assert kube.get("jobs", from_spec.name, "team-b") is not None


def test_a_cell_of_512_kib_is_submitted(kube: Kube) -> None:
    code = "x = 1\n" * (512 * 1024 // 6)

    run = submit_code(kube, code)

    code_map = kube.get("configmaps", run.name)
    assert code_map is not None
    assert code_map["data"]["cell.py"] == code


def submit_code(kube: Kube, code: str) -> KubernetesRun:
    return KubernetesBackend(kube.config).submit(RunSpec(), code)


def test_a_cell_over_1000_kib_is_refused_before_anything_is_sent(kube: Kube) -> None:
    code = "#" * (1001 * 1024)

    with pytest.raises(CellTooLargeError) as raised:
        submit_code(kube, code)

    assert str(raised.value) == (
        "The cell is 1001 KiB, more than the 1000 KiB a Job can carry; move the "
        "code into a module on a volume and import it from a short cell."
    )
    assert kube.calls() == []


@pytest.mark.parametrize(
    ("verb", "kind"),
    [("create", "jobs"), ("create", "configmaps")],
    ids=["job", "configmap"],
)
def test_a_create_whose_answer_is_lost_is_retried_without_making_two(
    kube: Kube, verb: str, kind: str
) -> None:
    kube.drop(verb, kind)

    run = submit(kube)

    assert kube.created(kind, run.name) == 1
    assert len(kube.calls("create", kind)) == 2
    assert kube.get("jobs", run.name) is not None


def test_a_500_then_success_creates_the_job_once(kube: Kube) -> None:
    kube.fail("create", "jobs", 500)

    run = submit(kube)

    assert [call.status for call in kube.calls("create", "jobs")] == [500, 201]
    assert kube.created("jobs", run.name) == 1


def test_a_create_retried_into_a_job_that_is_not_ours_is_a_conflict(kube: Kube) -> None:
    kube.put("configmaps", {"metadata": {"name": "dhrun-taken-abcde"}})

    with pytest.raises(ConflictError) as raised:
        submit(kube, name="dhrun-taken-abcde")

    own_error(raised.value)
    assert str(raised.value) == (
        'A run called "dhrun-taken-abcde" already exists in namespace "dh-test"; '
        "pick another name, or leave the name out to get a fresh one."
    )
    assert kube.calls("create", "jobs") == []


REFUSALS = [
    pytest.param(
        ("create", "jobs", 403),
        {},
        PermissionDeniedError,
        'You may not create jobs in namespace "dh-test" (HTTP 403); ask an '
        'administrator for a Role with the rule {apiGroups: ["batch"], resources: '
        '["jobs"], verbs: ["create"]} bound to your account in that namespace.',
        id="403 on the Job",
    ),
    pytest.param(
        ("create", "configmaps", 403),
        {},
        PermissionDeniedError,
        'You may not create configmaps in namespace "dh-test" (HTTP 403); ask an '
        'administrator for a Role with the rule {apiGroups: [""], resources: '
        '["configmaps"], verbs: ["create"]} bound to your account in that '
        "namespace.",
        id="403 on the ConfigMap",
    ),
    pytest.param(
        ("create", "configmaps", 401),
        {},
        CredentialsError,
        "The cluster rejected your credentials (HTTP 401) when asked to create "
        'configmaps in namespace "dh-test"; log in again or refresh the token in '
        "your kubeconfig.",
        id="401",
    ),
    pytest.param(
        None,
        {"namespace": "nowhere"},
        NotFoundError,
        'The namespace "nowhere" does not exist; set namespace in the run spec or '
        "c.DhJupyter.namespace to a namespace you can use.",
        id="404 namespace",
    ),
    pytest.param(
        ("create", "jobs", 503, 10),
        {},
        ClusterUnavailableError,
        "The Kubernetes API answered HTTP 503 (ServiceUnavailable) when asked to "
        'create jobs in namespace "dh-test"; try again in a minute, or ask an '
        "administrator whether the cluster is healthy.",
        id="5xx that stays",
    ),
]


@pytest.mark.parametrize(("fault", "spec", "kind", "message"), REFUSALS)
def test_a_refused_submission_says_why_and_leaves_nothing_behind(
    kube: Kube,
    fault: tuple[Any, ...] | None,
    spec: dict[str, Any],
    kind: type[ClusterError],
    message: str,
) -> None:
    if fault is not None:
        verb, resource, status, *times = fault
        kube.fail(verb, resource, status, times=times[0] if times else 1)

    with pytest.raises(ClusterError) as raised:
        submit(kube, spec)

    own_error(raised.value)
    assert type(raised.value) is kind
    assert str(raised.value) == message
    assert kube.items("jobs") == []
    assert kube.items("configmaps") == []


def test_a_persistent_5xx_is_tried_four_times(kube: Kube) -> None:
    kube.fail("create", "jobs", 503, times=10)

    with pytest.raises(ClusterUnavailableError):
        submit(kube)

    assert len(kube.calls("create", "jobs")) == 4


def test_a_422_names_the_run_spec_fields_the_api_rejected(kube: Kube) -> None:
    causes = [
        {
            "reason": "FieldValueInvalid",
            "field": "spec.template.spec.containers[0].resources.requests",
            "message": 'Invalid value: "4": must be less than or equal to cpu limit '
            "of 2",
        },
        {
            "reason": "FieldValueInvalid",
            "field": "spec.template.spec.tolerations[0].effect",
            "message": 'Unsupported value: "NoSchedul": supported values: '
            '"NoExecute", "NoSchedule", "PreferNoSchedule"',
        },
    ]
    kube.fail(
        "create",
        "jobs",
        422,
        message="Job.batch is invalid",
        details={"name": "x", "group": "batch", "kind": "Job", "causes": causes},
    )

    with pytest.raises(RejectedSpecError) as raised:
        submit(kube)

    own_error(raised.value)
    assert str(raised.value) == (
        'The cluster rejected the Job: resources.cpu.requests: Invalid value: "4": '
        "must be less than or equal to cpu limit of 2; tolerations[0]: Unsupported "
        'value: "NoSchedul": supported values: "NoExecute", "NoSchedule", '
        '"PreferNoSchedule".'
    )
    assert raised.value.fields == ("resources.cpu.requests", "tolerations[0]")
    assert kube.items("configmaps") == []


def test_an_unreachable_cluster_is_named_after_the_retries(
    kube: Kube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = kube.refused_kubeconfig(tmp_path / "refused")
    monkeypatch.setenv("KUBECONFIG", str(refused))
    server = json.loads(refused.read_text())["clusters"][0]["cluster"]["server"]

    with pytest.raises(ClusterUnavailableError) as raised:
        submit(kube)

    own_error(raised.value)
    assert str(raised.value) == (
        f"Cannot reach the Kubernetes API at {server} (connection refused); check "
        "that the cluster is running and that KUBECONFIG or c.DhJupyter.kube_context "
        "points at it."
    )


def test_a_job_that_cannot_own_its_configmap_still_runs_and_says_so(
    kube: Kube, caplog: pytest.LogCaptureFixture
) -> None:
    kube.fail("patch", "configmaps", 403, times=5)

    with caplog.at_level(logging.WARNING, "dh_jupyter"):
        run = submit(kube)

    assert kube.get("jobs", run.name) is not None
    assert caplog.messages == [
        f"The Job {run.name} could not be made the owner of its ConfigMap (You may "
        f'not patch configmaps in namespace "dh-test" (HTTP 403); ask an '
        'administrator for a Role with the rule {apiGroups: [""], resources: '
        '["configmaps"], verbs: ["patch"]} bound to your account in that '
        "namespace.); delete the ConfigMap with `kubectl delete configmap "
        f"{run.name}` when done."
    ]


def test_every_object_of_a_submission_carries_the_same_marker(kube: Kube) -> None:
    run = submit(kube)

    markers = {
        (kube.get(kind, run.name) or {})["metadata"]["annotations"][MARKER_ANNOTATION]
        for kind in ("jobs", "configmaps")
    }
    assert len(markers) == 1


def test_a_job_made_although_every_create_answer_was_lost_is_kept(
    kube: Kube, caplog: pytest.LogCaptureFixture
) -> None:
    # The first create makes the Job but its answer is lost; every retry
    # then finds the API unavailable.
    kube.drop("create", "jobs")
    kube.fail("create", "jobs", 503, times=3)

    with caplog.at_level(logging.INFO, "dh_jupyter"):
        run = submit(kube)

    assert kube.created("jobs", run.name) == 1
    assert len(kube.calls("create", "jobs")) == 4
    assert [call.verb for call in kube.calls(kind="jobs")][-1] == "get"
    code_map = kube.get("configmaps", run.name)
    assert code_map is not None
    assert code_map["metadata"]["ownerReferences"][0]["name"] == run.name
    assert (
        f"The Job {run.name} was created although no answer to its create came "
        "back; going on with it." in caplog.messages
    )


def test_a_job_whose_creation_cannot_be_told_keeps_its_configmap(
    kube: Kube, caplog: pytest.LogCaptureFixture
) -> None:
    kube.drop("create", "jobs")
    kube.fail("create", "jobs", 503, times=3)
    kube.fail("get", "jobs", 503, times=4)

    with pytest.raises(ClusterUnavailableError) as raised:
        submit(kube)

    own_error(raised.value)
    assert str(raised.value).startswith("The Kubernetes API answered HTTP 503")
    [job] = kube.items("jobs")
    assert kube.get("configmaps", job["metadata"]["name"]) is not None
    assert any(
        message.startswith(f"Whether the Job {job['metadata']['name']} was created")
        for message in caplog.messages
    )


def test_a_job_no_attempt_made_is_looked_for_then_cleaned_up(kube: Kube) -> None:
    kube.fail("create", "jobs", 503, times=4)

    with pytest.raises(ClusterUnavailableError):
        submit(kube)

    assert [call.verb for call in kube.calls(kind="jobs")] == ["create"] * 4 + ["get"]
    assert kube.items("configmaps") == []


def test_the_package_submits_and_finds_runs_again(kube: Kube) -> None:
    import dh_jupyter

    run = dh_jupyter.submit(
        {"resources": {"cpu": "1"}}, "print(1)", backend="kubernetes"
    )
    again = dh_jupyter.get_run(run.name, backend="kubernetes")

    assert again.name == run.name
    assert kube.created("jobs", run.name) == 1
    assert [listed.name for listed in dh_jupyter.runs.runs("kubernetes")] == [run.name]


@pytest.mark.parametrize("kind", ["configmaps", "jobs"])
def test_a_submission_interrupted_as_it_creates_leaves_nothing_behind(
    kube: Kube, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    from dh_jupyter.cluster.client import Cluster

    create = Cluster.create

    def interrupted(self: Cluster, body: dict[str, Any], *args: Any, **kw: Any) -> Any:
        # The request got through; the stop button was pressed before the answer.
        made = create(self, body, *args, **kw)
        if body["kind"].lower() + "s" == kind:
            raise KeyboardInterrupt
        return made

    monkeypatch.setattr(Cluster, "create", interrupted)

    with pytest.raises(KeyboardInterrupt):
        submit(kube)

    assert kube.items("jobs") == []
    assert kube.items("configmaps") == []
