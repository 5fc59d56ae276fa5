"""Affinity values the API server would refuse are caught, in the user's spelling.

The affinity's shape (its keys) was always checked; these cases cover its
values: operators that need values or forbid them, ``Gt``/``Lt`` numbers,
an empty ``nodeSelectorTerms``, bad label keys. Every error path and every
key named in a message is spelled as the user spelled the keys around it.
"""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from dh_jupyter import RunSpec, SpecError, build_job

VERSIONS = ("1.30", kubernetes_validate.latest_version())
REQUIRED = "requiredDuringSchedulingIgnoredDuringExecution"
TERMS = f"affinity.nodeAffinity.{REQUIRED}.nodeSelectorTerms"


def node_expression(**expression: Any) -> dict[str, Any]:
    return {
        "nodeAffinity": {
            REQUIRED: {"nodeSelectorTerms": [{"matchExpressions": [expression]}]}
        }
    }


def node_field(**expression: Any) -> dict[str, Any]:
    return {
        "nodeAffinity": {
            REQUIRED: {"nodeSelectorTerms": [{"matchFields": [expression]}]}
        }
    }


def pod_anti(**term: Any) -> dict[str, Any]:
    return {"podAntiAffinity": {REQUIRED: [term]}}


GOOD: list[dict[str, Any]] = [
    node_expression(key="zone", operator="In", values=["a", "b"]),
    node_expression(key="zone", operator="NotIn", values=("a",)),
    node_expression(key="example.com/gpu", operator="Exists"),
    node_expression(key="gpu", operator="DoesNotExist", values=[]),
    node_expression(key="cores", operator="Gt", values=["4"]),
    node_expression(key="cores", operator="Lt", values=["-1"]),
    node_field(key="metadata.name", operator="In", values=["node-1"]),
    pod_anti(
        topologyKey="kubernetes.io/hostname",
        labelSelector={"matchLabels": {"app": "train"}},
    ),
    pod_anti(
        topologyKey="zone",
        labelSelector={"matchExpressions": [{"key": "app", "operator": "Exists"}]},
        namespaces=("team-a",),
    ),
]


@pytest.mark.parametrize("affinity", GOOD)
def test_good_affinity_is_accepted_and_the_api_schema_takes_it(
    affinity: dict[str, Any],
) -> None:
    spec = RunSpec.from_dict({"affinity": affinity})
    job = build_job(spec, "", name="x")

    assert RunSpec.from_dict(spec.to_dict()) == spec
    for version in VERSIONS:
        kubernetes_validate.validate(job, version, strict=True)


EXPRESSION = f"{TERMS}[0].matchExpressions[0]"

