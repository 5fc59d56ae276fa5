"""The resource picker, driven through its widgets' values like a user would.

Each test types into the stock widgets (setting ``control.value`` is what a
keystroke does to the kernel's side of a widget) and reads what the user
would see: the problem beside the field, the Submit button, the preview and
``picker.spec`` / ``picker.run_kwargs``. Every expected message comes from
the spec layer itself, so the form can never drift from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_widgets_monitor import ScriptedRun
from traitlets import TraitError

from dh_jupyter.config import DhJupyter
from dh_jupyter.runs.base import Backend, Run
from dh_jupyter.runs.select import Choice
from dh_jupyter.runs.status import Phase
from dh_jupyter.spec import RunSpec, SpecError
from dh_jupyter.spec.parse import SEED_KEYS
from dh_jupyter.widgets.fields import Field
from dh_jupyter.widgets.picker import (
    KEPT_MONITORS,
    NO_PROFILE,
    ResourcePicker,
)
from dh_jupyter.widgets.volumes import VolumeRow


def make(spec: Any = None, **kwargs: Any) -> ResourcePicker:
    """A picker on a configuration of its own, outside any IPython shell."""
    kwargs.setdefault("config", DhJupyter())
    return ResourcePicker(spec, **kwargs)


def type_into(field: Field, text: Any) -> None:
    """What a user's typing does to the widget's value in the kernel."""
    field.control.value = text


def spec_problem(value: dict[str, Any]) -> SpecError:
    """The spec layer's first problem with ``value``."""
    with pytest.raises(SpecError) as raised:
        RunSpec.from_dict(value)
    return raised.value.errors[0]


def shown(picker: ResourcePicker) -> dict[str, str]:
    """Every problem beside a field, by the field's path."""
    return {
        field.path: field.problem
        for section in picker.sections
        for field in section.all_fields()
        if field.problem
    }


# The empty form


def test_a_new_picker_is_a_valid_empty_spec_with_a_preview() -> None:
    picker = make()

    assert picker.valid
    assert picker.spec == RunSpec()
    assert picker.run_kwargs == {}
    job = yaml.safe_load(picker.preview.text)
    assert job["kind"] == "Job"
    assert not picker.preview.stale


