"""The same scenarios against a real cluster, when one is given.

Opt-in: set ``DH_JUPYTER_TEST_KUBECONFIG`` to a kubeconfig (a kind cluster
will do) and run ``pytest -m cluster tests/test_real_cluster.py``. Optional:
``DH_JUPYTER_TEST_NAMESPACE`` (else the context's namespace) and
``DH_JUPYTER_TEST_IMAGE`` (else ``python:3.11-slim``). Every run a test makes
is cancelled at its end, so the namespace is left as it was.

What a real cluster cannot be made to do on demand (a 403, a dropped
connection) is covered by the emulator tests only. The refusals it can be
made to give are here: a 404 namespace, a 409 name, a 422 manifest (sent
through the cluster layer as it is, since the spec layer catches every 422
it can before anything is sent).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dh_jupyter.cluster.connect import forget_connections
from dh_jupyter.cluster.errors import RejectedSpecError
from dh_jupyter.cluster.informer import stop_all
from dh_jupyter.cluster.inventory import Inventory
from dh_jupyter.config import DhJupyter
from dh_jupyter.errors import ClusterError, ConflictError, NotFoundError
from dh_jupyter.manifest import build_manifests
from dh_jupyter.runs.kubernetes import KubernetesBackend, KubernetesRun
from dh_jupyter.runs.status import Phase, Status
from dh_jupyter.spec import RunSpec

KUBECONFIG = os.environ.get("DH_JUPYTER_TEST_KUBECONFIG", "")
IMAGE = os.environ.get("DH_JUPYTER_TEST_IMAGE", "python:3.11-slim")
# Pulling an image the first time can take minutes on a fresh cluster.
TIMEOUT = 600

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(
        not KUBECONFIG, reason="set DH_JUPYTER_TEST_KUBECONFIG to run against a cluster"
    ),
]


class Runs:
    """Submits runs on the real cluster and cancels them all at the end."""

    def __init__(self, config: DhJupyter) -> None:
        self.backend = KubernetesBackend(config)
        self.made: list[KubernetesRun] = []
        self.claims: list[str] = []

    def submit(self, code: str, name: str | None = None, **spec: Any) -> KubernetesRun:
        spec.setdefault("image", IMAGE)
        run = self.backend.submit(RunSpec.from_dict(spec), code, name=name)
        self.made.append(run)
        return run

    def claim(self, name: str, storage_class: str) -> None:
        """A PersistentVolumeClaim of ``storage_class``, deleted at the end."""
        from kubernetes import client

        core = client.CoreV1Api(self.backend.cluster.connection.api)
        core.create_namespaced_persistent_volume_claim(
            self.backend.namespace(),
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": name},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": storage_class,
                    "resources": {"requests": {"storage": "1Mi"}},
                },
            },
        )
        self.claims.append(name)

    def cleanup(self) -> None:
        for run in self.made:
            # Already gone, or its namespace too: nothing left to clean.
            with contextlib.suppress(ClusterError):
                run.cancel()
        if self.claims:
            from kubernetes import client

            core = client.CoreV1Api(self.backend.cluster.connection.api)
            for name in self.claims:
                with contextlib.suppress(Exception):  # already gone is fine
                    core.delete_namespaced_persistent_volume_claim(
                        name, self.backend.namespace()
                    )


@pytest.fixture
def real(monkeypatch: pytest.MonkeyPatch) -> Iterator[Runs]:
    monkeypatch.setenv("KUBECONFIG", KUBECONFIG)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    forget_connections()
    config = DhJupyter(
        backend="kubernetes", namespace=os.environ.get("DH_JUPYTER_TEST_NAMESPACE", "")
    )
    runs = Runs(config)
    yield runs
    runs.cleanup()
    stop_all()
    forget_connections()


def until(run: KubernetesRun, ready: Callable[[Status], bool]) -> Status:
    """The run's status once ``ready`` holds for it (or after the timeout)."""
    with run.tracker.following():
        run.tracker.wait_until(lambda _, status: ready(status), TIMEOUT)
        return run.tracker.status


def test_a_cell_runs_and_its_output_is_read(real: Runs) -> None:
    run = real.submit("print('hello from the cluster')")

    final = run.wait(timeout=TIMEOUT)

    assert (final.phase, final.exit_code) == (Phase.SUCCEEDED, 0)
    assert list(run.logs()) == ["hello from the cluster"]


