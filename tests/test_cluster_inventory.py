"""The picker's lookups: claims, config maps, secret names, nodes, GPUs, queues."""

from __future__ import annotations

import base64

import pytest
from fixtures.kube import Kube

from dh_jupyter.cluster.inventory import (
    Claim,
    GpuProduct,
    Inventory,
    LocalQueue,
    Node,
    Taint,
)
from dh_jupyter.errors import PermissionDeniedError

GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}


def test_claims_come_with_their_access_modes_phase_and_size(kube: Kube) -> None:
    kube.put(
        "persistentvolumeclaims",
        {
            "metadata": {"name": "datasets"},
            "spec": {
                "accessModes": ["ReadOnlyMany"],
                "storageClassName": "nfs",
                "resources": {"requests": {"storage": "1Ti"}},
            },
            "status": {"phase": "Bound", "capacity": {"storage": "2Ti"}},
        },
    )
    kube.put(
        "persistentvolumeclaims",
        {
            "metadata": {"name": "scratch"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "10Gi"}},
            },
            "status": {"phase": "Pending"},
        },
    )

    assert Inventory(kube.config).claims() == [
        Claim("datasets", ("ReadOnlyMany",), "Bound", "2Ti", "nfs"),
        Claim("scratch", ("ReadWriteOnce",), "Pending", "10Gi", ""),
    ]


def test_config_maps_are_listed_by_name_without_the_ones_carrying_cells(
    kube: Kube,
) -> None:
    kube.put("configmaps", {"metadata": {"name": "settings"}, "data": {"a": "1"}})
    kube.put(
        "configmaps",
        {
            "metadata": {
                "name": "dhrun-cell-abcde",
                "labels": {"app.kubernetes.io/managed-by": "dh-jupyter"},
            },
            "data": {"cell.py": "print(1)"},
        },
    )

    assert Inventory(kube.config).config_maps() == ["settings"]


def test_secret_names_are_listed_without_their_values_ever_being_read(
    kube: Kube,
) -> None:
    value = "hf_very_secret_value"
    for name in ("hf-token", "db-password"):
        kube.put(
            "secrets",
            {
                "metadata": {"name": name},
                "data": {"TOKEN": base64.b64encode(value.encode()).decode()},
            },
        )

    names = Inventory(kube.config).secrets()

    assert names == ["db-password", "hf-token"]
    [listing] = kube.calls("list", "secrets")
    assert "as=PartialObjectMetadataList" in listing.headers["Accept"]
    assert value not in repr(names)


def test_gpu_products_count_nodes_and_allocatable_gpus(kube: Kube) -> None:
    label = kube.config.gpu_product_label
    kube.add_node(
        "a", labels={label: "NVIDIA-A100"}, allocatable={"nvidia.com/gpu": "8"}
    )
    kube.add_node(
        "b", labels={label: "NVIDIA-A100"}, allocatable={"nvidia.com/gpu": "4"}
    )
    kube.add_node(
        "c", labels={label: "Tesla-V100"}, allocatable={"nvidia.com/gpu": "2"}
    )
    kube.add_node("cpu-only")

    assert Inventory(kube.config).gpu_products() == [
        GpuProduct("NVIDIA-A100", nodes=2, allocatable=12, most_per_node=8),
        GpuProduct("Tesla-V100", nodes=1, allocatable=2, most_per_node=2),
    ]


def test_the_gpu_label_and_resource_are_configurable(kube: Kube) -> None:
    kube.config.gpu_product_label = "cloud.google.com/gke-accelerator"
    kube.config.gpu_resource = "amd.com/gpu"
    kube.add_node(
        "a",
        labels={"cloud.google.com/gke-accelerator": "mi300"},
        allocatable={"amd.com/gpu": "8", "nvidia.com/gpu": "1"},
    )

    assert Inventory(kube.config).gpu_products() == [GpuProduct("mi300", 1, 8, 8)]


def test_nodes_come_with_their_labels_taints_and_allocatable_resources(
    kube: Kube,
) -> None:
    label = kube.config.gpu_product_label
    kube.add_node(
        "gpu-1",
        labels={label: "NVIDIA-A100"},
        allocatable={"cpu": "8", "nvidia.com/gpu": "4"},
        taints=[GPU_TAINT],
    )
    kube.add_node("big", taints=[{"key": "dedicated", "effect": "NoExecute"}])

    big, gpu = Inventory(kube.config).nodes()

    assert gpu == Node(
        "gpu-1",
        {label: "NVIDIA-A100"},
        (Taint("nvidia.com/gpu", "present", "NoSchedule"),),
        {"cpu": "8", "nvidia.com/gpu": "4"},
    )
    assert gpu.gpus("nvidia.com/gpu") == 4
    assert big.gpus("nvidia.com/gpu") == 0
    assert [t.toleration() for t in big.taints] == [
        {"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}
    ]
    assert gpu.taints[0].toleration() == {
        "key": "nvidia.com/gpu",
        "operator": "Equal",
        "value": "present",
        "effect": "NoSchedule",
    }


def test_gpu_products_are_counted_from_nodes_already_read_without_a_second_list(
    kube: Kube,
) -> None:
    label = kube.config.gpu_product_label
    kube.add_node("a", labels={label: "T4"}, allocatable={"nvidia.com/gpu": "1"})
    inventory = Inventory(kube.config)

    nodes = inventory.nodes()
    products = inventory.gpu_products(nodes)

    assert products == [GpuProduct("T4", nodes=1, allocatable=1, most_per_node=1)]
    assert len(kube.calls("list", "nodes")) == 1


def test_without_kueue_there_are_no_queues_and_no_error(kube: Kube) -> None:
    assert Inventory(kube.config).local_queues() == []


def test_kueue_local_queues_are_listed_with_their_load(kube: Kube) -> None:
    kube.install_kueue()
    kube.put(
        "localqueues",
        {
            "metadata": {"name": "team-a"},
            "spec": {"clusterQueue": "gpu-pool"},
            "status": {"pendingWorkloads": 3, "admittedWorkloads": 1},
        },
    )

    assert Inventory(kube.config).local_queues() == [
        LocalQueue("team-a", "gpu-pool", pending=3, admitted=1)
    ]


@pytest.mark.parametrize(
    ("lookup", "verb", "resource", "group", "scope"),
    [
        ("claims", "list", "persistentvolumeclaims", "", "namespace"),
        ("secrets", "list", "secrets", "", "namespace"),
        ("gpu_products", "list", "nodes", "", "cluster"),
        ("nodes", "list", "nodes", "", "cluster"),
    ],
)
def test_a_lookup_the_user_may_not_make_names_the_rbac_rule(
    kube: Kube, lookup: str, verb: str, resource: str, group: str, scope: str
) -> None:
    kube.fail(verb, resource, 403)

    with pytest.raises(PermissionDeniedError) as raised:
        getattr(Inventory(kube.config), lookup)()

    rule = f'{{apiGroups: ["{group}"], resources: ["{resource}"], verbs: ["{verb}"]}}'
    if scope == "namespace":
        expected = (
            f'You may not {verb} {resource} in namespace "dh-test" (HTTP 403); ask '
            f"an administrator for a Role with the rule {rule} bound to your "
            "account in that namespace."
        )
    else:
        expected = (
            f"You may not {verb} {resource} (HTTP 403); ask an administrator for a "
            f"ClusterRole with the rule {rule} bound to your account."
        )
    assert str(raised.value) == expected
