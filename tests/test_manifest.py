"""The Job a run spec becomes follows the Job contract and the API's schema."""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate
import pytest

from dh_jupyter import RunSpec, SpecError, build_job, build_manifests
from dh_jupyter.errors import CellTooLargeError
from dh_jupyter.manifest import JobDefaults
from dh_jupyter.manifest.naming import job_name

NEWEST = kubernetes_validate.latest_version()
VERSIONS = ("1.30", NEWEST)

FULL_SPEC: dict[str, Any] = {
    "volumes": [
        {
            "volume_type": "persistent_volume_claim",
            "name": "datasets",
            "mount_path": "/data",
            "spec": {"claim_name": "imagenet", "read_only": True},
        },
        {
            "volume_type": "config_map",
            "name": "cfg",
            "mount_path": "/etc/cfg",
            "spec": {"name": "train-config"},
        },
        {
            "volume_type": "secret",
            "name": "creds",
            "mount_path": "/secrets",
            "spec": {"secret_name": "s3-creds"},
        },
        {
            "volume_type": "empty_dir",
            "name": "shm",
            "mount_path": "/dev/shm",
            "spec": {"medium": "Memory", "size_limit": "2Gi"},
        },
    ],
    "resources": {
        "cpu": {"requests": "2", "limits": "4"},
        "mem": {"requests": "8Gi", "limits": "16Gi"},
        "gpu": {"requests": "1"},
    },
    "tolerations": [
        {
            "key": "nvidia.com/gpu",
            "operator": "Equal",
            "value": "v100",
            "effect": "NoSchedule",
        }
    ],
    "affinity": {
        "node_affinity": {
            "required_during_scheduling_ignored_during_execution": {
                "node_selector_terms": [
                    {
                        "match_expressions": [
                            {"key": "zone", "operator": "In", "values": ["a"]}
                        ]
                    }
                ]
            }
        }
    },
    "labels": [{"name": "team", "value": "vision"}],
    "node_selector": {"disk": "ssd"},
    "secrets": ["hf-token"],
    "env": [{"name": "EPOCHS", "value": "3"}],
    "image": "ghcr.io/acme/train:1.2",
    "namespace": "team-a",
    "timeout": "2h",
    "retries": 2,
    "ttl": 600,
    "service_account": "runner",
    "image_pull_secrets": ["registry"],
    "priority_class": "high",
    "queue": "team-a-queue",
    "gpu_type": "Tesla-V100-SXM2-16GB",
}


def container(job: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = job["spec"]["template"]["spec"]["containers"]
    return containers[0]


@pytest.mark.parametrize("version", VERSIONS)
def test_full_spec_renders_objects_the_api_schema_accepts(version: str) -> None:
    for manifest in build_manifests(RunSpec.from_dict(FULL_SPEC), "print('hi')"):
        kubernetes_validate.validate(manifest, version, strict=True)


def test_every_field_lands_where_kubernetes_reads_it() -> None:
    job = build_job(
        RunSpec.from_dict(FULL_SPEC), "print('hi')", job_name="dhrun-t-abcde"
    )
    pod = job["spec"]["template"]["spec"]
    cell = container(job)

    assert job["metadata"]["namespace"] == "team-a"
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-a-queue"
    assert job["spec"]["activeDeadlineSeconds"] == 7200
    assert job["spec"]["backoffLimit"] == 2
    assert job["spec"]["ttlSecondsAfterFinished"] == 600
    assert cell["image"] == "ghcr.io/acme/train:1.2"
    assert cell["resources"] == {
        "requests": {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": "1"},
        "limits": {"cpu": "4", "memory": "16Gi", "nvidia.com/gpu": "1"},
    }
    assert cell["env"] == [{"name": "EPOCHS", "value": "3"}]
    assert cell["envFrom"] == [{"secretRef": {"name": "hf-token"}}]
    assert {"name": "datasets", "mountPath": "/data", "readOnly": True} in cell[
        "volumeMounts"
    ]
    assert pod["volumes"][:4] == [
        {
            "name": "datasets",
            "persistentVolumeClaim": {"claimName": "imagenet", "readOnly": True},
        },
        {"name": "cfg", "configMap": {"name": "train-config"}},
        {"name": "creds", "secret": {"secretName": "s3-creds"}},
        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}},
    ]
    assert pod["tolerations"] == FULL_SPEC["tolerations"]
    assert pod["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert pod["nodeSelector"] == {
        "disk": "ssd",
        "nvidia.com/gpu.product": "Tesla-V100-SXM2-16GB",
    }
    assert pod["serviceAccountName"] == "runner"
    assert pod["imagePullSecrets"] == [{"name": "registry"}]
    assert pod["priorityClassName"] == "high"
    assert job["spec"]["template"]["metadata"]["labels"]["team"] == "vision"


