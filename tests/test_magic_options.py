"""``%%dhrun`` flags reach every run-spec field, in a real IPython shell.

These tests use ``--dry-run``: the magic prints the objects it would create
and submits nothing, so what the flags did can be read from the YAML.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from dh_jupyter import RunSpec
from dh_jupyter.config import DhJupyter


def dry_run(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str], line: str
) -> dict[str, Any]:
    """The Job ``%%dhrun LINE --dry-run`` prints."""
    capsys.readouterr()
    shell.run_cell_magic("dhrun", f"{line} --dry-run", "print('hi')\n")
    config_map, job = yaml.safe_load_all(capsys.readouterr().out)
    assert config_map["kind"] == "ConfigMap"
    assert config_map["data"] == {"cell.py": "print('hi')\n"}
    return dict(job)


def pod(job: dict[str, Any]) -> dict[str, Any]:
    return dict(job["spec"]["template"]["spec"])


def container(job: dict[str, Any]) -> dict[str, Any]:
    return dict(pod(job)["containers"][0])


def test_resource_flags_become_requests_and_limits(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    job = dry_run(shell, capsys, "--cpu 500m:2 --mem 4Gi:8Gi --gpu 1")

    assert container(job)["resources"] == {
        "requests": {"cpu": "500m", "memory": "4Gi", "nvidia.com/gpu": "1"},
        "limits": {"cpu": "2", "memory": "8Gi", "nvidia.com/gpu": "1"},
    }


def test_volume_flags_become_volumes_and_mounts(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    job = dry_run(
        shell,
        capsys,
        "--volume pvc:datasets:/data:ro --volume configmap:cfg:/etc/cfg "
        "--volume secret:creds:/secrets --volume emptydir:/scratch:1Gi --shm 2Gi",
    )

    assert pod(job)["volumes"][:5] == [
        {
            "name": "datasets",
            "persistentVolumeClaim": {"claimName": "datasets", "readOnly": True},
        },
        {"name": "cfg", "configMap": {"name": "cfg"}},
        {"name": "creds", "secret": {"secretName": "creds"}},
        {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}},
        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}},
    ]
    assert container(job)["volumeMounts"][0] == {
        "name": "datasets",
        "mountPath": "/data",
        "readOnly": True,
    }


def test_scheduling_and_injection_flags_reach_the_pod(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    shell.user_ns["aff"] = {
        "node_affinity": {
            "required_during_scheduling_ignored_during_execution": {
                "node_selector_terms": [
                    {"match_expressions": [{"key": "zone", "operator": "Exists"}]}
                ]
            }
        }
    }

    job = dry_run(
        shell,
        capsys,
        "--env MODE=fast --env EMPTY= --secret hf-token "
        "--toleration nvidia.com/gpu=v100:NoSchedule --toleration spot "
        "--node-selector disk=ssd --label team=vision --affinity aff "
        "--gpu-type A100 --image python:3.12 --namespace team-a --timeout 2h "
        "--retries 2 --ttl 600 --queue team-q --service-account runner "
        "--image-pull-secret registry --priority-class high",
    )

    assert container(job)["env"] == [
        {"name": "MODE", "value": "fast"},
        {"name": "EMPTY", "value": ""},
    ]
    assert container(job)["envFrom"] == [{"secretRef": {"name": "hf-token"}}]
    assert container(job)["image"] == "python:3.12"
    assert pod(job)["tolerations"] == [
        {
            "key": "nvidia.com/gpu",
            "operator": "Equal",
            "value": "v100",
            "effect": "NoSchedule",
        },
        {"key": "spot", "operator": "Exists"},
    ]
    assert pod(job)["nodeSelector"] == {"disk": "ssd", "nvidia.com/gpu.product": "A100"}
    assert pod(job)["affinity"]["nodeAffinity"]
    assert pod(job)["serviceAccountName"] == "runner"
    assert pod(job)["imagePullSecrets"] == [{"name": "registry"}]
    assert pod(job)["priorityClassName"] == "high"
    assert job["spec"]["template"]["metadata"]["labels"]["team"] == "vision"
    assert job["metadata"]["namespace"] == "team-a"
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-q"
    assert job["spec"]["activeDeadlineSeconds"] == 7200
    assert job["spec"]["backoffLimit"] == 2
    assert job["spec"]["ttlSecondsAfterFinished"] == 600


def test_name_flag_is_the_readable_part_of_the_job_name(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    job = dry_run(shell, capsys, "--name 'Train ResNet'")

    assert job["metadata"]["name"].startswith("dhrun-train-resnet-")


QUOTED_ENV = [
    ('--env "A=b c"', "A", "b c"),
    ('--env A="b c"', "A", "b c"),
    (r"--env 'A=it'\''s'", "A", "it's"),
    ('--env A="quoted"', "A", "quoted"),
    ("--env 'A=\"kept\"'", "A", '"kept"'),
    ('--env A=""', "A", ""),
    ("--env 'A='", "A", ""),
    ("--env=A='x  y'", "A", "x  y"),
]


@pytest.mark.parametrize(
    ("line", "name", "value"), QUOTED_ENV, ids=[q[0] for q in QUOTED_ENV]
)
def test_quoted_values_are_read_like_a_shell_reads_them(
    shell: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    line: str,
    name: str,
    value: str,
) -> None:
    job = dry_run(shell, capsys, line)

    assert container(job)["env"] == [{"name": name, "value": value}]


def test_quoted_tolerations_names_and_images_lose_their_quotes(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    job = dry_run(
        shell,
        capsys,
        "--toleration 'k:NoSchedule' --toleration \"gpu=v100:NoExecute\" "
        "--name 'Train ResNet' --image \"python:3.12\" --node-selector 'disk=ssd'",
    )

    assert pod(job)["tolerations"] == [
        {"key": "k", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "gpu", "operator": "Equal", "value": "v100", "effect": "NoExecute"},
    ]
    assert job["metadata"]["name"].startswith("dhrun-train-resnet-")
    assert container(job)["image"] == "python:3.12"
    assert pod(job)["nodeSelector"] == {"disk": "ssd"}


def test_layers_merge_defaults_then_profile_then_spec_then_flags(
    shell: InteractiveShell,
    capsys: pytest.CaptureFixture[str],
    dh_settings: DhJupyter,
) -> None:
    dh_settings.defaults = {
        "resources": {"cpu": {"requests": "1"}, "mem": {"requests": "1Gi"}},
        "env": [{"name": "LAYER", "value": "defaults"}, {"name": "A", "value": "a"}],
    }
    dh_settings.profiles = {
        "big": {
            "resources": {"mem": {"requests": "8Gi"}},
            "env": [{"name": "LAYER", "value": "profile"}],
            "image": "profile:1",
        }
    }
    shell.user_ns["spec"] = RunSpec.from_dict(
        {"env": [{"name": "LAYER", "value": "spec"}], "image": "spec:1"}
    )

    job = dry_run(shell, capsys, "--profile big --spec spec --env LAYER=flag")

    assert container(job)["resources"]["requests"] == {"cpu": "1", "memory": "8Gi"}
    assert container(job)["image"] == "spec:1"
    assert container(job)["env"] == [
        {"name": "LAYER", "value": "flag"},
        {"name": "A", "value": "a"},
    ]


def test_spec_may_be_a_seed_dict_or_anything_carrying_a_spec(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    class Carrier:
        spec = RunSpec.from_dict({"resources": {"cpu": "3"}})

    shell.user_ns["spec"] = {"resources": {"cpu": "2"}}
    assert container(dry_run(shell, capsys, "--spec spec"))["resources"] == {
        "requests": {"cpu": "2"}
    }

    shell.user_ns["picker"] = Carrier()
    assert container(dry_run(shell, capsys, "--spec picker"))["resources"] == {
        "requests": {"cpu": "3"}
    }


BAD_LINES = [
    ("--cpus 2", "--cpus is not a %%dhrun flag; did you mean --cpu?"),
    (
        "--tolerations x",
        "--tolerations is not a %%dhrun flag; did you mean --toleration?",
    ),
    ("--cp 2", "--cp is not a %%dhrun flag; did you mean --cpu?"),
    (
        "--mem 64GB",
        'resources.mem.requests: "64GB" is not a Kubernetes quantity; did you mean '
        '"64G" or "64Gi"?',
    ),
    (
        "--cpu 4:2",
        'resources.cpu.requests: "4" is more than the limit "2"; raise the limit or '
        "lower the request.",
    ),
    (
        "--gpu 0.5",
        'resources.gpu.requests: "0.5" is not a whole number of GPUs; ask for 1, 2 '
        "or more.",
    ),
    (
        "--cpu 1:2:3",
        '--cpu: "1:2:3" has more than one ":"; write REQUEST or REQUEST:LIMIT.',
    ),
    (
        "--volume nfs:share:/data",
        '--volume: "nfs:share:/data" starts with "nfs", not a volume kind; did you '
        'mean "pvc:..."? The kinds are pvc, configmap, secret and emptydir.',
    ),
    ("--volume pvc:data", '--volume: "pvc:data" is not pvc:NAME:/PATH[:ro].'),
    (
        "--volume pvc:data:relative",
        'volumes[0].mount_path: "relative" is not an absolute path; start it with '
        '"/", such as "/relative".',
    ),
    (
        "--env MODE",
        "--env: the value given is not KEY=VALUE; write it as --env KEY=VALUE.",
    ),
    (
        "--toleration gpu:NoSchedul",
        'tolerations[0].effect: "NoSchedul" is not a taint effect; did you mean '
        '"NoSchedule"?',
    ),
    ("--retries many", '--retries: "many" is not a whole number; write 0, 1, 2 ...'),
    (
        "--timeout soon",
        'timeout: "soon" is not a duration; give seconds (1 or more) or text such as '
        '"90s", "30m" or "2h".',
    ),
    (
        "--secret HF_TOKEN",
        'secrets[0]: "HF_TOKEN" is not a valid Kubernetes object name; use lower-case '
        'letters, digits, "-" and ".", starting and ending with a letter or digit, '
        'such as "hf-token".',
    ),
    (
        "--spec nothing",
        '--spec: "nothing" is not a variable in this notebook; pass the name of a '
        "RunSpec, a run spec dict or a ResourcePicker.",
    ),
    (
        "--profile gpu",
        'profile: "gpu" is not a profile; the profiles are: none are configured.',
    ),
    ("--backend cloud", 'backend: "cloud" is not a backend; did you mean "auto"?'),
    (
        "stray",
        '"stray" is not a %%dhrun flag nor the value of one; quote a value that '
        "has spaces, as in --name 'Train ResNet'.",
    ),
    (
        "--name Train ResNet",
        '"ResNet" is not a %%dhrun flag nor the value of one; quote a value that '
        "has spaces, as in --name 'Train ResNet'.",
    ),
    (
        "print(1)",
        '"print(1)" is not a %%dhrun flag nor the value of one; the cell\'s code '
        "goes on the lines below %%dhrun, not on its line.",
    ),
    ("-cpu 2", "-cpu is not a %%dhrun flag; did you mean --cpu?"),
    ("--cpu", "--cpu needs a value, for example --cpu 2 or --cpu 500m:2."),
    ("--mem 1Gi --gpu", "--gpu needs a value, for example --gpu 1."),
    ("--detach=yes", "--detach takes no value; write --detach alone."),
    (
        "--name 'Train ResNet",
        "The ' quote after --name in this %%dhrun line is never closed; close "
        "it, as in --name 'Train ResNet'.",
    ),
    (
        '--env "A=b c',
        'The " quote after --env in this %%dhrun line is never closed; close it, '
        "as in --name 'Train ResNet'.",
    ),
    (
        "--cpu 2 \\",
        "This %%dhrun line ends with a lone backslash after --cpu; remove it, or "
        "write \\\\ for a backslash.",
    ),
    (
        '--image ""',
        'image: "" is not an image reference; write one such as "python:3.12-slim".',
    ),
    (
        "--name ''",
        "--name is empty; give a readable name such as --name train, or leave the "
        "flag out to name the run after the notebook.",
    ),
    ("--cpu ''", '--cpu: "" is empty; write REQUEST or REQUEST:LIMIT.'),
]


@pytest.mark.parametrize(("line", "message"), BAD_LINES, ids=[b[0] for b in BAD_LINES])
def test_bad_flags_raise_usage_error_with_one_sentence(
    shell: InteractiveShell, line: str, message: str
) -> None:
    shell.user_ns.pop("nothing", None)

    with pytest.raises(UsageError) as caught:
        shell.run_cell_magic("dhrun", line, "print('hi')\n")

    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("asked", "usage"),
    [
        ("%%dhrun?", "  %%dhrun [--cpu REQUEST[:LIMIT]]"),
        ("%dhlogs?", "  %dhlogs [--follow] [--backend BACKEND] NAME"),
        ("%dhcancel?", "  %dhcancel [--backend BACKEND] NAME"),
        ("%dhjobs?", "  %dhjobs [--backend BACKEND]"),
    ],
)
def test_asking_for_help_shows_the_usage_as_the_user_types_it(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str], asked: str, usage: str
) -> None:
    result = shell.run_cell(asked)

    assert result.success
    out = capsys.readouterr().out
    assert any(line.startswith(usage) for line in out.splitlines())
    assert "Example" in out


def test_the_help_is_complete_with_examples(shell: InteractiveShell) -> None:
    magic = shell.find_cell_magic("dhrun")
    assert magic is not None
    help_text = magic.__doc__ or ""

    assert "Examples::" in help_text
    assert "\n  %%dhrun [--cpu REQUEST[:LIMIT]]" in help_text
    for flag in (
        "--cpu",
        "--mem",
        "--gpu",
        "--volume",
        "--toleration",
        "--dry-run",
        "--detach",
        "--spec",
        "--profile",
        "--backend",
        "--out",
        "--shm",
    ):
        assert flag in help_text