BAD: list[tuple[dict[str, Any], str, str]] = [
    (
        node_expression(key="zone", operator="In"),
        f"{EXPRESSION}.values",
        'operator "In" needs at least one value to compare with; write "values": '
        '["a"], or use operator "Exists".',
    ),
    (
        node_expression(key="zone", operator="NotIn", values=[]),
        f"{EXPRESSION}.values",
        'operator "NotIn" needs at least one value to compare with; write "values": '
        '["a"], or use operator "DoesNotExist".',
    ),
    (
        node_expression(key="gpu", operator="Exists", values=["a"]),
        f"{EXPRESSION}.values",
        'operator "Exists" looks at the key alone and takes no values; remove '
        '"values", or use operator "In".',
    ),
    (
        node_expression(key="gpu", operator="DoesNotExist", values=["a"]),
        f"{EXPRESSION}.values",
        'operator "DoesNotExist" looks at the key alone and takes no values; remove '
        '"values", or use operator "NotIn".',
    ),
    (
        node_expression(key="cores", operator="Gt"),
        f"{EXPRESSION}.values",
        'operator "Gt" compares with exactly one whole number; write "values": ["4"].',
    ),
    (
        node_expression(key="cores", operator="Lt", values=["4", "8"]),
        f"{EXPRESSION}.values",
        'operator "Lt" compares with exactly one whole number; write "values": ["4"].',
    ),
    (
        node_expression(key="cores", operator="Gt", values=["4.5"]),
        f"{EXPRESSION}.values[0]",
        '"4.5" is not a whole number, which operator "Gt" needs; write one such '
        'as "4".',
    ),
    (
        node_expression(key="bad key!", operator="Exists"),
        f"{EXPRESSION}.key",
        '"bad key!" is not a valid key; use letters, digits, "-", "_" and ".", '
        'starting and ending with a letter or digit, with an optional "prefix/" in '
        "front.",
    ),
    (
        node_expression(key="zone", operator="In", values=["a b"]),
        f"{EXPRESSION}.values[0]",
        '"a b" is not a valid label value; use letters, digits, "-", "_" and ".", '
        "starting and ending with a letter or digit.",
    ),
    (
        {"nodeAffinity": {REQUIRED: {"nodeSelectorTerms": []}}},
        TERMS,
        "the list is empty, and an empty list matches no node; add a term such "
        'as {"matchExpressions": [...]}, or leave out '
        f'"{REQUIRED}".',
    ),
    (
        {
            "node_affinity": {
                "required_during_scheduling_ignored_during_execution": {
                    "node_selector_terms": ()
                }
            }
        },
        "affinity.node_affinity.required_during_scheduling_ignored_during_execution"
        ".node_selector_terms",
        "the list is empty, and an empty list matches no node; add a term such "
        'as {"match_expressions": [...]}, or leave out '
        '"required_during_scheduling_ignored_during_execution".',
    ),
    (
        node_field(key="metadata.labels", operator="In", values=["a"]),
        f"{TERMS}[0].matchFields[0].key",
        '"metadata.labels" is not a field nodes can be selected by; the only one '
        'is "metadata.name".',
    ),
    (
        node_field(key="metadata.name", operator="In", values=["a", "b"]),
        f"{TERMS}[0].matchFields[0].values",
        'operator "In" on a node field takes exactly one value, a node\'s name; '
        'write "values": ["node-1"].',
    ),
    (
        node_field(key="metadata.name", operator="Exists"),
        f"{TERMS}[0].matchFields[0].operator",
        '"Exists" is not an operator here; use one of In, NotIn.',
    ),
    (
        pod_anti(topologyKey=""),
        f"affinity.podAntiAffinity.{REQUIRED}[0].topologyKey",
        'the topology key is empty; use a node label such as "kubernetes.io/hostname".',
    ),
    (
        pod_anti(
            topologyKey="zone",
            labelSelector={"matchExpressions": [{"key": "app", "operator": "In"}]},
        ),
        f"affinity.podAntiAffinity.{REQUIRED}[0].labelSelector.matchExpressions[0]"
        ".values",
        'operator "In" needs at least one value to compare with; write "values": '
        '["a"], or use operator "Exists".',
    ),
    (
        pod_anti(topologyKey="zone", labelSelector={"matchLabels": {"app": "a b"}}),
        f"affinity.podAntiAffinity.{REQUIRED}[0].labelSelector.matchLabels.app",
        '"a b" is not a valid label value; use letters, digits, "-", "_" and ".", '
        "starting and ending with a letter or digit.",
    ),
    (
        pod_anti(labelSelector={"matchLabels": {"app": "train"}}),
        f"affinity.podAntiAffinity.{REQUIRED}[0].topologyKey",
        '"topologyKey" is required here and is missing.',
    ),
    (
        {
            "pod_anti_affinity": {
                "required_during_scheduling_ignored_during_execution": [
                    {"label_selector": {}}
                ]
            }
        },
        "affinity.pod_anti_affinity.required_during_scheduling_ignored_during_execution"
        "[0].topology_key",
        '"topology_key" is required here and is missing.',
    ),
    (
        {
            "nodeAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 5}]
            }
        },
        "affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0]"
        ".preference",
        '"preference" is required here and is missing.',
    ),
    (
        {"nodeAffinity": {REQUIRED: {"nodeSelectorTerms": "zone=a"}}},
        TERMS,
        '"zone=a" is not a list; write [...] here.',
    ),
]


@pytest.mark.parametrize(
    ("affinity", "field", "problem"),
    BAD,
    ids=[f"{index}-{field}" for index, (_, field, _) in enumerate(BAD)],
)
def test_bad_affinity_names_the_field_the_value_and_the_fix(
    affinity: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict({"affinity": affinity})

    assert [(e.field, e.problem) for e in caught.value.errors] == [(field, problem)]


@pytest.mark.parametrize(
    ("toleration", "field", "problem"),
    [
        (
            {"key": "a", "effect": "NoSchedule", "tolerationSeconds": 5},
            "tolerations[0].tolerationSeconds",
            '5 only applies to the NoExecute effect; set effect "NoExecute" or '
            "remove tolerationSeconds.",
        ),
        (
            {"key": "a", "effect": "NoExecute", "toleration_seconds": "5"},
            "tolerations[0].toleration_seconds",
            '"5" is not a whole number of seconds.',
        ),
        (
            {"Key": "a"},
            "tolerations[0].Key",
            'unknown key "Key"; did you mean "key"?',
        ),
    ],
)
def test_toleration_errors_are_spelled_as_the_user_spelled_the_key(
    toleration: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict({"tolerations": [toleration]})

    assert (caught.value.field, caught.value.problem) == (field, problem)
