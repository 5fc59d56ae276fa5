"""The picker's cluster-aware choices, read from the Kubernetes emulator.

The ``kube`` fixture serves a real API over HTTP, so these tests go through
the real client, the cluster layer's inventory and the picker's lookup
thread. They check what is offered, that Secret values never travel, that
the cluster is read once per picker (and on Refresh), and that a cluster
that cannot be read leaves free text and no error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dh_jupyter.cluster.inventory import Claim, Taint
from dh_jupyter.config import DhJupyter
from dh_jupyter.widgets.choices import ClusterChoices
from dh_jupyter.widgets.picker import ResourcePicker
from dh_jupyter.widgets.volumes import VolumeRow

GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
SPOT_TAINT = {"key": "spot", "value": "true", "effect": "NoExecute"}
SECRET_VALUE = "c2VjcmV0LXZhbHVlLW5ldmVyLXNob3du"
DEDICATED = "dedicated=etl:NoSchedule"


@pytest.fixture
def stocked(kube: Any) -> Any:
    """A namespace with one of everything the picker offers."""
    kube.put(
        "persistentvolumeclaims",
        {
            "metadata": {"name": "datasets"},
            "spec": {
                "accessModes": ["ReadWriteMany"],
                "resources": {"requests": {"storage": "100Gi"}},
            },
            "status": {"phase": "Bound", "capacity": {"storage": "100Gi"}},
        },
    )
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
    kube.put(
        "secrets", {"metadata": {"name": "hf-token"}, "data": {"TOKEN": SECRET_VALUE}}
    )
    for name, product, count, taints in (
        ("a100-1", "NVIDIA-A100", "4", [GPU_TAINT]),
        ("a100-2", "NVIDIA-A100", "2", [GPU_TAINT]),
        ("t4-spot", "Tesla-T4", "1", [SPOT_TAINT]),
    ):
        kube.add_node(
            name,
            labels={"nvidia.com/gpu.product": product, "pool": name.split("-")[-1]},
            allocatable={"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": count},
            taints=taints,
        )
    kube.install_kueue()
    kube.put(
        "localqueues",
        {"metadata": {"name": "team-queue"}, "spec": {"clusterQueue": "gpus"}},
    )
    return kube


def read(picker: ResourcePicker) -> ClusterChoices:
    """Start the lookup and wait for it, as showing the picker would."""
    picker.refresh_choices()
    return picker.wait_for_choices(timeout=60)


def test_one_lookup_lists_the_nodes_once_for_gpu_models_and_taints(
    stocked: Any,
) -> None:
    picker = ResourcePicker(config=stocked.config)

    choices = read(picker)

    assert [gpu.product for gpu in choices.gpus] == ["NVIDIA-A100", "Tesla-T4"]
    assert {node.name for node in choices.nodes} == {"a100-1", "a100-2", "t4-spot"}
    assert len(stocked.calls("list", "nodes")) == 1

    picker.refresh_button.click()
    picker.wait_for_choices(timeout=60)

    assert len(stocked.calls("list", "nodes")) == 2


def test_building_a_picker_reads_nothing_from_the_cluster(stocked: Any) -> None:
    ResourcePicker(config=stocked.config)

    assert stocked.calls("list") == []


def test_the_picker_offers_what_the_namespace_and_its_nodes_have(
    stocked: Any,
) -> None:
    picker = ResourcePicker(config=stocked.config)

    choices = read(picker)

    assert choices.unread == {}
    assert choices.namespace == "dh-test"
    assert choices.claims == (Claim("datasets", ("ReadWriteMany",), "Bound", "100Gi"),)
    assert choices.config_maps == ("settings",)
    assert choices.secrets == ("hf-token",)
    assert choices.queues == ("team-queue",)
    assert picker._cluster_note.value.count("dh-test") == 1
    for words in ("1 claim", "1 config map", "1 secret", "2 GPU models", "1 queue"):
        assert words in picker._cluster_note.value


def test_a_volume_row_offers_the_namespaces_objects_and_describes_the_claim(
    stocked: Any,
) -> None:
    picker = ResourcePicker(config=stocked.config)
    read(picker)
    row = picker.volumes.volumes.add()
    assert isinstance(row, VolumeRow)
    claim = row.by_type["persistent_volume_claim"]["claim_name"]

    claim.control.value = "datasets"

    assert claim.control.options == ("datasets",)
    assert claim.note == "ReadWriteMany, 100Gi, Bound"
    assert row.by_type["config_map"]["name"].control.options == ("settings",)
    assert row.by_type["secret"]["secret_name"].control.options == ("hf-token",)

    claim.control.value = "missing"

    assert claim.note == 'not found in namespace "dh-test"'
    assert claim.problem == ""


def test_the_gpu_model_offers_the_products_with_what_is_allocatable(
    stocked: Any,
) -> None:
    picker = ResourcePicker(config=stocked.config)
    read(picker)
    model = picker.resources.gpu_type

    assert model.control.options == ("NVIDIA-A100", "Tesla-T4")
    assert model.note == "on the cluster: NVIDIA-A100 (6), Tesla-T4 (1)"

    model.control.value = "NVIDIA-A100"

    assert model.note == "6 allocatable on 2 nodes, at most 4 per node"


def test_secret_values_never_leave_the_cluster(stocked: Any) -> None:
    picker = ResourcePicker(config=stocked.config)
    read(picker)
    picker.environment.secrets.add()

    listed = stocked.calls("list", "secrets")
    assert len(listed) == 1
    assert "PartialObjectMetadataList" in listed[0].headers.get("Accept", "")
    assert stocked.calls("get", "secrets") == []
    states = [w.get_state() for w in _tree(picker)]
    assert SECRET_VALUE not in repr(states)
    assert SECRET_VALUE not in repr(picker.choices)


@pytest.mark.parametrize(
    ("gpu_model", "selector", "suggested"),
    [
        ("NVIDIA-A100", {}, ["nvidia.com/gpu=present:NoSchedule"]),
        ("", {"pool": "spot"}, ["spot=true:NoExecute"]),
        ("Tesla-T4", {"pool": "spot"}, ["spot=true:NoExecute"]),
        ("", {}, ["nvidia.com/gpu=present:NoSchedule", "spot=true:NoExecute"]),
        ("NVIDIA-A100", {"pool": "spot"}, []),
    ],
)
def test_tolerations_are_suggested_for_the_nodes_a_run_would_land_on(
    stocked: Any, gpu_model: str, selector: dict[str, str], suggested: list[str]
) -> None:
    picker = ResourcePicker(config=stocked.config)
    read(picker)
    calls = len(stocked.calls())

    picker.resources.gpu_type.control.value = gpu_model
    for key, value in selector.items():
        row = picker.scheduling.node_selector.add()
        row.fields["key"].control.value = key
        row.fields["value"].control.value = value

    labels = [label for label, _ in picker.scheduling.suggested.options]
    assert labels == suggested
    shown = picker.scheduling.tolerate_button.layout.display != "none"
    assert shown == bool(suggested)
    # Suggestions come from the nodes read once, not from new requests.
    assert len(stocked.calls()) == calls


@pytest.mark.parametrize(
    ("gpus", "suggested"),
    [
        ("1", ["nvidia.com/gpu=present:NoSchedule", "spot=true:NoExecute"]),
        ("0", [DEDICATED, "nvidia.com/gpu=present:NoSchedule", "spot=true:NoExecute"]),
        ("", [DEDICATED, "nvidia.com/gpu=present:NoSchedule", "spot=true:NoExecute"]),
    ],
)
def test_a_gpu_asked_for_without_a_model_suggests_only_gpu_nodes_taints(
    stocked: Any, gpus: str, suggested: list[str]
) -> None:
    stocked.add_node(
        "cpu-etl",
        labels={"pool": "etl"},
        taints=[{"key": "dedicated", "value": "etl", "effect": "NoSchedule"}],
    )
    picker = ResourcePicker(config=stocked.config)
    read(picker)

    picker.resources.quantities["gpu", "limits"].control.value = gpus

    labels = [label for label, _ in picker.scheduling.suggested.options]
    assert sorted(labels) == sorted(suggested)


def test_a_claim_that_is_not_bound_says_so_beside_the_choice(stocked: Any) -> None:
    stocked.put(
        "persistentvolumeclaims",
        {
            "metadata": {"name": "fresh"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "10Gi"}},
            },
            "status": {"phase": "Pending"},
        },
    )
    picker = ResourcePicker(config=stocked.config)
    read(picker)
    row = picker.volumes.volumes.add()
    assert isinstance(row, VolumeRow)
    claim = row.by_type["persistent_volume_claim"]["claim_name"]

    claim.control.value = "fresh"

    assert claim.note == "ReadWriteOnce, 10Gi, Pending"


def test_tolerating_a_suggested_taint_adds_its_row_and_drops_the_suggestion(
    stocked: Any,
) -> None:
    picker = ResourcePicker(config=stocked.config)
    read(picker)
    picker.resources.gpu_type.control.value = "NVIDIA-A100"

    picker.scheduling.tolerate_button.click()

    assert picker.run_kwargs["tolerations"] == [{"operator": "Equal", **GPU_TAINT}]
    assert picker.scheduling.suggested.options == ()


def test_the_cluster_is_read_once_when_shown_and_again_on_refresh(
    stocked: Any,
) -> None:
    picker = ResourcePicker(config=stocked.config)

    picker._repr_mimebundle_()
    picker.wait_for_choices(timeout=60)
    picker._repr_mimebundle_()
    for text in ("1", "2", "2G", "2Gi"):
        picker.resources.quantities["mem", "requests"].control.value = text
    picker.options.fields["queue"].control.value = "team-queue"

    assert len(stocked.calls("list", "persistentvolumeclaims")) == 1

    picker.refresh_button.click()
    picker.wait_for_choices(timeout=60)

    assert len(stocked.calls("list", "persistentvolumeclaims")) == 2
    assert not picker.refresh_button.disabled


def test_refresh_reads_the_namespace_typed_in_the_form(stocked: Any) -> None:
    stocked.add_namespace("team-b")
    stocked.put("configmaps", {"metadata": {"name": "b-only"}}, namespace="team-b")
    picker = ResourcePicker(config=stocked.config)
    picker.options.fields["namespace"].control.value = "team-b"

    choices = read(picker)

    assert choices.namespace == "team-b"
    assert choices.config_maps == ("b-only",)


def test_a_forbidden_kind_leaves_only_that_field_free_text(stocked: Any) -> None:
    stocked.fail("list", "secrets", 403, message="secrets is forbidden")
    picker = ResourcePicker(config=stocked.config, code="pass")

    choices = read(picker)

    assert set(choices.unread) == {"secrets"}
    assert choices.claims
    row = picker.environment.secrets.add()
    row.fields[""].control.value = "anything"
    assert row.fields[""].note == ""
    assert "Type the others freely" in picker._cluster_note.value
    assert picker.valid
    assert picker.problems == []


def test_an_unreachable_cluster_leaves_free_text_and_no_error(
    stocked: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = stocked.refused_kubeconfig(tmp_path / "refused")
    monkeypatch.setenv("KUBECONFIG", str(refused))
    picker = ResourcePicker(config=DhJupyter(backend="kubernetes"), code="pass")

    choices = read(picker)

    assert set(choices.unread) == {"cluster"}
    assert "Type names freely" in picker._cluster_note.value
    assert picker.valid
    assert not picker.submit_button.disabled


def test_the_local_backend_reads_no_cluster_and_says_why(stocked: Any) -> None:
    picker = ResourcePicker(config=DhJupyter(backend="local"))

    choices = read(picker)

    assert stocked.calls() == []
    assert "local backend" in choices.unread["cluster"]
    assert "local backend" in picker._cluster_note.value


def _tree(widget: Any) -> list[Any]:
    found = [widget]
    for child in getattr(widget, "children", ()):
        found.extend(_tree(child))
    return found


def test_a_taint_suggests_the_toleration_that_matches_it() -> None:
    assert Taint("gpu", "", "NoSchedule").toleration() == {
        "key": "gpu",
        "operator": "Exists",
        "effect": "NoSchedule",
    }