def test_the_preview_names_the_job_after_the_notebook_as_submit_will(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/ada/Train Model.ipynb")

    picker = make()

    job = yaml.safe_load(picker.preview.text)
    assert job["metadata"]["name"] == "dhrun-train-model-xxxxx"


def test_submit_is_off_without_code_and_says_how_to_give_it() -> None:
    picker = make()

    assert picker.submit_button.disabled
    assert "no code to run" in picker.submit_button.tooltip
    assert "ResourcePicker(code=...)" in picker._submit_note.value

    picker.code = "print('hi')"

    assert not picker.submit_button.disabled
    assert picker.submit_button.description == "Submit"


def test_the_form_is_one_vbox_of_stock_widgets_with_a_tab_per_section() -> None:
    picker = make()

    assert [picker.tabs.get_title(i) for i in range(5)] == [
        "Resources",
        "Volumes",
        "Environment",
        "Scheduling",
        "Job",
    ]
    assert picker.tabs.children == picker.sections


@pytest.mark.parametrize(
    ("typed", "titles"),
    [
        ({}, ["Resources", "Volumes", "Environment", "Scheduling", "Job"]),
        (
            {("cpu", "requests"): "lots"},
            ["⚠ Resources (1)", "Volumes", "Environment", "Scheduling", "Job"],
        ),
        (
            {("cpu", "requests"): "lots", ("mem", "limits"): "64GB", "retries": "x"},
            [
                "⚠ Resources (2)",
                "Volumes",
                "Environment",
                "Scheduling",
                "⚠ Job (1)",
            ],
        ),
    ],
)
def test_a_tab_title_says_how_many_problems_its_hidden_fields_have(
    typed: dict[Any, str], titles: list[str]
) -> None:
    picker = make(code="pass")

    for where, text in typed.items():
        if isinstance(where, tuple):
            type_into(picker.resources.quantities[where], text)
        else:
            type_into(picker.options.fields[where], text)

    assert list(picker.tabs.titles) == titles


def test_a_tab_title_loses_its_mark_once_the_problem_is_fixed() -> None:
    picker = make()
    picker.volumes.volumes.add()
    assert picker.tabs.get_title(1) == "⚠ Volumes (3)"

    picker.volumes.volumes.rows[0].remove_button.click()

    assert picker.tabs.get_title(1) == "Volumes"


# Resources


@pytest.mark.parametrize(
    ("kind", "key", "text", "note"),
    [
        ("cpu", "requests", "500m", "= 0.5 CPU"),
        ("cpu", "limits", "2", "= 2 CPUs"),
        ("mem", "requests", "16Gi", "= 16 GiB (17.2 GB)"),
        ("mem", "limits", "1e9", "= 954 MiB (1 GB)"),
        ("gpu", "limits", "1", "= 1 GPU"),
        ("mem", "requests", "64GB", ""),
    ],
)
def test_a_quantity_shows_its_converted_value_beside_it(
    kind: str, key: str, text: str, note: str
) -> None:
    picker = make()
    field = picker.resources.quantities[kind, key]

    type_into(field, text)

    assert field.note == note


def test_cpu_memory_and_gpu_become_the_seed_resources() -> None:
    picker = make()
    values = {
        ("cpu", "requests"): "500m",
        ("cpu", "limits"): "2",
        ("mem", "requests"): "8Gi",
        ("mem", "limits"): "16Gi",
        ("gpu", "limits"): "1",
    }

    for where, text in values.items():
        type_into(picker.resources.quantities[where], text)
    type_into(picker.resources.gpu_type, "NVIDIA-A100")

    assert picker.run_kwargs == {
        "resources": {
            "cpu": {"requests": "500m", "limits": "2"},
            "mem": {"requests": "8Gi", "limits": "16Gi"},
            "gpu": {"limits": "1"},
        },
        # The SDK has no GPU model key; the node selector is what it means.
        "node_selector": {"nvidia.com/gpu.product": "NVIDIA-A100"},
    }
    assert picker.spec.gpu_type == "NVIDIA-A100"
    job = yaml.safe_load(picker.preview.text)
    pod = job["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-A100"}
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"


# Validation as you type


FIELD_CASES = [
    (("resources", "cpu", "requests"), "lots", {"resources": {"cpu": "lots"}}),
    (("resources", "mem", "requests"), "64GB", {"resources": {"mem": "64GB"}}),
    (("resources", "gpu", "limits"), "1.5", {"resources": {"gpu": {"limits": "1.5"}}}),
    (("options", "timeout"), "soon", {"timeout": "soon"}),
    (("options", "retries"), "-1", {"retries": "-1"}),
    (("options", "ttl"), "a week", {"ttl": "a week"}),
    (("options", "namespace"), "Team_A", {"namespace": "Team_A"}),
    (("options", "image"), "my image", {"image": "my image"}),
    (("options", "service_account"), "Not Valid", {"service_account": "Not Valid"}),
    (("options", "queue"), "-bad-", {"queue": "-bad-"}),
]


def _field(picker: ResourcePicker, where: tuple[str, ...]) -> Field:
    if where[0] == "resources":
        return picker.resources.quantities[where[1], where[2]]
    return picker.options.fields[where[1]]


@pytest.mark.parametrize(("where", "text", "seed"), FIELD_CASES)
def test_a_bad_value_shows_the_spec_layers_sentence_beside_its_field(
    where: tuple[str, ...], text: str, seed: dict[str, Any]
) -> None:
    picker = make(code="pass")
    field = _field(picker, where)

    type_into(field, text)

    expected = spec_problem(seed)
    assert field.problem == expected.problem
    assert shown(picker) == {expected.field: expected.problem}
    assert not picker.valid
    assert picker.preview.stale


def test_a_bad_value_turns_submit_off_and_the_button_says_why() -> None:
    picker = make(code="pass")
    field = picker.resources.quantities["mem", "requests"]

    type_into(field, "64GB")

    button = picker.submit_button
    assert button.disabled
    assert button.description == "Fix 1 problem to submit"
    assert field.problem in button.tooltip
    assert field.problem in picker._submit_note.value
    with pytest.raises(SpecError, match="64GB"):
        _ = picker.spec

    type_into(field, "64Gi")

    assert not button.disabled
    assert field.problem == ""
    assert picker.spec.resources.mem.requests == "64Gi"


def test_every_problem_of_the_form_is_counted_and_raised_together() -> None:
    picker = make(code="pass")

    type_into(picker.resources.quantities["cpu", "requests"], "4")
    type_into(picker.resources.quantities["cpu", "limits"], "2")
    type_into(picker.options.fields["retries"], "many")

    assert len(picker.problems) == 2
    assert picker.submit_button.description == "Fix 2 problems to submit"
    with pytest.raises(SpecError) as raised:
        _ = picker.spec
    assert {e.field for e in raised.value.errors} == {
        "resources.cpu.requests",
        "retries",
    }


def test_a_gpu_model_that_contradicts_the_node_selector_is_shown_beside_it() -> None:
    picker = make(code="pass")
    row = picker.scheduling.node_selector.add()

    type_into(row.fields["key"], "nvidia.com/gpu.product")
    type_into(row.fields["value"], "T4")
    type_into(picker.resources.gpu_type, "A100")

    assert "contradicts node_selector" in picker.resources.gpu_type.problem
    assert not picker.valid


# Volumes


VOLUME_CASES = [
    (
        "persistent_volume_claim",
        {"claim_name": "datasets", "read_only": True},
        {"claim_name": "datasets", "read_only": True},
    ),
    ("config_map", {"name": "settings"}, {"name": "settings"}),
    ("secret", {"secret_name": "hf-token"}, {"secret_name": "hf-token"}),
    (
        "empty_dir",
        {"size_limit": "1Gi", "medium": "Memory"},
        {"size_limit": "1Gi", "medium": "Memory"},
    ),
]


@pytest.mark.parametrize(("kind", "typed", "spec"), VOLUME_CASES)
def test_a_volume_row_shows_only_its_types_fields_and_becomes_a_seed_volume(
    kind: str, typed: dict[str, Any], spec: dict[str, Any]
) -> None:
    picker = make()
    row = picker.volumes.volumes.add()
    assert isinstance(row, VolumeRow)

    type_into(row.volume_type, kind)
    for key, value in typed.items():
        type_into(row.by_type[kind][key], value)
    type_into(row.name, "vol")
    type_into(row.mount_path, "/mnt/vol")

    visible = {
        key
        for own in row.by_type.values()
        for key, field in own.items()
        if field.layout.display != "none"
    }
    assert visible == set(row.by_type[kind])
    assert picker.run_kwargs["volumes"] == [
        {"volume_type": kind, "name": "vol", "mount_path": "/mnt/vol", "spec": spec}
    ]


def test_an_unnamed_volume_is_named_after_the_claim_chosen() -> None:
    picker = make()
    row = picker.volumes.volumes.add()
    assert isinstance(row, VolumeRow)

    type_into(row.by_type["persistent_volume_claim"]["claim_name"], "Datasets_2024")

    assert row.name.control.value == "datasets-2024"

    type_into(row.by_type["persistent_volume_claim"]["claim_name"], "models")

    assert row.name.control.value == "models"


def test_a_new_volume_row_says_what_it_still_needs_beside_each_field() -> None:
    picker = make()

    picker.volumes.volumes.add()

    assert set(shown(picker)) == {
        "volumes[0].name",
        "volumes[0].mount_path",
        "volumes[0].spec.claim_name",
    }


def test_removing_a_volume_row_moves_the_next_rows_problems_with_it() -> None:
    picker = make()
    rows = picker.volumes.volumes
    first = rows.add(
        {
            "volume_type": "empty_dir",
            "name": "scratch",
            "mount_path": "/scratch",
            "spec": {},
        }
    )
    second = rows.add(
        {"volume_type": "empty_dir", "name": "cache", "mount_path": "cache"}
    )
    assert isinstance(second, VolumeRow)
    assert second.mount_path.path == "volumes[1].mount_path"
    assert second.mount_path.problem

    first.remove_button.click()

    assert rows.count == 1
    assert second.mount_path.path == "volumes[0].mount_path"
    expected = spec_problem(
        {
            "volumes": [
                {"volume_type": "empty_dir", "name": "cache", "mount_path": "cache"}
            ]
        }
    )
    assert shown(picker) == {"volumes[0].mount_path": expected.problem}


def test_clicking_add_volume_adds_a_row_and_two_volumes_at_one_path_clash() -> None:
    picker = make()
    picker.volumes.volumes.add_button.click()
    picker.volumes.volumes.add_button.click()

    for index, row in enumerate(picker.volumes.volumes.rows):
        assert isinstance(row, VolumeRow)
        type_into(row.volume_type, "empty_dir")
        type_into(row.name, f"v{index}")
        type_into(row.mount_path, "/same")

    assert list(shown(picker)) == ["volumes[1].mount_path"]
    assert "already where volumes[0] is mounted" in picker.problems[0]


# Environment and secrets


def test_variables_and_secrets_become_env_and_secrets() -> None:
    picker = make()
    variable = picker.environment.env.add()
    secret = picker.environment.secrets.add()

    type_into(variable.fields["name"], "MODE")
    type_into(variable.fields["value"], " fast ")
    type_into(secret.fields[""], "hf-token")

    assert picker.run_kwargs == {
        "env": [{"name": "MODE", "value": " fast "}],
        "secrets": ["hf-token"],
    }
    container = yaml.safe_load(picker.preview.text)["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert container["envFrom"] == [{"secretRef": {"name": "hf-token"}}]


@pytest.mark.parametrize(
    ("rows", "key", "text", "seed"),
    [
        ("env", "name", "MODE=fast", {"env": [{"name": "MODE=fast"}]}),
        ("secrets", "", "Bad_Secret", {"secrets": ["Bad_Secret"]}),
    ],
)
def test_a_bad_variable_or_secret_name_is_shown_beside_it(
    rows: str, key: str, text: str, seed: dict[str, Any]
) -> None:
    picker = make()
    row = getattr(picker.environment, rows).add()

    type_into(row.fields[key], text)

    expected = spec_problem(seed)
    assert shown(picker) == {expected.field: expected.problem}


# Scheduling


def test_tolerations_selector_and_labels_become_the_seed_keys() -> None:
    picker = make()
    toleration = picker.scheduling.tolerations.add()
    selector = picker.scheduling.node_selector.add()
    label = picker.scheduling.labels.add()

    type_into(toleration.fields["key"], "nvidia.com/gpu")
    type_into(toleration.fields["operator"], "Exists")
    type_into(toleration.fields["effect"], "NoSchedule")
    type_into(selector.fields["key"], "kubernetes.io/arch")
    type_into(selector.fields["value"], "amd64")
    type_into(label.fields["name"], "team")
    type_into(label.fields["value"], "vision")

    assert picker.run_kwargs == {
        "tolerations": [
            {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
        ],
        "node_selector": {"kubernetes.io/arch": "amd64"},
        "labels": [{"name": "team", "value": "vision"}],
    }


def test_toleration_seconds_without_no_execute_is_shown_beside_the_seconds() -> None:
    picker = make()
    row = picker.scheduling.tolerations.add()

    type_into(row.fields["key"], "node.kubernetes.io/unreachable")
    type_into(row.fields["toleration_seconds"], "60")

    expected = spec_problem(
        {
            "tolerations": [
                {"key": "node.kubernetes.io/unreachable", "toleration_seconds": 60}
            ]
        }
    )
    assert shown(picker) == {"tolerations[0].toleration_seconds": expected.problem}


AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {
                    "matchExpressions": [
                        {
                            "key": "topology.kubernetes.io/zone",
                            "operator": "In",
                            "values": ["eu-west-1a"],
                        }
                    ]
                }
            ]
        }
    }
}


