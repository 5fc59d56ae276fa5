"""Every example of the DigitalHub SDK's seed document loads unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from dh_jupyter import RunSpec
from dh_jupyter.spec import Resource, Toleration, Volume

SEED_EXAMPLES: list[tuple[str, dict[str, Any]]] = [
    (
        "persistent volume claim",
        {
            "volumes": [
                {
                    "volume_type": "persistent_volume_claim",
                    "name": "my-pvc",
                    "mount_path": "/data",
                    "spec": {"claim_name": "pvc-name-on-k8s"},
                }
            ]
        },
    ),
    (
        "config map",
        {
            "volumes": [
                {
                    "volume_type": "config_map",
                    "name": "my-config-map",
                    "mount_path": "/data",
                    "spec": {"name": "config-map-name-on-k8s"},
                }
            ]
        },
    ),
    (
        "secret volume",
        {
            "volumes": [
                {
                    "volume_type": "secret",
                    "name": "my-secret",
                    "mount_path": "/data",
                    "spec": {"secret_name": "secret-name-on-k8s"},
                }
            ]
        },
    ),
    ("cpu", {"resources": {"cpu": {"requests": "12", "limits": "16"}}}),
    ("memory", {"resources": {"mem": {"requests": "64Gi"}}}),
    (
        "gpu with toleration",
        {
            "resources": {"gpu": {"limits": "1"}},
            "tolerations": [
                {
                    "key": "nvidia.com/gpu",
                    "operator": "Equal",
                    "value": "v100",
                    "effect": "NoSchedule",
                }
            ],
        },
    ),
    ("secret injection", {"secrets": ["my-secret"]}),
    ("environment variable", {"env": [{"name": "env-name", "value": "value"}]}),
]


@pytest.mark.parametrize(
    ("title", "kwargs"), SEED_EXAMPLES, ids=[t for t, _ in SEED_EXAMPLES]
)
def test_every_seed_example_loads_and_round_trips(
    title: str, kwargs: dict[str, Any]
) -> None:
    spec = RunSpec.from_dict(kwargs)

    assert spec.to_dict() == kwargs
    assert RunSpec.from_dict(spec.to_dict()) == spec


def test_seed_volume_becomes_a_volume_with_its_spec() -> None:
    spec = RunSpec.from_dict(SEED_EXAMPLES[0][1])

    assert spec.volumes == (
        Volume(
            "persistent_volume_claim",
            "my-pvc",
            "/data",
            {"claim_name": "pvc-name-on-k8s"},
        ),
    )


def test_seed_resources_keep_the_quantities_as_written() -> None:
    spec = RunSpec.from_dict(SEED_EXAMPLES[3][1])

    assert spec.resources.cpu == Resource(requests="12", limits="16")


def test_seed_gpu_toleration_is_read_field_by_field() -> None:
    spec = RunSpec.from_dict(SEED_EXAMPLES[5][1])

    assert spec.tolerations == (
        Toleration(
            key="nvidia.com/gpu", operator="Equal", value="v100", effect="NoSchedule"
        ),
    )
    assert spec.resources.gpu == Resource(requests=None, limits="1")


def test_all_seed_examples_combine_into_one_spec() -> None:
    combined: dict[str, Any] = {}
    for _, kwargs in SEED_EXAMPLES[3:]:
        for key, value in kwargs.items():
            if key == "resources":
                combined.setdefault("resources", {}).update(value)
            else:
                combined[key] = value
    combined["volumes"] = [SEED_EXAMPLES[i][1]["volumes"][0] for i in range(3)]
    # Three volumes at one mount path are a mistake; give each its own.
    for index, volume in enumerate(combined["volumes"]):
        volume["mount_path"] = f"/data/{index}"

    spec = RunSpec.from_dict(combined)

    assert RunSpec.from_dict(spec.to_dict()) == spec
    assert len(spec.volumes) == 3
