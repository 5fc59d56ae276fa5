"""What a spec means on a given machine: each field honoured, refused or said ignored.

``make_plan`` is a function of the spec, the settings and the machine, so
these tests describe machines this one is not (GPUs, four cores, an
operating system without ``/proc``) and check the plan: the cores chosen,
the environment, the notes the run's output will start with, and each
refusal's sentence. What a plan does to a real process is tested in
``test_local_fields.py``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
from traitlets import TraitError

import dh_jupyter.runs
from dh_jupyter.config import DhJupyter
from dh_jupyter.runs.local_machine import Machine, nvidia_gpus
from dh_jupyter.runs.local_plan import make_plan
from dh_jupyter.runs.local_state import Plan
from dh_jupyter.spec import RunSpec, SpecError

GIB = 2**30
FOUR_CORES = Machine(cores=(0, 1, 2, 3), memory=8 * GIB)
TWO_GPUS = Machine(cores=(0, 1, 2, 3), memory=8 * GIB, gpus=("0", "1"))


def plan(
    spec: dict[str, Any],
    machine: Machine = FOUR_CORES,
    *,
    busy: dict[int, int] | None = None,
    environ: dict[str, str] | None = None,
    config: DhJupyter | None = None,
) -> Plan:
    return make_plan(
        RunSpec.from_dict(spec),
        config or DhJupyter(),
        folder=Path("/nonexistent/dhrun-test"),
        machine=machine,
        busy=busy,
        environ=environ if environ is not None else {"PATH": "/usr/bin"},
    )


def refused(spec: dict[str, Any], machine: Machine = FOUR_CORES) -> SpecError:
    with pytest.raises(SpecError) as caught:
        plan(spec, machine)
    return caught.value


@pytest.mark.parametrize(
    ("limit", "cores", "note"),
    [
        (
            "250m",
            (0,),
            "pinned to 1 core (0); a process can only be pinned to whole "
            "cores, so 250m was rounded up to 1.",
        ),
        ("2", (0, 1), "pinned to 2 cores (0, 1)."),
        ("2.5", (0, 1, 2), "so 2.5 was rounded up to 3."),
        (
            "4",
            (0, 1, 2, 3),
            "this machine gives the kernel 4 cores, so the run may "
            "use all of them (0, 1, 2, 3).",
        ),
        ("16", (0, 1, 2, 3), "so the run may use all of them"),
    ],
)
def test_a_cpu_limit_becomes_whole_cores_and_says_how_it_rounded(
    limit: str, cores: tuple[int, ...], note: str
) -> None:
    made = plan({"resources": {"cpu": {"limits": limit}}})

    assert made.cores == cores
    assert any(
        line.startswith(f"cpu limit {limit}:") and note in line for line in made.notes
    )


def test_a_fraction_rounded_up_to_every_core_says_it_rounded() -> None:
    two_cores = Machine(cores=(0, 1), memory=8 * GIB)

    made = plan({"resources": {"cpu": {"limits": "1.5"}}}, two_cores)

    assert made.cores == (0, 1)
    assert (
        "cpu limit 1.5: this machine gives the kernel 2 cores, so the run may use "
        "all of them (0, 1); a process can only be pinned to whole cores, so 1.5 "
        "was rounded up to 2."
    ) in made.notes


@pytest.mark.parametrize(
    ("environ", "env", "expected", "kept"),
    [
        ({}, [], {"OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}, ""),
        (
            {"OMP_NUM_THREADS": "8"},
            [{"name": "MKL_NUM_THREADS", "value": "1"}],
            {"OMP_NUM_THREADS": "8", "MKL_NUM_THREADS": "1"},
            "OMP_NUM_THREADS, MKL_NUM_THREADS kept as you set them.",
        ),
    ],
    ids=["set-to-the-cores", "kept-as-the-user-set-them"],
)
def test_a_cpu_limit_sets_the_thread_counts_of_numerical_libraries(
    environ: dict[str, str],
    env: list[dict[str, str]],
    expected: dict[str, str],
    kept: str,
) -> None:
    made = plan(
        {"resources": {"cpu": {"limits": "1500m"}}, "env": env},
        environ={"PATH": "/usr/bin", **environ},
    )

    assert made.env["OPENBLAS_NUM_THREADS"] == "2"
    for name, value in expected.items():
        assert made.env[name] == value
    assert any("os.cpu_count() still counts all" in note for note in made.notes)
    assert (kept in made.notes) if kept else not any("kept as" in n for n in made.notes)


def test_without_a_cpu_limit_thread_counts_are_left_alone() -> None:
    made = plan({"resources": {"cpu": {"requests": "1"}}})

    assert "OMP_NUM_THREADS" not in made.env


def test_cores_other_live_runs_are_pinned_to_are_avoided() -> None:
    made = plan({"resources": {"cpu": {"limits": "2"}}}, busy={0: 2, 1: 1})

    assert made.cores == (2, 3)


def test_no_cpu_limit_leaves_the_cores_alone() -> None:
    assert plan({"resources": {"cpu": {"requests": "1"}}}).cores is None


def test_a_gpu_on_a_machine_that_has_them_is_given_through_cuda_visible_devices() -> (
    None
):
    made = plan({"resources": {"gpu": {"limits": "1"}}}, TWO_GPUS)

    assert made.env["CUDA_VISIBLE_DEVICES"] == "0"
    assert "gpu 1: CUDA_VISIBLE_DEVICES=0." in made.notes


def test_without_a_gpu_request_the_machines_gpus_are_hidden() -> None:
    made = plan({}, TWO_GPUS)

    assert made.env["CUDA_VISIBLE_DEVICES"] == ""
    assert any("the 2 GPUs of this machine are hidden" in n for n in made.notes)


@pytest.mark.parametrize(
    ("machine", "asked", "problem"),
    [
        (
            FOUR_CORES,
            "1",
            '"1" GPU asked for, but this machine has no GPU that dh-jupyter can '
            "find (it looks for NVIDIA GPUs); drop the GPU request or run it on a "
            "cluster (--backend kubernetes).",
        ),
        (
            TWO_GPUS,
            "3",
            '"3" GPUs asked for, but this machine has only 2; ask for at most 2 or '
            "run it on a cluster (--backend kubernetes).",
        ),
    ],
    ids=["no-gpu-here", "too-few-gpus"],
)
def test_a_gpu_the_machine_does_not_have_is_refused(
    machine: Machine, asked: str, problem: str
) -> None:
    error = refused({"resources": {"gpu": {"limits": asked}}}, machine)

    assert error.field == "resources.gpu.limits"
    assert error.problem == problem


def test_a_gpu_request_is_refused_on_this_machine_through_the_api(
    local_settings: DhJupyter,
) -> None:
    if Machine.here().gpus:
        pytest.skip("this machine has GPUs")

    with pytest.raises(SpecError, match=r"^resources\.gpu\.limits: \"1\" GPU asked"):
        dh_jupyter.runs.submit(
            {"resources": {"gpu": {"limits": "1"}}}, "pass", backend="local"
        )

    assert dh_jupyter.runs.runs(backend="local") == []


def test_the_gpu_given_reaches_the_cells_process(
    local_settings: DhJupyter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This machine has no GPU, so it is described as one that has two.
    here = Machine.here()
    with_gpus = Machine(cores=here.cores, memory=here.memory, gpus=("0", "1"))
    monkeypatch.setattr(Machine, "here", classmethod(lambda cls: with_gpus))

    run = dh_jupyter.runs.submit(
        {"resources": {"gpu": {"limits": "2"}}},
        "import os; print(os.environ['CUDA_VISIBLE_DEVICES'])",
        backend="local",
    )
    run.wait(timeout=120)

    assert list(run.logs())[-1] == "0,1"


@pytest.mark.parametrize(
    ("asked", "busy", "given", "problem"),
    [
        ("1", {"0": "dhrun-a"}, "1", None),
        ("2", {}, "0,1", None),
        (
            "2",
            {"0": "dhrun-a"},
            None,
            '"2" GPUs asked for, but this machine has 1 free of its 2 (local runs '
            "hold the others: dhrun-a); wait until they end (%dhcancel stops one), "
            "ask for at most 1, or run it on a cluster (--backend kubernetes).",
        ),
        (
            "1",
            {"0": "dhrun-a", "1": "dhrun-b"},
            None,
            '"1" GPU asked for, but this machine has 0 free of its 2 (local runs '
            "hold the others: dhrun-a, dhrun-b); wait until they end (%dhcancel "
            "stops one) or run it on a cluster (--backend kubernetes).",
        ),
    ],
    ids=["the-free-one", "all-free", "too-few-free", "none-free"],
)
def test_a_gpu_another_live_run_holds_is_not_given_again(
    asked: str, busy: dict[str, str], given: str | None, problem: str | None
) -> None:
    spec = RunSpec.from_dict({"resources": {"gpu": {"limits": asked}}})

    def made() -> Plan:
        return make_plan(
            spec,
            DhJupyter(),
            folder=Path("/nonexistent/dhrun-test"),
            machine=TWO_GPUS,
            busy_gpus=busy,
            environ={},
        )

    if problem is None:
        assert made().env["CUDA_VISIBLE_DEVICES"] == given
        assert made().gpus == tuple(given.split(","))
        return
    with pytest.raises(SpecError) as caught:
        made()
    assert caught.value.field == "resources.gpu.limits"
    assert caught.value.problem == problem


def test_concurrent_gpu_runs_get_different_gpus_and_the_third_is_refused(
    local_settings: DhJupyter, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # This machine has no GPU, so it is described as one that has two.
    here = Machine.here()
    with_gpus = Machine(cores=here.cores, memory=here.memory, gpus=("0", "1"))
    monkeypatch.setattr(Machine, "here", classmethod(lambda cls: with_gpus))
    go = tmp_path / "go"
    waiting = (
        "import os, time\n"
        "print(os.environ['CUDA_VISIBLE_DEVICES'], flush=True)\n"
        f"while not os.path.exists({str(go)!r}):\n"
        "    time.sleep(0.02)\n"
    )
    gpu = {"resources": {"gpu": {"limits": "1"}}, "timeout": 120}

    first = dh_jupyter.runs.submit(gpu, waiting, backend="local")
    second = dh_jupyter.runs.submit(gpu, waiting, backend="local")
    with pytest.raises(SpecError) as caught:
        dh_jupyter.runs.submit(gpu, waiting, backend="local")
    go.touch()
    first.wait(timeout=120)
    second.wait(timeout=120)
    after = dh_jupyter.runs.submit(
        gpu, "import os; print(os.environ['CUDA_VISIBLE_DEVICES'])", backend="local"
    )
    after.wait(timeout=120)

    seen = {list(run.logs())[-1] for run in (first, second)}
    assert seen == {"0", "1"}
    assert caught.value.problem.startswith(
        '"1" GPU asked for, but this machine has 0 free of its 2 (local runs hold '
        f"the others: {', '.join(sorted([first.name, second.name]))});"
    )
    assert list(after.logs())[-1] == "0"


def test_gpus_are_found_through_nvidia_smi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if Path("/proc/driver/nvidia/gpus").is_dir():
        pytest.skip("this machine has a real NVIDIA driver")
    fake = tmp_path / "nvidia-smi"
    fake.write_text(
        "#!/bin/sh\necho 'GPU 0: Tesla T4 (UUID: GPU-1)'\n"
        "echo 'GPU 1: Tesla T4 (UUID: GPU-2)'\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)

    assert nvidia_gpus() == ("0", "1")

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert nvidia_gpus() == ("1",)


@pytest.mark.parametrize(
    ("resource", "problem"),
    [
        (
            {"cpu": {"requests": "6"}},
            '"6" is more than the 4 cores this machine gives the kernel; ask for at '
            'most "4" or run it on a cluster (--backend kubernetes).',
        ),
        (
            {"mem": {"requests": "16Gi"}},
            '"16Gi" is more than the 8.0 GiB of memory this machine has; ask for '
            "less or run it on a cluster (--backend kubernetes).",
        ),
    ],
    ids=["cpu", "memory"],
)
def test_a_request_larger_than_the_machine_is_refused(
    resource: dict[str, Any], problem: str
) -> None:
    error = refused({"resources": resource})

    assert error.problem == problem


def test_requests_that_fit_are_said_not_reserved() -> None:
    made = plan({"resources": {"cpu": {"requests": "1"}, "mem": {"requests": "1Gi"}}})

    assert (
        "requests (cpu 1, memory 1Gi) fit this machine; nothing is reserved for "
        "them here, other programs share it."
    ) in made.notes


def test_a_memory_limit_above_the_machine_says_the_machine_runs_out_first() -> None:
    made = plan({"resources": {"mem": {"limits": "16Gi"}}})

    assert made.memory_limit == 16 * GIB
    assert made.memory_text == "16Gi"
    assert (
        "memory limit 16Gi: the run is stopped if its processes use more than "
        "16.0 GiB together; that is more than this machine's 8.0 GiB, so the "
        "machine runs out first."
    ) in made.notes


@pytest.mark.parametrize(
    ("machine", "resource", "field", "problem"),
    [
        (
            Machine(cores=(0, 1), memory=GIB, can_pin=False),
            {"cpu": {"limits": "1"}},
            "resources.cpu.limits",
            '"1" cannot be enforced here: this operating system cannot pin a '
            "process to cores; remove the CPU limit or run it on a cluster "
            "(--backend kubernetes).",
        ),
        (
            Machine(cores=(0, 1), memory=GIB, can_measure_memory=False),
            {"mem": {"limits": "100Mi"}},
            "resources.mem.limits",
            '"100Mi" cannot be enforced here: this operating system does not let '
            "dh-jupyter read a process's memory; remove the memory limit or run "
            "it on a cluster (--backend kubernetes).",
        ),
    ],
    ids=["cpu", "memory"],
)
def test_a_limit_the_system_cannot_enforce_is_refused_not_ignored(
    machine: Machine, resource: dict[str, Any], field: str, problem: str
) -> None:
    error = refused({"resources": resource}, machine)

    assert error.field == field
    assert error.problem == problem


@pytest.mark.parametrize(
    ("spec", "note"),
    [
        (
            {"tolerations": [{"key": "gpu", "operator": "Exists"}]},
            "ignored here: tolerations; they choose or order the cluster's nodes, "
            "and this machine is the only one.",
        ),
        (
            {
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {
                                    "matchExpressions": [
                                        {
                                            "key": "zone",
                                            "operator": "In",
                                            "values": ["a"],
                                        }
                                    ]
                                }
                            ]
                        }
                    }
                },
                "node_selector": {"disk": "ssd"},
                "priority_class": "high",
                "queue": "team-a",
                "gpu_type": "A100",
            },
            "ignored here: affinity, node_selector, gpu_type, priority_class, queue; "
            "they choose or order the cluster's nodes, and this machine is the only "
            "one.",
        ),
        (
            {"image": "python:3.12", "image_pull_secrets": ["registry"]},
            'ignored here: image "python:3.12"; the cell runs with the kernel\'s '
            "Python, not in a container.",
        ),
        (
            {"image_pull_secrets": ["registry"]},
            "ignored here: image_pull_secrets; the cell runs with the kernel's "
            "Python, not in a container.",
        ),
        (
            {"service_account": "trainer"},
            'ignored here: service_account "trainer"; the process runs as you, with '
            "your own permissions.",
        ),
        (
            {"namespace": "team-a"},
            'ignored here: namespace "team-a"; runs on this machine are in no '
            "namespace.",
        ),
        (
            {"labels": [{"name": "team", "value": "a"}]},
            "labels are only kept in the run's record; there is no pod to carry them.",
        ),
    ],
    ids=[
        "tolerations",
        "scheduling",
        "image",
        "pull-secrets",
        "service-account",
        "namespace",
        "labels",
    ],
)
def test_fields_that_mean_nothing_here_are_said_ignored_in_the_output(
    spec: dict[str, Any], note: str
) -> None:
    assert note in plan(spec).notes


def test_ignored_fields_reach_the_runs_output(local_settings: DhJupyter) -> None:
    run = dh_jupyter.runs.submit(
        {"tolerations": [{"key": "gpu", "operator": "Exists"}], "queue": "q"},
        "print('ran')",
        backend="local",
    )
    run.wait(timeout=120)

    assert (
        "[dh-jupyter] ignored here: tolerations, queue; they choose or order the "
        "cluster's nodes, and this machine is the only one."
    ) in list(run.logs())


def test_the_environment_is_the_kernels_minus_what_only_a_kernel_needs() -> None:
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/home/me",
        "JPY_PARENT_PID": "42",
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }

    env = dict(plan({"env": [{"name": "A", "value": "1"}]}, environ=environ).env)

    assert env == {
        "PATH": "/usr/bin",
        "HOME": "/home/me",
        "PYTHONUNBUFFERED": "1",
        "A": "1",
        # Every process of the run carries its name, to be found by it.
        "DH_JUPYTER_RUN": "dhrun-test",
    }


def test_a_non_inline_matplotlib_backend_is_kept() -> None:
    env = plan({}, environ={"MPLBACKEND": "Agg"}).env

    assert env["MPLBACKEND"] == "Agg"


def test_the_plans_record_holds_no_environment(tmp_path: Path) -> None:
    secret = tmp_path / "s.env"
    secret.write_text("TOKEN=abc-secret\n")
    config = DhJupyter(local_secrets={"s": str(secret)})

    made = plan({"secrets": ["s"]}, config=config)

    assert made.env["TOKEN"] == "abc-secret"
    assert "env" not in made.record()
    assert "abc-secret" not in repr(made)
    assert "abc-secret" not in repr(made.record())
    assert Plan.from_record(made.record(), {}).cores == made.cores


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (
            {"datasets": "/data"},
            'DhJupyter.local_volumes: "datasets" is not a volume key; write '
            '"pvc:datasets" for a claim or "configmap:datasets" for a config map.',
        ),
        (
            {"pvc:": "/data"},
            'DhJupyter.local_volumes: "pvc:" is not a volume key; name the object '
            'after the colon, such as "pvc:data".',
        ),
        (
            {"secret:creds": "/creds"},
            'DhJupyter.local_volumes: "secret:creds" is not a volume key; map '
            'Secrets in DhJupyter.local_secrets instead: {"creds": "/creds"}.',
        ),
    ],
    ids=["bare-name", "empty-name", "secret"],
)
def test_a_bad_volume_key_in_configuration_is_refused_when_set(
    mapping: dict[str, str], message: str
) -> None:
    with pytest.raises(TraitError) as caught:
        DhJupyter(local_volumes=mapping)

    assert str(caught.value) == message


def test_good_volume_keys_are_accepted() -> None:
    mapping = {"pvc:datasets": "~/data", "configmap:settings": "~/settings"}

    assert DhJupyter(local_volumes=mapping).local_volumes == mapping