def test_affinity_typed_as_yaml_reaches_the_pod() -> None:
    picker = make()

    type_into(picker.scheduling.affinity, yaml.safe_dump(AFFINITY))

    assert picker.spec.affinity == AFFINITY
    pod = yaml.safe_load(picker.preview.text)["spec"]["template"]["spec"]
    assert pod["affinity"] == AFFINITY


def test_yaml_that_does_not_parse_is_shown_beside_the_affinity() -> None:
    picker = make()

    type_into(picker.scheduling.affinity, "nodeAffinity: [\n")

    assert list(shown(picker)) == ["affinity"]
    assert picker.scheduling.affinity.problem.startswith(
        "the YAML does not parse at line 2, column 1:"
    )
    assert picker.scheduling.affinity.problem.endswith("fix it or clear the field.")


@pytest.mark.parametrize(
    "text", ["nodeAfinity: {}\n", "- a list\n", "podAffinity: {weight: 2}\n"]
)
def test_an_affinity_the_spec_refuses_is_shown_beside_the_affinity(text: str) -> None:
    picker = make()

    type_into(picker.scheduling.affinity, text)

    expected = spec_problem({"affinity": yaml.safe_load(text)})
    assert list(shown(picker)) == ["affinity"]
    assert picker.scheduling.affinity.problem == expected.problem


