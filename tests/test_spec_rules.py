"""Every validation rule of the run spec, with good and bad cases.

Each bad case names the field path the error must carry and the sentence the
user must read, so a change to a message is a deliberate change to a test.
"""

from __future__ import annotations

from typing import Any

import pytest
from fixtures.specs import pvc

from dh_jupyter import RunSpec, SpecError

GOOD: list[dict[str, Any]] = (
    [
        {"resources": {"cpu": {"requests": q}}}
        for q in ("12", "500m", "0.5", "1e3", 2, 0.25)
    ]
    + [
        {"resources": {"mem": {"requests": q}}}
        for q in ("1.5Gi", "64Gi", "2G", "1e9", "128974848", "129e6", "123Mi", "0")
    ]
    + [
        {"resources": {"cpu": {"requests": "1", "limits": "1"}}},
        {"resources": {"cpu": {"requests": "500m", "limits": "2"}}},
        {"resources": {"mem": {"requests": "1Gi", "limits": "1024Mi"}}},
        {"resources": {"gpu": {"requests": "2", "limits": "2"}}},
        {"resources": {"gpu": {"limits": 4}}},
        {"volumes": [pvc(), pvc(name="more", mount_path="/more")]},
        {"volumes": [pvc(spec={"claim_name": "datasets", "read_only": True})]},
        {
            "volumes": [
                {
                    "volume_type": "empty_dir",
                    "name": "scratch",
                    "mount_path": "/scratch",
                    "spec": {"size_limit": "10Gi", "medium": ""},
                }
            ]
        },
        {"volumes": [{"volume_type": "empty_dir", "name": "s", "mount_path": "/s"}]},
        {"tolerations": [{"operator": "Exists"}]},
        {"tolerations": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]},
        {"tolerations": [{"key": "gpu", "value": "v100"}]},
        {
            "tolerations": [
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "toleration_seconds": 60,
                }
            ]
        },
        {"labels": [{"name": "example.com/team", "value": "vision"}]},
        {"labels": {"empty": ""}},
        {"node_selector": {"kubernetes.io/arch": "amd64"}},
        {"secrets": ["hf-token", "db.credentials"]},
        {"env": [{"name": "A_B", "value": "1"}, {"name": "lower.dots", "value": ""}]},
        {"env": {"NUMBER": 3}},
        {"image": "ghcr.io/acme/train:1.2"},
        {"namespace": "team-a"},
        {"timeout": 3600, "retries": 2, "ttl": 0},
        {"timeout": "1h30m", "ttl": "2d"},
        {"timeout": 2**63 - 1, "retries": 2**31 - 1, "ttl": 2**31 - 1},
        {"service_account": "runner", "priority_class": "high.priority"},
        {"image_pull_secrets": ["registry"]},
        {"queue": "team-a-queue", "gpu_type": "NVIDIA-A100-SXM4-40GB"},
    ]
)


@pytest.mark.parametrize("value", GOOD)
def test_good_spec_is_accepted_and_round_trips(value: dict[str, Any]) -> None:
    spec = RunSpec.from_dict(value)

    assert RunSpec.from_dict(spec.to_dict()) == spec