def test_a_failing_cell_says_its_exit_code(real: Runs) -> None:
    final = real.submit("raise SystemExit(3)").wait(timeout=TIMEOUT)

    assert (final.phase, final.reason, final.hint) == (
        Phase.FAILED,
        "the cell exited with code 3",
        "The end of its logs shows the error.",
    )


def test_retried_attempts_are_marked_in_the_logs(real: Runs) -> None:
    run = real.submit("print('trying')\nraise SystemExit(1)", retries=1)

    lines = list(run.logs(follow=True))
    final = run.wait(timeout=TIMEOUT)

    assert lines[0] == "trying"
    assert lines[1].startswith("--- attempt 2 (pod ")
    assert lines[2] == "trying"
    assert final.reason == "the cell exited with code 1 on attempt 2, its last"


def test_a_cell_past_its_timeout_is_deadline_exceeded(real: Runs) -> None:
    final = real.submit("import time\ntime.sleep(300)", timeout=5).wait(timeout=TIMEOUT)

    assert (final.phase, final.reason) == (
        Phase.FAILED,
        "it ran longer than its timeout of 5 s",
    )


def test_a_cell_over_its_memory_limit_is_told_to_ask_for_more(real: Runs) -> None:
    code = "blocks = [bytearray(10 * 2**20) for _ in range(100)]"
    run = real.submit(code, resources={"mem": {"requests": "32Mi", "limits": "32Mi"}})

    final = run.wait(timeout=TIMEOUT)

    assert (final.phase, final.reason, final.hint) == (
        Phase.FAILED,
        "the cell ran out of memory and was killed (its limit is 32Mi)",
        'Ask for more memory: set resources.mem.limits to "64Mi" or more.',
    )


def test_cancel_deletes_the_job_and_ends_as_cancelled(real: Runs) -> None:
    run = real.submit("import time\ntime.sleep(300)")
    until(run, lambda status: status.phase is Phase.RUNNING)

    run.cancel()

    assert run.wait(timeout=TIMEOUT).phase is Phase.CANCELLED
    with pytest.raises(NotFoundError):
        real.backend.get(run.name)


def test_a_run_is_found_again_by_a_new_backend(real: Runs) -> None:
    run = real.submit("print('found')")
    run.wait(timeout=TIMEOUT)
    stop_all()

    again = KubernetesBackend(real.backend.config)

    assert run.name in [listed.name for listed in again.runs()]
    assert list(again.get(run.name).logs()) == ["found"]


PENDING = [
    pytest.param(
        {"image": f"dh-jupyter.invalid/does-not-exist:{uuid.uuid4().hex[:6]}"},
        'the image "dh-jupyter.invalid/does-not-exist:',
        id="image that cannot be pulled",
    ),
    pytest.param(
        {"resources": {"cpu": {"requests": "10000"}}},
        "no node can take it: ",
        id="more cpu than any node has",
    ),
    pytest.param(
        {"node_selector": {"dh-jupyter.io/no-such-label": "x"}},
        "no node can take it: ",
        id="a selector no node matches",
    ),
    pytest.param(
        {"secrets": ["dh-jupyter-test-missing-secret"]},
        'the Secret "dh-jupyter-test-missing-secret" does not exist',
        id="a missing secret",
    ),
    pytest.param(
        {
            "volumes": [
                {
                    "volume_type": "config_map",
                    "name": "settings",
                    "mount_path": "/etc/settings",
                    "spec": {"name": "dh-jupyter-test-missing-configmap"},
                }
            ]
        },
        'the ConfigMap "dh-jupyter-test-missing-configmap" does not exist',
        id="a missing configmap",
    ),
    pytest.param(
        {
            "volumes": [
                {
                    "volume_type": "persistent_volume_claim",
                    "name": "data",
                    "mount_path": "/data",
                    "spec": {"claim_name": "dh-jupyter-test-missing-claim"},
                }
            ]
        },
        'the PersistentVolumeClaim "dh-jupyter-test-missing-claim" does not exist',
        id="a missing claim",
    ),
]


@pytest.mark.parametrize(("spec", "reason"), PENDING)
def test_a_run_that_cannot_start_says_why(
    real: Runs, spec: dict[str, Any], reason: str
) -> None:
    run = real.submit("print(1)", **spec)

    status = until(run, lambda status: status.reason.startswith(reason))

    assert status.phase is Phase.PENDING
    assert status.reason.startswith(reason)
    assert status.hint


