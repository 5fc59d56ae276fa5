"""Newer DigitalHub SDK spellings and Kubernetes camelCase are read too."""

from __future__ import annotations

from typing import Any

import pytest

from dh_jupyter import RunSpec, SpecError
from dh_jupyter.spec import Resource
from dh_jupyter.spec.parse import TOP_LEVEL_KEYS


def test_envs_is_the_newer_spelling_of_env() -> None:
    spec = RunSpec.from_dict({"envs": [{"name": "MODE", "value": "fast"}]})

    assert spec.env == {"MODE": "fast"}
    assert spec.to_dict() == {"env": [{"name": "MODE", "value": "fast"}]}


def test_env_and_envs_together_are_rejected() -> None:
    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict({"env": [], "envs": []})

    assert caught.value.field == "envs"
    assert (
        str(caught.value) == 'envs: both "env" and "envs" are given; keep one of them.'
    )


@pytest.mark.parametrize(
    ("flat", "expected"),
    [
        ({"cpu": "2"}, {"cpu": Resource(requests="2")}),
        ({"mem": "4Gi"}, {"mem": Resource(requests="4Gi")}),
        ({"cpu": 2, "mem": "4Gi"}, {"cpu": Resource("2"), "mem": Resource("4Gi")}),
        ({"gpu": "1"}, {"gpu": Resource(requests="1", limits="1")}),
    ],
)
def test_flat_resources_mean_requests(
    flat: dict[str, Any], expected: dict[str, Resource]
) -> None:
    spec = RunSpec.from_dict({"resources": flat})

    for kind, resource in expected.items():
        assert getattr(spec.resources, kind) == resource


def test_volume_spec_accepts_camel_case() -> None:
    spec = RunSpec.from_dict(
        {
            "volumes": [
                {
                    "volume_type": "persistent_volume_claim",
                    "name": "data",
                    "mount_path": "/data",
                    "spec": {"claimName": "datasets", "readOnly": True},
                },
                {
                    "volume_type": "empty_dir",
                    "name": "scratch",
                    "mount_path": "/scratch",
                    "spec": {"sizeLimit": "1Gi", "medium": "Memory"},
                },
            ]
        }
    )

    assert spec.volumes[0].spec == {"claim_name": "datasets", "read_only": True}
    assert spec.volumes[1].spec == {"size_limit": "1Gi", "medium": "Memory"}


def test_toleration_accepts_both_spellings_of_seconds() -> None:
    snake = {
        "key": "k",
        "operator": "Exists",
        "effect": "NoExecute",
        "toleration_seconds": 30,
    }
    camel = {
        "key": "k",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 30,
    }

    assert RunSpec.from_dict({"tolerations": [snake]}) == RunSpec.from_dict(
        {"tolerations": [camel]}
    )


def test_both_spellings_of_one_key_are_rejected() -> None:
    toleration = {
        "key": "k",
        "operator": "Exists",
        "effect": "NoExecute",
        "toleration_seconds": 30,
        "tolerationSeconds": 30,
    }

    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict({"tolerations": [toleration]})

    assert caught.value.field == "tolerations[0].tolerationSeconds"


SNAKE_AFFINITY = {
    "node_affinity": {
        "required_during_scheduling_ignored_during_execution": {
            "node_selector_terms": [
                {
                    "match_expressions": [
                        {"key": "gpu", "operator": "In", "values": ["a100", "v100"]}
                    ]
                }
            ]
        },
        "preferred_during_scheduling_ignored_during_execution": [
            {
                "weight": 10,
                "preference": {
                    "match_expressions": [{"key": "zone", "operator": "Exists"}]
                },
            }
        ],
    },
    "pod_anti_affinity": {
        "preferred_during_scheduling_ignored_during_execution": [
            {
                "weight": 50,
                "pod_affinity_term": {
                    "topology_key": "kubernetes.io/hostname",
                    "label_selector": {"match_labels": {"app": "train"}},
                },
            }
        ]
    },
}
CAMEL_AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {
                    "matchExpressions": [
                        {"key": "gpu", "operator": "In", "values": ["a100", "v100"]}
                    ]
                }
            ]
        },
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {
                "weight": 10,
                "preference": {
                    "matchExpressions": [{"key": "zone", "operator": "Exists"}]
                },
            }
        ],
    },
    "podAntiAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {
                "weight": 50,
                "podAffinityTerm": {
                    "topologyKey": "kubernetes.io/hostname",
                    "labelSelector": {"matchLabels": {"app": "train"}},
                },
            }
        ]
    },
}


def test_affinity_in_snake_case_becomes_kubernetes_camel_case() -> None:
    spec = RunSpec.from_dict({"affinity": SNAKE_AFFINITY})

    assert spec.affinity == CAMEL_AFFINITY
    assert RunSpec.from_dict({"affinity": CAMEL_AFFINITY}) == spec


def test_labels_and_node_selector_take_both_mapping_and_list() -> None:
    as_lists = RunSpec.from_dict(
        {
            "labels": [{"name": "team", "value": "vision"}],
            "node_selector": [{"key": "disk", "value": "ssd"}],
        }
    )
    as_maps = RunSpec.from_dict(
        {"labels": {"team": "vision"}, "node_selector": {"disk": "ssd"}}
    )

    assert as_lists == as_maps
    assert as_maps.labels == {"team": "vision"}
    assert as_maps.node_selector == {"disk": "ssd"}


@pytest.mark.parametrize(
    ("affinity", "field", "suggestion"),
    [
        ({"nodeAfinity": {}}, "affinity.nodeAfinity", '"nodeAffinity"'),
        ({"node_afinity": {}}, "affinity.node_afinity", '"node_affinity"'),
    ],
)
def test_a_typo_is_answered_in_its_own_spelling(
    affinity: dict[str, Any], field: str, suggestion: str
) -> None:
    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict({"affinity": affinity})

    assert caught.value.field == field
    assert str(caught.value).endswith(f"did you mean {suggestion}?")


@pytest.mark.parametrize("key", TOP_LEVEL_KEYS)
def test_none_means_not_set_for_every_top_level_key(key: str) -> None:
    spec = RunSpec.from_dict({key: None})

    assert spec == RunSpec()
    assert spec.to_dict() == {}


def test_env_set_to_none_beside_envs_is_not_a_conflict() -> None:
    spec = RunSpec.from_dict({"env": None, "envs": [{"name": "A", "value": "1"}]})

    assert spec.env == {"A": "1"}