BAD: list[tuple[dict[str, Any], str, str]] = [
    # Quantities
    (
        {"resources": {"mem": {"requests": "64GB"}}},
        "resources.mem.requests",
        '"64GB" is not a Kubernetes quantity; did you mean "64G" or "64Gi"?',
    ),
    (
        {"resources": {"mem": {"limits": "1.5gi"}}},
        "resources.mem.limits",
        '"1.5gi" is not a Kubernetes quantity; did you mean "1.5Gi"?',
    ),
    (
        {"resources": {"mem": {"requests": "500m"}}},
        "resources.mem.requests",
        '"500m" is 500 milli-bytes, a fraction of a byte; did you mean "500Mi"?',
    ),
    (
        {"resources": {"mem": {"requests": "5u"}}},
        "resources.mem.requests",
        '"5u" is 5 micro-bytes, a fraction of a byte; memory is counted in bytes, '
        'so write it as "5Mi" or "5Gi".',
    ),
    (
        {"resources": {"mem": {"limits": "0.5n"}}},
        "resources.mem.limits",
        '"0.5n" is 0.5 nano-bytes, a fraction of a byte; memory is counted in '
        'bytes, so write it as "0.5Mi" or "0.5Gi".',
    ),
    (
        {"volumes": [pvc(volume_type="empty_dir", spec={"size_limit": "1m"})]},
        "volumes[0].spec.size_limit",
        '"1m" is 1 milli-byte, a fraction of a byte; did you mean "1Mi"?',
    ),
    (
        {"resources": {"cpu": {"requests": "-1"}}},
        "resources.cpu.requests",
        '"-1" is negative; a quantity must be 0 or more.',
    ),
    (
        {"resources": {"cpu": {"requests": "1K"}}},
        "resources.cpu.requests",
        '"1K" is not a Kubernetes quantity; did you mean "1k" or "1Ki"?',
    ),
    (
        {"resources": {"cpu": {"requests": "lots"}}},
        "resources.cpu.requests",
        '"lots" is not a Kubernetes quantity; write a number with an optional '
        'suffix such as "2", "500m", "4Gi" or "1e9".',
    ),
    (
        {"resources": {"cpu": {"requests": True}}},
        "resources.cpu.requests",
        'True is not a Kubernetes quantity; write it as a string such as "2", '
        '"500m" or "4Gi".',
    ),
    # Requests against limits
    (
        {"resources": {"cpu": {"requests": "4", "limits": "2"}}},
        "resources.cpu.requests",
        '"4" is more than the limit "2"; raise the limit or lower the request.',
    ),
    (
        {"resources": {"mem": {"requests": "2Gi", "limits": "1G"}}},
        "resources.mem.requests",
        '"2Gi" is more than the limit "1G"; raise the limit or lower the request.',
    ),
    # GPUs
    (
        {"resources": {"gpu": {"limits": "0.5"}}},
        "resources.gpu.limits",
        '"0.5" is not a whole number of GPUs; ask for 1, 2 or more.',
    ),
    (
        {"resources": {"gpu": {"requests": "500m"}}},
        "resources.gpu.requests",
        '"500m" is not a whole number of GPUs; ask for 1, 2 or more.',
    ),
    (
        {"resources": {"gpu": {"requests": "1", "limits": "2"}}},
        "resources.gpu.requests",
        '"1" differs from the limit "2"; GPUs cannot be shared, so set the request '
        "equal to the limit.",
    ),
    # Volumes
    (
        {"volumes": [pvc(name="Data_1")]},
        "volumes[0].name",
        '"Data_1" is not a valid name; use lower-case letters, digits and "-", '
        'starting and ending with a letter or digit, such as "data-1".',
    ),
    (
        {"volumes": [pvc(), pvc(mount_path="/other")]},
        "volumes[1].name",
        '"data" is already the name of volumes[0]; give each volume its own name.',
    ),
    (
        {"volumes": [pvc(), pvc(name="other")]},
        "volumes[1].mount_path",
        '"/data" is already where volumes[0] is mounted; mount each volume at its '
        "own path.",
    ),
    (
        {"volumes": [pvc(mount_path="data")]},
        "volumes[0].mount_path",
        '"data" is not an absolute path; start it with "/", such as "/data".',
    ),
    (
        {"volumes": [pvc(mount_path="/var/run/dh-jupyter")]},
        "volumes[0].mount_path",
        '"/var/run/dh-jupyter" is where dh_jupyter puts the cell\'s code; mount the '
        "volume somewhere else.",
    ),
    (
        {"volumes": [pvc(spec={})]},
        "volumes[0].spec.claim_name",
        'a persistent_volume_claim volume needs "spec.claim_name", the name of the '
        "object in Kubernetes; add it.",
    ),
    (
        {"volumes": [pvc(volume_type="config_map", spec={"claim_name": "x"})]},
        "volumes[0].spec.claim_name",
        'unknown key "claim_name"; the only key here is "name".',
    ),
    (
        {"volumes": [pvc(volume_type="secret", spec={})]},
        "volumes[0].spec.secret_name",
        'a secret volume needs "spec.secret_name", the name of the object in '
        "Kubernetes; add it.",
    ),
    (
        {"volumes": [pvc(volume_type="pvc")]},
        "volumes[0].volume_type",
        '"pvc" is not a volume type; did you mean "persistent_volume_claim"?',
    ),
    (
        {"volumes": [pvc(volume_type="empty_dir", spec={"medium": "Disk"})]},
        "volumes[0].spec.medium",
        '"Disk" is not a medium; leave it empty for the node\'s disk or use "Memory".',
    ),
    (
        {"volumes": [{"name": "data", "mount_path": "/data"}]},
        "volumes[0].volume_type",
        '"volume_type" is required and is missing.',
    ),
    # Tolerations
    (
        {"tolerations": [{"key": "gpu", "operator": "Equals"}]},
        "tolerations[0].operator",
        '"Equals" is not an operator; did you mean "Equal"?',
    ),
    (
        {"tolerations": [{"key": "gpu", "operator": "Exists", "value": "v100"}]},
        "tolerations[0].value",
        '"v100" is given with operator "Exists", which matches any value; remove '
        'the value or use operator "Equal".',
    ),
    (
        {"tolerations": [{"value": "v100"}]},
        "tolerations[0].key",
        'the key is empty, which only works with operator "Exists" (tolerate every '
        "taint); give a key or set the operator.",
    ),
    (
        {"tolerations": [{"key": "gpu", "effect": "NoSchedul"}]},
        "tolerations[0].effect",
        '"NoSchedul" is not a taint effect; did you mean "NoSchedule"?',
    ),
    (
        {
            "tolerations": [
                {"key": "gpu", "effect": "NoSchedule", "toleration_seconds": 5}
            ]
        },
        "tolerations[0].toleration_seconds",
        '5 only applies to the NoExecute effect; set effect "NoExecute" or remove '
        "toleration_seconds.",
    ),
    # Labels, node selectors, names
    (
        {"labels": {"bad key!": "x"}},
        "labels.bad key!",
        '"bad key!" is not a valid key; use letters, digits, "-", "_" and ".", '
        'starting and ending with a letter or digit, with an optional "prefix/" in '
        "front.",
    ),
    (
        {"labels": {"team": "-vision"}},
        "labels.team",
        '"-vision" is not a valid label value; use letters, digits, "-", "_" and '
        '".", starting and ending with a letter or digit.',
    ),
    (
        {"labels": [{"name": "team", "value": "bad!"}]},
        "labels[0].value",
        '"bad!" is not a valid label value; use letters, digits, "-", "_" and '
        '".", starting and ending with a letter or digit.',
    ),
    (
        {"node_selector": [{"key": "disk", "value": ["ssd"]}]},
        "node_selector[0].value",
        "['ssd'] is not a string; put the value in quotes.",
    ),
    (
        {"labels": {"app.kubernetes.io/managed-by": "me"}},
        "labels.app.kubernetes.io/managed-by",
        '"app.kubernetes.io/managed-by" is set by dh_jupyter itself to find its '
        "runs again; choose another key.",
    ),
    (
        {"node_selector": [{"key": "UPPER_/x", "value": "a"}]},
        "node_selector[0].key",
        '"UPPER_/x" has a bad prefix "UPPER_"; the part before "/" must be a DNS '
        'subdomain such as "example.com".',
    ),
    (
        {"secrets": "hf-token"},
        "secrets",
        '"hf-token" is a single name; write a list: ["hf-token"].',
    ),
    (
        {"secrets": ["HF_TOKEN"]},
        "secrets[0]",
        '"HF_TOKEN" is not a valid Kubernetes object name; use lower-case letters, '
        'digits, "-" and ".", starting and ending with a letter or digit, such as '
        '"hf-token".',
    ),
    # Environment
    (
        {"env": [{"name": "", "value": "x"}]},
        "env[0].name",
        'the name is empty; give the variable a name such as "MY_SETTING".',
    ),
    (
        {"env": [{"name": "MODE=fast"}]},
        "env[0].name",
        'the name contains "="; use the name "MODE" alone and put what follows "=" '
        'in "value".',
    ),
    (
        {"env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]},
        "env[1].name",
        '"A" is set twice; keep one.',
    ),
    (
        {"env": [{"name": "X", "value": None}]},
        "env[0].value",
        'the value of X is None, not a string; give a string such as "1" instead.',
    ),
    (
        {"envs": {"X": ["a"]}},
        "envs.X",
        'the value of X is a list, not a string; give a string such as "1" instead.',
    ),
    # Unknown keys
    (
        {"tolerationz": []},
        "tolerationz",
        'unknown key "tolerationz"; did you mean "tolerations"?',
    ),
    (
        {"resources": {"cpu": {"request": "1"}}},
        "resources.cpu.request",
        'unknown key "request"; did you mean "requests"?',
    ),
    (
        {"resources": {"memory": "1Gi"}},
        "resources.memory",
        'unknown key "memory"; did you mean "mem"?',
    ),
    (
        {"affinity": {"nodeAffinity": {"requiredDuringScheduling": {}}}},
        "affinity.nodeAffinity.requiredDuringScheduling",
        'unknown key "requiredDuringScheduling"; did you mean '
        '"requiredDuringSchedulingIgnoredDuringExecution"?',
    ),
    (
        {
            "affinity": {
                "node_affinity": {
                    "preferred_during_scheduling_ignored_during_execution": [
                        {"weight": 0, "preference": {}}
                    ]
                }
            }
        },
        "affinity.node_affinity.preferred_during_scheduling_ignored_during_execution"
        "[0].weight",
        "0 is not a weight; use a whole number from 1 to 100.",
    ),
    # Job options
    (
        {"timeout": 0},
        "timeout",
        '0 is not a duration; give seconds (1 or more) or text such as "90s", '
        '"30m" or "2h".',
    ),
    (
        {"retries": -1},
        "retries",
        "-1 is not a count; use a whole number, 0 or more.",
    ),
    (
        {"retries": 2**40},
        "retries",
        "1099511627776 is more than Kubernetes allows for retries; use at most "
        "2147483647.",
    ),
    (
        {"timeout": 10**20},
        "timeout",
        "100000000000000000000 is more than Kubernetes allows for timeout; use at "
        "most 9223372036854775807 seconds.",
    ),
    (
        {"ttl": 2**40},
        "ttl",
        "1099511627776 is more than Kubernetes allows for ttl; use at most "
        "2147483647 seconds.",
    ),
    (
        {"ttl": "30000d"},
        "ttl",
        '"30000d" is more than Kubernetes allows for ttl; use at most 2147483647 '
        "seconds.",
    ),
    (
        {
            "tolerations": [
                {"key": "a", "effect": "NoExecute", "tolerationSeconds": 2**63}
            ]
        },
        "tolerations[0].tolerationSeconds",
        "9223372036854775808 is more than Kubernetes allows for tolerationSeconds; "
        "use at most 9223372036854775807 seconds.",
    ),
    (
        {"namespace": "Team A"},
        "namespace",
        '"Team A" is not a valid name; use lower-case letters, digits and "-", '
        'starting and ending with a letter or digit, such as "team-a".',
    ),
    (
        {"image": "python 3"},
        "image",
        '"python 3" is not an image reference; write one such as "python:3.12-slim".',
    ),
    (
        {"queue": ""},
        "queue",
        "the value is empty; give a name or leave the field out.",
    ),
]


@pytest.mark.parametrize(
    ("value", "field", "problem"),
    BAD,
    ids=[f"{i}-{f}" for i, (_, f, _) in enumerate(BAD)],
)
def test_bad_spec_names_the_field_the_value_and_the_fix(
    value: dict[str, Any], field: str, problem: str
) -> None:
    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict(value)

    assert caught.value.field == field
    assert caught.value.problem == problem
    assert f"{field}: {problem}" in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(SpecError) as caught:
        RunSpec.from_dict(
            {
                "resources": {"mem": {"requests": "64GB"}, "cpu": {"request": "1"}},
                "volumes": [pvc(name="X"), pvc(mount_path="rel")],
                "tolerationz": [],
            }
        )

    fields = [error.field for error in caught.value.errors]
    assert fields == [
        "tolerationz",
        "volumes[0].name",
        "volumes[1].mount_path",
        "resources.mem.requests",
        "resources.cpu.request",
    ]
    assert str(caught.value).startswith("5 problems in the run spec:\n- tolerationz: ")


def test_spec_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="did you mean"):
        RunSpec.from_dict({"secretz": []})


def test_a_spec_that_is_not_a_mapping_is_rejected() -> None:
    with pytest.raises(SpecError, match="a run spec must be a dict"):
        RunSpec.from_dict(["cpu"])  # type: ignore[arg-type]


def test_gpu_request_without_limit_gets_the_same_limit() -> None:
    spec = RunSpec.from_dict({"resources": {"gpu": {"requests": "2"}}})

    assert spec.resources.gpu.limits == "2"