def test_the_pickers_lookups_read_the_cluster(real: Runs) -> None:
    inventory = Inventory(real.backend.config)

    assert isinstance(inventory.claims(), list)
    assert isinstance(inventory.config_maps(), list)
    assert all(isinstance(name, str) for name in inventory.secrets())
    assert isinstance(inventory.local_queues(), list)


def unique(prefix: str) -> str:
    """A name no earlier test run left behind."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_a_namespace_that_does_not_exist_is_named(real: Runs) -> None:
    namespace = unique("dh-jupyter-test-missing")

    with pytest.raises(NotFoundError) as raised:
        real.submit("print(1)", namespace=namespace)

    assert str(raised.value) == (
        f'The namespace "{namespace}" does not exist; set namespace in the run spec '
        "or c.DhJupyter.namespace to a namespace you can use."
    )


def test_a_name_already_taken_is_a_conflict_and_the_first_run_is_untouched(
    real: Runs,
) -> None:
    name = unique("dh-jupyter-test-taken")
    first = real.submit("import time\ntime.sleep(300)", name=name)

    with pytest.raises(ConflictError) as raised:
        real.submit("print('second')", name=name)

    namespace = real.backend.namespace()
    assert str(raised.value) == (
        f'A run called "{name}" already exists in namespace "{namespace}"; pick '
        "another name, or leave the name out to get a fresh one."
    )
    # The refused submission deleted nothing of the first run's.
    code_map = real.backend.cluster.get("configmaps", name, namespace)
    assert code_map["data"]["cell.py"] == "import time\ntime.sleep(300)"
    assert not first.status.phase.finished


def test_a_manifest_the_api_rejects_names_the_run_spec_field(real: Runs) -> None:
    # The spec layer refuses a bad label before sending; the API's own 422 is
    # reached by sending a Job with one through the cluster layer as it is.
    spec = RunSpec.from_dict({"image": IMAGE})
    _, job = build_manifests(spec, "print(1)", job_name=unique("dh-jupyter-422"))
    job["metadata"]["labels"]["team"] = "-not-a-label-"
    cluster, namespace = real.backend.cluster, real.backend.namespace()
    name = job["metadata"]["name"]

    try:
        with pytest.raises(RejectedSpecError) as raised:
            cluster.create(job, namespace)
    finally:
        # Should the API take it after all, it must not stay behind.
        with contextlib.suppress(ClusterError):
            cluster.delete("jobs", name, namespace)

    assert "labels" in raised.value.fields
    assert str(raised.value).startswith(
        'The cluster rejected the Job: labels: Invalid value: "-not-a-label-"'
    )


def test_an_image_that_does_not_exist_backs_off_and_says_so(real: Runs) -> None:
    image = f"dh-jupyter.invalid/does-not-exist:{uuid.uuid4().hex[:6]}"
    run = real.submit("print(1)", image=image)

    status = until(run, lambda status: status.reason.endswith("; retrying"))

    # ImagePullBackOff, after the first ErrImagePull; the registry's own
    # words in between vary with the container runtime.
    assert status.phase is Phase.PENDING
    assert status.reason.startswith(f'the image "{image}" cannot be pulled')
    assert status.reason.endswith("; retrying")
    assert status.hint == (
        "Check image (name and tag); for a private registry, add its pull secret "
        "to image_pull_secrets."
    )


def test_a_claim_that_is_never_bound_is_named(real: Runs) -> None:
    claim = unique("dh-jupyter-test-unbound")
    real.claim(claim, storage_class=unique("dh-jupyter-no-such-class"))
    volume = {
        "volume_type": "persistent_volume_claim",
        "name": "data",
        "mount_path": "/data",
        "spec": {"claim_name": claim},
    }
    run = real.submit("print(1)", volumes=[volume])

    status = until(run, lambda status: "not bound" in status.reason)

    assert (status.phase, status.reason, status.hint) == (
        Phase.PENDING,
        f'the PersistentVolumeClaim "{claim}" is not bound to a volume yet',
        "It binds once a volume is provisioned for it; if it stays unbound, ask an "
        "administrator about its storage class, or use another claim.",
    )


def test_more_memory_than_any_node_has_is_explained(real: Runs) -> None:
    run = real.submit("print(1)", resources={"mem": {"requests": "1000Ti"}})

    status = until(run, lambda status: "free memory" in status.reason)

    assert status.phase is Phase.PENDING
    assert status.reason.startswith("no node can take it: ")
    assert "free memory" in status.reason
    assert "resources.mem.requests" in status.hint