def test_job_contract_defaults() -> None:
    job = build_job(RunSpec(), "print(1)")

    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["ttlSecondsAfterFinished"] == 24 * 3600
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert "activeDeadlineSeconds" not in job["spec"]
    assert "namespace" not in job["metadata"]


def test_generated_names_are_readable_unique_and_valid() -> None:
    names = {job_name("My Training Notebook.ipynb") for _ in range(200)}

    assert len(names) == 200
    for name in names:
        assert re.fullmatch(r"dhrun-my-training-notebook-ipynb-[a-z0-9]{5}", name)
    assert len(job_name("x" * 200)) <= 63


def test_every_object_carries_the_labels_that_find_it_again() -> None:
    config_map, job = build_manifests(
        RunSpec(),
        "print(1)",
        job_name="dhrun-a-bcdef",
        user="ada@example.com",
        notebook="work/Train model.ipynb",
    )

    for labels in (
        config_map["metadata"]["labels"],
        job["metadata"]["labels"],
        job["spec"]["template"]["metadata"]["labels"],
    ):
        assert labels["app.kubernetes.io/managed-by"] == "dh-jupyter"
        assert labels["dh-jupyter.io/user"] == "ada-example.com"
        assert labels["dh-jupyter.io/notebook"] == "Train-model.ipynb"
        assert labels["dh-jupyter.io/run"] == "dhrun-a-bcdef"
    assert job["metadata"]["annotations"] == {
        "dh-jupyter.io/notebook-path": "work/Train model.ipynb"
    }


def test_the_cell_travels_in_a_config_map_the_job_mounts() -> None:
    code = "import os\nprint(os.getcwd())\n"
    config_map, job = build_manifests(RunSpec(), code, job_name="dhrun-a-bcdef")
    pod = job["spec"]["template"]["spec"]

    assert config_map["metadata"]["name"] == "dhrun-a-bcdef"
    assert config_map["data"] == {"cell.py": code}
    assert {"name": "dh-jupyter-cell", "configMap": {"name": "dhrun-a-bcdef"}} in pod[
        "volumes"
    ]
    assert container(job)["command"] == ["python", "-u", "/var/run/dh-jupyter/cell.py"]


