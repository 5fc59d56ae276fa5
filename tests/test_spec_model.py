"""A ``RunSpec`` is checked however it is made, and shares nothing with its outputs.

The constructor, ``dataclasses.replace`` and ``from_dict`` all run the same
rules, so a spec that exists is a spec that renders. Dicts passed in or
handed out (``to_dict``, the Job) are copies: changing one never changes the
spec.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from dh_jupyter import RunSpec, SpecError, build_job
from dh_jupyter.spec import Resource, Resources, Toleration, Volume

AFFINITY: dict[str, Any] = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {
                    "matchExpressions": [
                        {"key": "zone", "operator": "In", "values": ["a"]}
                    ]
                }
            ]
        }
    }
}


@pytest.mark.parametrize(
    ("build", "field", "message"),
    [
        (
            lambda: RunSpec(resources=Resources(mem=Resource("64GB"))),
            "resources.mem.requests",
            '"64GB" is not a Kubernetes quantity; did you mean "64G" or "64Gi"?',
        ),
        (
            lambda: RunSpec(
                volumes=(Volume("persistent_volume_claim", "data", "/data", {}),)
            ),
            "volumes[0].spec.claim_name",
            'a persistent_volume_claim volume needs "spec.claim_name", the name of '
            "the object in Kubernetes; add it.",
        ),
        (
            lambda: RunSpec(tolerations=(Toleration(key="gpu", operator="Exist"),)),
            "tolerations[0].operator",
            '"Exist" is not an operator; did you mean "Exists"?',
        ),
        (
            lambda: RunSpec(namespace="Team_A"),
            "namespace",
            '"Team_A" is not a valid name; use lower-case letters, digits and "-", '
            'starting and ending with a letter or digit, such as "team-a".',
        ),
        (
            lambda: RunSpec(retries=-1),
            "retries",
            "-1 is not a count; use a whole number, 0 or more.",
        ),
        (
            lambda: dataclasses.replace(RunSpec(), timeout=0),
            "timeout",
            '0 is not a duration; give seconds (1 or more) or text such as "90s", '
            '"30m" or "2h".',
        ),
    ],
    ids=["quantity", "claim name", "toleration", "namespace", "retries", "replace"],
)
def test_a_spec_built_directly_is_checked_like_one_from_a_dict(
    build: Any, field: str, message: str
) -> None:
    with pytest.raises(SpecError) as caught:
        build()

    assert (caught.value.field, caught.value.problem) == (field, message)


def test_a_spec_built_directly_equals_the_same_spec_from_a_dict() -> None:
    built = RunSpec(
        volumes=(Volume("empty_dir", "scratch", "/scratch"),),
        resources=Resources(gpu=Resource("1")),
        env={"EPOCHS": 3},  # type: ignore[dict-item]
    )

    assert built == RunSpec.from_dict(
        {
            "volumes": [
                {
                    "volume_type": "empty_dir",
                    "name": "scratch",
                    "mount_path": "/scratch",
                }
            ],
            "resources": {"gpu": {"requests": "1", "limits": "1"}},
            "env": [{"name": "EPOCHS", "value": "3"}],
        }
    )


def test_changing_the_job_does_not_change_the_spec() -> None:
    spec = RunSpec.from_dict({"affinity": AFFINITY, "node_selector": {"disk": "ssd"}})
    job = build_job(spec, "", name="run")
    pod = job["spec"]["template"]["spec"]

    terms = pod["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]["nodeSelectorTerms"]
    terms.append({"matchExpressions": []})
    pod["nodeSelector"]["disk"] = "hdd"

    assert spec == RunSpec.from_dict(
        {"affinity": AFFINITY, "node_selector": {"disk": "ssd"}}
    )


def test_changing_to_dict_does_not_change_the_spec() -> None:
    spec = RunSpec.from_dict({"affinity": AFFINITY})

    spec.to_dict()["affinity"]["nodeAffinity"].clear()

    assert spec.affinity == AFFINITY


@pytest.mark.parametrize("via", ["from_dict", "constructor"])
def test_changing_the_dict_given_does_not_change_the_spec(via: str) -> None:
    given = copy.deepcopy(AFFINITY)
    spec = (
        RunSpec.from_dict({"affinity": given})
        if via == "from_dict"
        else RunSpec(affinity=given)
    )

    given["nodeAffinity"].clear()

    assert spec.affinity == AFFINITY