# The Job section


def test_job_options_become_the_seed_options() -> None:
    picker = make()
    typed = {
        "image": "python:3.12-slim",
        "namespace": "team-a",
        "timeout": "2h",
        "retries": "2",
        "ttl": "3600",
        "queue": "gpu-queue",
        "service_account": "runner",
        "priority_class": "high",
    }

    for name, text in typed.items():
        type_into(picker.options.fields[name], text)
    pull = picker.options.image_pull_secrets.add()
    type_into(pull.fields[""], "registry")

    assert picker.spec.to_dict() == {
        "image": "python:3.12-slim",
        "namespace": "team-a",
        "timeout": 7200,
        "retries": 2,
        "ttl": 3600,
        "queue": "gpu-queue",
        "service_account": "runner",
        "priority_class": "high",
        "image_pull_secrets": ["registry"],
    }
    assert picker.options.fields["timeout"].note == "= 2 h 0 min 0 s"
    job = yaml.safe_load(picker.preview.text)
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "gpu-queue"
    assert job["spec"]["activeDeadlineSeconds"] == 7200


def test_run_kwargs_leave_the_job_options_to_the_spec_and_the_job_tab_says_so(
    shell: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    picker = make()
    note = picker.options.kept_note
    assert note.value == ""

    type_into(picker.resources.quantities["cpu", "requests"], "1")
    type_into(picker.options.fields["timeout"], "2h")
    type_into(picker.options.fields["queue"], "team-queue")

    assert picker.run_kwargs == {"resources": {"cpu": {"requests": "1"}}}
    assert set(picker.run_kwargs) <= set(SEED_KEYS)
    assert (picker.spec.timeout, picker.spec.queue) == (7200, "team-queue")
    for words in ("timeout, queue", "picker.spec", "%%dhrun --spec picker"):
        assert words in note.value
    assert "picker.run_kwargs leaves them out" in note.value

    # %%dhrun --spec picker keeps them: they reach the Job.
    shell.user_ns["picker"] = picker
    capsys.readouterr()
    shell.run_cell_magic("dhrun", "--spec picker --dry-run", "pass\n")
    _config_map, job = yaml.safe_load_all(capsys.readouterr().out)
    assert job["spec"]["activeDeadlineSeconds"] == 7200
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "team-queue"

    type_into(picker.options.fields["timeout"], "")
    type_into(picker.options.fields["queue"], "")

    assert note.value == ""


def test_empty_options_say_what_the_configured_default_is() -> None:
    config = DhJupyter(default_image="ghcr.io/acme/nb:1", namespace="team-b")
    picker = make(config=config)

    assert "ghcr.io/acme/nb:1" in picker.options.fields["image"].control.placeholder
    assert "team-b" in picker.options.fields["namespace"].control.placeholder
    job = yaml.safe_load(picker.preview.text)
    assert job["metadata"]["namespace"] == "team-b"
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == (
        "ghcr.io/acme/nb:1"
    )


def test_the_preview_lays_the_configured_defaults_under_the_form() -> None:
    config = DhJupyter(defaults={"resources": {"mem": {"requests": "1Gi"}}})
    picker = make(config=config)

    type_into(picker.resources.quantities["cpu", "requests"], "1")

    assert picker.run_kwargs == {"resources": {"cpu": {"requests": "1"}}}
    requests = yaml.safe_load(picker.preview.text)["spec"]["template"]["spec"][
        "containers"
    ][0]["resources"]["requests"]
    assert requests == {"cpu": "1", "memory": "1Gi"}


# Profiles


PROFILES = {
    "gpu-v100": {
        "resources": {"gpu": {"limits": 1}, "mem": {"requests": "16Gi"}},
        "tolerations": [
            {
                "key": "nvidia.com/gpu",
                "operator": "Equal",
                "value": "v100",
                "effect": "NoSchedule",
            }
        ],
    },
    "small": {"resources": {"cpu": {"requests": "250m"}}},
}


def test_the_profiles_dropdown_lists_the_configured_profiles() -> None:
    picker = make(config=DhJupyter(profiles=PROFILES))

    values = [value for _, value in picker.profile_dropdown.options]

    assert values == ["", "gpu-v100", "small"]


def test_choosing_a_profile_fills_the_form_and_any_field_can_be_changed() -> None:
    picker = make(config=DhJupyter(profiles=PROFILES))

    picker.profile_dropdown.value = "gpu-v100"

    assert picker.profile == "gpu-v100"
    assert picker.spec == RunSpec.from_dict(PROFILES["gpu-v100"])
    mem = picker.resources.quantities["mem", "requests"]
    assert mem.control.value == "16Gi"

    type_into(mem, "32Gi")

    assert picker.spec.resources.mem.requests == "32Gi"
    assert (
        picker.spec.tolerations == RunSpec.from_dict(PROFILES["gpu-v100"]).tolerations
    )


def test_choosing_another_profile_replaces_the_first_ones_fields() -> None:
    picker = make(config=DhJupyter(profiles=PROFILES), profile="gpu-v100")

    picker.profile = "small"

    assert picker.spec == RunSpec.from_dict(PROFILES["small"])


def test_a_spec_given_with_a_profile_is_laid_over_the_profile() -> None:
    given = {"resources": {"cpu": {"requests": "3"}}}

    picker = make(given, config=DhJupyter(profiles=PROFILES), profile="gpu-v100")

    # The order %%dhrun --profile gpu-v100 --spec uses: profile, then spec.
    profile = RunSpec.from_dict(PROFILES["gpu-v100"])
    assert picker.spec == profile.merged(RunSpec.from_dict(given))
    assert picker.spec.resources.cpu.requests == "3"
    assert picker.spec.resources.mem.requests == "16Gi"
    assert picker.spec.tolerations == profile.tolerations
    assert picker.profile == "gpu-v100"


def test_loading_a_spec_clears_the_profile_the_form_no_longer_holds() -> None:
    picker = make(config=DhJupyter(profiles=PROFILES), profile="small")

    picker.load({"resources": {"mem": {"requests": "1Gi"}}})

    assert picker.profile == ""
    assert picker.profile_dropdown.value == ""
    assert picker.profile_dropdown.label == NO_PROFILE
    assert picker.spec == RunSpec.from_dict({"resources": {"mem": {"requests": "1Gi"}}})


def test_an_unknown_profile_is_refused_naming_the_closest() -> None:
    picker = make(config=DhJupyter(profiles=PROFILES))

    with pytest.raises(TraitError, match='did you mean "small"'):
        picker.profile = "smal"


# Two-way: RunSpec in, RunSpec out


SEED = {
    "volumes": [
        {
            "volume_type": "persistent_volume_claim",
            "name": "data",
            "mount_path": "/data",
            "spec": {"claim_name": "datasets", "read_only": False},
        },
        {
            "volume_type": "empty_dir",
            "name": "scratch",
            "mount_path": "/scratch",
            "spec": {"medium": "", "size_limit": "2Gi"},
        },
    ],
    "resources": {"cpu": {"requests": "1", "limits": "2"}, "gpu": {"requests": 1}},
    "tolerations": [
        {"key": "gpu", "operator": "Exists", "effect": "NoExecute"},
        {
            "key": "spot",
            "value": "true",
            "effect": "NoExecute",
            "toleration_seconds": 30,
        },
    ],
    "affinity": AFFINITY,
    "labels": {"team": "vision"},
    "node_selector": [{"key": "pool", "value": "gpu"}],
    "secrets": ["hf-token"],
    "envs": [{"name": "EMPTY", "value": ""}, {"name": "MODE", "value": "fast"}],
    "image": "python:3.12-slim",
    "timeout": "1h30m",
    "retries": 1,
    "ttl": 0,
    "queue": "team-queue",
    "gpu_type": "A100",
}


@pytest.mark.parametrize("given", ["dict", "spec"])
def test_a_spec_given_to_the_picker_comes_back_unchanged(given: str) -> None:
    spec = RunSpec.from_dict(SEED)

    picker = make(SEED if given == "dict" else spec)

    assert picker.valid, picker.problems
    assert picker.spec == spec
    seed = {k: v for k, v in spec.to_dict().items() if k in SEED_KEYS}
    seed["node_selector"] = {"pool": "gpu", "nvidia.com/gpu.product": "A100"}
    assert picker.run_kwargs == seed


def test_loading_a_spec_replaces_what_the_form_held() -> None:
    picker = make(SEED)

    picker.load({"resources": {"cpu": {"requests": "100m"}}})

    assert picker.run_kwargs == {"resources": {"cpu": {"requests": "100m"}}}
    assert picker.volumes.volumes.count == 0


def test_loading_a_bad_dict_raises_the_spec_error_and_keeps_the_form() -> None:
    picker = make({"image": "python:3.12"})

    with pytest.raises(SpecError, match=r"resources\.cpu\.requests"):
        picker.load({"resources": {"cpu": {"requests": "lots"}}})

    assert picker.spec.image == "python:3.12"


def test_the_form_checks_its_fields_once_per_load_not_once_per_field() -> None:
    picker = make()
    previews: list[str] = []
    picker.preview.observe(lambda change: previews.append(change["new"]), "text")

    picker.load(SEED)

    assert len(previews) == 1


# Submit


def local(tmp_path: Path, **kwargs: Any) -> DhJupyter:
    """A configuration that runs cells with the local backend under tmp_path."""
    return DhJupyter(backend="local", local_state_dir=str(tmp_path), **kwargs)


def test_submit_runs_the_code_and_the_monitor_reaches_succeeded_with_the_logs(
    tmp_path: Path,
) -> None:
    picker = make(config=local(tmp_path), code="print('hello from the picker')")
    type_into(picker.resources.quantities["cpu", "requests"], "100m")
    states: list[bool] = []
    picker.submit_button.observe(
        lambda change: states.append(change["new"]), "disabled"
    )

    picker.submit_button.click()
    monitor = picker.monitor
    assert monitor is not None
    final = monitor.join(timeout=120)

    assert final is not None
    assert final.phase is Phase.SUCCEEDED, final.describe()
    assert "hello from the picker" in monitor.logs
    assert "hello from the picker" in monitor._logs.html
    assert picker._run_area.children == (monitor,)
    # Off while it worked, and on again once the run was started.
    assert states[:1] == [True]
    assert not picker.submit_button.disabled


def test_a_run_that_cannot_start_says_why_beside_submit(tmp_path: Path) -> None:
    picker = make(config=local(tmp_path), code="print('never')")
    row = picker.environment.secrets.add()
    type_into(row.fields[""], "hf-token")

    picker.submit_button.click()

    assert picker.monitor is None
    assert "hf-token" in picker._submit_note.value
    assert not picker.submit_button.disabled


def test_submit_from_code_raises_what_the_click_shows(tmp_path: Path) -> None:
    picker = make(config=local(tmp_path))

    with pytest.raises(SpecError, match="no code to run"):
        picker.submit()

    type_into(picker.resources.quantities["cpu", "requests"], "lots")
    picker.code = "pass"
    with pytest.raises(SpecError, match="lots"):
        picker.submit()


class ScriptedBackend(Backend):
    """A backend whose runs go on until released, to submit many at once."""

    name = "scripted"

    def __init__(self) -> None:
        self.started: list[ScriptedRun] = []

    def submit(self, spec: RunSpec, code: str, *, name: str | None = None) -> Run:
        run = ScriptedRun(hold=True)
        self.started.append(run)
        return run

    def runs(self) -> list[Run]:
        return list(self.started)

    def get(self, name: str) -> Run:
        raise NotImplementedError


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedBackend]:
    """Submit goes to a ScriptedBackend; its runs are released at the end."""
    backend = ScriptedBackend()
    monkeypatch.setattr("dh_jupyter.runs.select.choose", lambda *_args: Choice(backend))
    yield backend
    for run in backend.started:
        run.release()