def test_half_a_megabyte_cell_fits() -> None:
    code = "x = 1\n" * (512 * 1024 // 6)

    config_map, _ = build_manifests(RunSpec(), code)

    assert config_map["data"]["cell.py"] == code


def test_a_cell_larger_than_a_config_map_is_refused() -> None:
    with pytest.raises(CellTooLargeError, match=r"The cell is 1100 KiB, more than the"):
        build_manifests(RunSpec(), "#" * (1100 * 1024))


def test_configured_defaults_apply_when_the_spec_is_silent() -> None:
    defaults = JobDefaults(
        image="registry.local/nb:1",
        namespace="team-b",
        ttl=60,
        gpu_resource="amd.com/gpu",
        gpu_product_label="amd.com/gpu.product",
    )
    spec = RunSpec.from_dict({"resources": {"gpu": "1"}, "gpu_type": "mi300"})

    job = build_manifests(spec, "", defaults=defaults)[-1]

    assert container(job)["image"] == "registry.local/nb:1"
    assert job["metadata"]["namespace"] == "team-b"
    assert job["spec"]["ttlSecondsAfterFinished"] == 60
    assert container(job)["resources"]["limits"] == {"amd.com/gpu": "1"}
    assert job["spec"]["template"]["spec"]["nodeSelector"] == {
        "amd.com/gpu.product": "mi300"
    }


def test_gpu_type_that_contradicts_the_node_selector_is_refused_when_read() -> None:
    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict(
            {"gpu_type": "a100", "node_selector": {"nvidia.com/gpu.product": "v100"}}
        )

    assert str(caught.value) == (
        'gpu_type: "a100" contradicts node_selector "nvidia.com/gpu.product": '
        '"v100"; keep one of them.'
    )


def test_gpu_type_that_contradicts_a_configured_label_is_refused_when_built() -> None:
    defaults = JobDefaults(gpu_product_label="amd.com/gpu.product")
    spec = RunSpec.from_dict(
        {"gpu_type": "mi300", "node_selector": {"amd.com/gpu.product": "mi250"}}
    )

    with pytest.raises(SpecError) as caught:
        build_manifests(spec, "", defaults=defaults)

    assert str(caught.value) == (
        'gpu_type: "mi300" contradicts node_selector "amd.com/gpu.product": '
        '"mi250"; keep one of them.'
    )


def test_gpu_type_equal_to_the_node_selector_is_one_selector() -> None:
    spec = RunSpec.from_dict(
        {"gpu_type": "a100", "node_selector": {"nvidia.com/gpu.product": "a100"}}
    )

    pod = build_job(spec, "")["spec"]["template"]["spec"]

    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "a100"}


def test_a_bad_exact_job_name_is_refused() -> None:
    with pytest.raises(SpecError, match=r'^job_name: "Bad_Name" is not a valid name'):
        build_job(RunSpec(), "", job_name="Bad_Name")


@pytest.mark.parametrize(
    ("name", "notebook", "expected"),
    [
        ("custom", "", r"dhrun-custom-[a-z0-9]{5}"),
        ("Train ResNet", "work/a.ipynb", r"dhrun-train-resnet-[a-z0-9]{5}"),
        (None, "work/Train Model.ipynb", r"dhrun-train-model-[a-z0-9]{5}"),
        (None, "analysis.v2.ipynb", r"dhrun-analysis-v2-[a-z0-9]{5}"),
        (None, "", r"dhrun-cell-[a-z0-9]{5}"),
    ],
)
def test_name_is_the_readable_part_and_the_notebook_is_the_default(
    name: str | None, notebook: str, expected: str
) -> None:
    config_map, job = build_manifests(RunSpec(), "", name=name, notebook=notebook)

    assert re.fullmatch(expected, job["metadata"]["name"])
    assert config_map["metadata"]["name"] == job["metadata"]["name"]
    assert job["metadata"]["labels"]["dh-jupyter.io/run"] == job["metadata"]["name"]


def test_build_job_names_the_run_after_the_kernels_notebook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/ada/work/Fine tune.ipynb")

    job = build_job(RunSpec(), "print(1)")

    assert re.fullmatch(r"dhrun-fine-tune-[a-z0-9]{5}", job["metadata"]["name"])


def test_build_job_name_is_the_readable_part_too() -> None:
    job = build_job(RunSpec(), "x", name="custom")

    assert re.fullmatch(r"dhrun-custom-[a-z0-9]{5}", job["metadata"]["name"])


def test_a_name_without_letters_or_digits_is_refused() -> None:
    with pytest.raises(SpecError) as caught:
        build_job(RunSpec(), "", name="!!!")

    assert str(caught.value) == (
        'name: "!!!" has no letters or digits to name the run by; give a name '
        'such as "train".'
    )


def test_a_name_and_an_exact_job_name_together_are_a_mistake() -> None:
    with pytest.raises(TypeError, match="either name or job_name"):
        build_job(RunSpec(), "", name="a", job_name="dhrun-a-bcdef")