def test_a_second_submit_keeps_the_first_runs_monitor_and_its_cancel(
    scripted: ScriptedBackend,
) -> None:
    picker = make(code="pass")

    picker.submit_button.click()
    first = picker.monitor
    picker.submit_button.click()
    second = picker.monitor

    assert first is not None
    assert second is not None
    assert first is not second
    assert picker._run_area.children == (second, first)
    assert picker.monitors == (second, first)
    assert not first.cancel_button.disabled
    assert "2 runs going" in picker._submit_note.value

    first.cancel_button.click()

    assert first.join(timeout=30) is not None
    assert scripted.started[0].cancelled
    assert not scripted.started[1].cancelled
    assert picker._run_area.children == (second, first)


def test_finished_runs_monitors_beyond_the_bound_go_and_running_ones_stay(
    scripted: ScriptedBackend,
) -> None:
    picker = make(code="pass")
    picker.submit_button.click()
    going = picker.monitor
    for _ in range(KEPT_MONITORS + 2):
        picker.submit_button.click()
        assert picker.monitor is not None
        scripted.started[-1].release()
        picker.monitor.join(timeout=30)

    shown = picker._run_area.children
    assert len(shown) == KEPT_MONITORS
    assert going in shown
    assert shown[0] is picker.monitor
    assert sum(1 for monitor in shown if monitor.finished) == KEPT_MONITORS - 1
