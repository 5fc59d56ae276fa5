"""What a run spec means on this machine: honoured, refused, or said ignored.

A spec written for a cluster arrives here unchanged, so every field gets a
decision, and no field is dropped without a word:

- honoured: ``env``; ``secrets`` and volumes through the local mappings in
  configuration (``c.DhJupyter.local_secrets``, ``local_volumes``); empty
  dirs (a fresh folder, in ``/dev/shm`` for ``medium: Memory``, with its
  ``size_limit`` enforced by eviction); the CPU limit (pinned to whole
  cores, rounded up and said so, with the thread counts of numerical
  libraries set to match); the memory limit (watched, in-memory empty dirs
  included); GPUs (when this machine has NVIDIA GPUs free of other live
  runs, through ``CUDA_VISIBLE_DEVICES``); ``timeout``; ``retries``;
  ``ttl`` (the run's folder is removed that long after it ends);
- refused, with one sentence naming the field and the fix: a GPU this machine
  does not have (or that other runs hold), a request larger than the
  machine, a secret or volume with no local mapping, a ``read_only`` claim,
  and limits this operating system cannot enforce;
- accepted and said ignored, in the run's output: fields that choose or
  order cluster nodes (tolerations, affinity, node selector, GPU model,
  priority class, queue), the image and its pull secrets, the service
  account, the namespace; labels are only kept in the run's record.

``make_plan`` only reads: it checks mappings and reads secret files, but it
creates nothing, so a refused spec leaves no trace. Secret values end up in
``Plan.env`` only, which is never written to disk. The machine, the Secrets
and the volumes have modules of their own (``local_machine``,
``local_secrets``, ``local_volumes``); this one decides the rest and puts
the plan together.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from dh_jupyter.runs.local_machine import Machine, plural, size_text
from dh_jupyter.runs.local_proc import RUN_TAG
from dh_jupyter.runs.local_secrets import plan_secrets
from dh_jupyter.runs.local_state import Plan
from dh_jupyter.runs.local_volumes import plan_volumes
from dh_jupyter.spec import RunSpec
from dh_jupyter.spec.keys import Problems
from dh_jupyter.spec.quantity import parse_quantity

if TYPE_CHECKING:
    # Only for types: the supervisor must not pay for importing traitlets.
    from dh_jupyter.config import DhJupyter

# Variables a kernel sets for itself that would mislead a plain process:
# matplotlib's inline backend only works inside a kernel.
_KERNEL_ONLY = ("JPY_PARENT_PID", "JPY_INTERRUPT_EVENT")
_CLUSTER = "run it on a cluster (--backend kubernetes)"
# The variables OpenMP, MKL and OpenBLAS (NumPy, SciPy, PyTorch's CPU code)
# size their thread pools by.
_THREAD_COUNTS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def make_plan(
    spec: RunSpec,
    config: DhJupyter,
    *,
    folder: Path,
    machine: Machine,
    busy: Mapping[int, int] | None = None,
    busy_gpus: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Plan:
    """The plan of ``spec`` on ``machine``, or ``SpecError`` with every refusal.

    ``folder`` is the run's folder-to-be (empty dirs go under it); ``busy``
    counts, per core, the live local runs pinned to it, so a new run prefers
    free cores; ``busy_gpus`` names, per GPU, the live local run holding it:
    cores are shared when they must be, GPUs never are.
    """
    problems = Problems()
    notes = [
        f"running on this machine (local backend) with {sys.executable}, "
        f"in {os.getcwd()}."
    ]
    env = {
        key: value
        for key, value in (os.environ if environ is None else environ).items()
        if key not in _KERNEL_ONLY
        and not (key == "MPLBACKEND" and value.startswith("module://"))
    }

    cores = _cores(spec, machine, busy or {}, problems, notes)
    memory_limit = _memory(spec, machine, problems, notes)
    gpu_env = _gpus(spec, machine, busy_gpus or {}, problems, notes)
    _requests_fit(spec, machine, problems, notes)
    mounts = plan_volumes(spec, config, folder, problems, notes)
    for values in plan_secrets(spec, config, problems, notes):
        env.update(values)
    env["PYTHONUNBUFFERED"] = "1"
    if cores is not None:
        env.update(_thread_counts(len(cores), env, spec, notes))
    env.update(spec.env)
    env.update(gpu_env)
    # Set last, so every process of the run is found by it (``local_proc.tagged``).
    env[RUN_TAG] = folder.name
    notes.extend(_ignored(spec))
    problems.raise_if_any()

    return Plan(
        python=sys.executable,
        cwd=os.getcwd(),
        env=env,
        cores=cores,
        gpus=tuple(filter(None, gpu_env.get("CUDA_VISIBLE_DEVICES", "").split(","))),
        memory_limit=memory_limit,
        memory_text=spec.resources.mem.limits,
        timeout=spec.timeout,
        retries=spec.retries or 0,
        mounts=tuple(mounts),
        notes=tuple(notes),
    )


def _cores(
    spec: RunSpec,
    machine: Machine,
    busy: Mapping[int, int],
    problems: Problems,
    notes: list[str],
) -> tuple[int, ...] | None:
    limit = spec.resources.cpu.limits
    if limit is None:
        return None
    if not machine.can_pin:
        problems.add(
            "resources.cpu.limits",
            f'"{limit}" cannot be enforced here: this operating system cannot '
            f"pin a process to cores; remove the CPU limit or {_CLUSTER}.",
        )
        return None

    amount = parse_quantity(limit)
    wanted = max(1, math.ceil(amount))
    available = len(machine.cores)
    # Prefer cores no other live local run is pinned to, lowest first.
    ranked = sorted(machine.cores, key=lambda core: (busy.get(core, 0), core))
    cores = tuple(sorted(ranked[: min(wanted, available)]))
    listed = ", ".join(str(core) for core in cores)
    if wanted >= available:
        note = (
            f"cpu limit {limit}: this machine gives the kernel {available} "
            f"{plural(available, 'core')}, so the run may use all of them "
            f"({listed})"
        )
        if amount != wanted and wanted == available:
            note += (
                f"; a process can only be pinned to whole cores, so {limit} was "
                f"rounded up to {wanted}"
            )
        notes.append(note + ".")
    elif amount != wanted:
        notes.append(
            f"cpu limit {limit}: pinned to {wanted} {plural(wanted, 'core')} "
            f"({listed}); a process can only be pinned to whole cores, so "
            f"{limit} was rounded up to {wanted}."
        )
    else:
        notes.append(
            f"cpu limit {limit}: pinned to {wanted} {plural(wanted, 'core')} "
            f"({listed})."
        )
    return cores


def _thread_counts(
    count: int, env: Mapping[str, str], spec: RunSpec, notes: list[str]
) -> dict[str, str]:
    """Tell numerical libraries how many cores the run has, unless the user did."""
    # They size their thread pools by os.cpu_count(), which still counts every
    # core of the machine; too many threads on few cores run slower, not faster.
    given = {name: str(count) for name in _THREAD_COUNTS}
    kept = [name for name in _THREAD_COUNTS if name in env or name in spec.env]
    for name in kept:
        del given[name]
    if given:
        notes.append(
            f"{', '.join(given)} set to {count}, the run's cores; os.cpu_count() "
            "still counts all of this machine's cores, and a cell can undo the "
            "pinning (os.sched_setaffinity)."
        )
    if kept:
        notes.append(f"{', '.join(kept)} kept as you set them.")
    return given


def _memory(
    spec: RunSpec, machine: Machine, problems: Problems, notes: list[str]
) -> int | None:
    limit = spec.resources.mem.limits
    if limit is None:
        return None
    if not machine.can_measure_memory:
        problems.add(
            "resources.mem.limits",
            f'"{limit}" cannot be enforced here: this operating system does not '
            f"let dh-jupyter read a process's memory; remove the memory limit "
            f"or {_CLUSTER}.",
        )
        return None
    amount = int(parse_quantity(limit, memory=True))
    note = (
        f"memory limit {limit}: the run is stopped if its processes use more "
        f"than {size_text(amount)} together"
    )
    if amount > machine.memory:
        note += (
            f"; that is more than this machine's {size_text(machine.memory)}, so the "
            "machine runs out first"
        )
    notes.append(note + ".")
    return amount


def _gpus(
    spec: RunSpec,
    machine: Machine,
    busy: Mapping[str, str],
    problems: Problems,
    notes: list[str],
) -> dict[str, str]:
    asked = spec.resources.gpu.limits or spec.resources.gpu.requests
    count = int(asked) if asked else 0
    if count == 0:
        if machine.gpus:
            # A pod without a GPU request sees no GPU; so does this run.
            notes.append(
                f"no GPU asked for, so the {len(machine.gpus)} GPUs of this "
                "machine are hidden (CUDA_VISIBLE_DEVICES is empty)."
            )
            return {"CUDA_VISIBLE_DEVICES": ""}
        return {}
    field_name = (
        "resources.gpu.limits"
        if spec.resources.gpu.limits
        else "resources.gpu.requests"
    )
    if not machine.gpus:
        problems.add(
            field_name,
            f'"{asked}" GPU asked for, but this machine has no GPU that '
            "dh-jupyter can find (it looks for NVIDIA GPUs); drop the GPU "
            f"request or {_CLUSTER}.",
        )
        return {}
    if count > len(machine.gpus):
        problems.add(
            field_name,
            f'"{asked}" GPUs asked for, but this machine has only '
            f"{len(machine.gpus)}; ask for at most {len(machine.gpus)} or "
            f"{_CLUSTER}.",
        )
        return {}
    # A GPU is one run's at a time, as a device plugin gives it to one pod.
    free = [gpu for gpu in machine.gpus if gpu not in busy]
    if count > len(free):
        holders = ", ".join(sorted({busy[gpu] for gpu in machine.gpus if gpu in busy}))
        fewer = f", ask for at most {len(free)}," if free else ""
        problems.add(
            field_name,
            f'"{asked}" {plural(count, "GPU")} asked for, but this machine has '
            f"{len(free)} free of its {len(machine.gpus)} (local runs hold the "
            f"others: {holders}); wait until they end (%dhcancel stops one)"
            f"{fewer} or {_CLUSTER}.",
        )
        return {}
    chosen = ",".join(free[:count])
    notes.append(f"gpu {count}: CUDA_VISIBLE_DEVICES={chosen}.")
    return {"CUDA_VISIBLE_DEVICES": chosen}


def _requests_fit(
    spec: RunSpec, machine: Machine, problems: Problems, notes: list[str]
) -> None:
    fitting = []
    cpu = spec.resources.cpu.requests
    if cpu is not None:
        if parse_quantity(cpu) > len(machine.cores):
            problems.add(
                "resources.cpu.requests",
                f'"{cpu}" is more than the {len(machine.cores)} cores this '
                f'machine gives the kernel; ask for at most "{len(machine.cores)}" '
                f"or {_CLUSTER}.",
            )
        else:
            fitting.append(f"cpu {cpu}")
    mem = spec.resources.mem.requests
    if mem is not None:
        if parse_quantity(mem, memory=True) > machine.memory:
            problems.add(
                "resources.mem.requests",
                f'"{mem}" is more than the {size_text(machine.memory)} of memory this '
                f"machine has; ask for less or {_CLUSTER}.",
            )
        else:
            fitting.append(f"memory {mem}")
    if fitting:
        notes.append(
            f"requests ({', '.join(fitting)}) fit this machine; nothing is "
            "reserved for them here, other programs share it."
        )


def _ignored(spec: RunSpec) -> list[str]:
    notes = []
    scheduling = [
        name
        for name in (
            "tolerations",
            "affinity",
            "node_selector",
            "gpu_type",
            "priority_class",
            "queue",
        )
        if name in spec.set_fields()
    ]
    if scheduling:
        notes.append(
            f"ignored here: {', '.join(scheduling)}; they choose or order the "
            "cluster's nodes, and this machine is the only one."
        )
    if spec.image or spec.image_pull_secrets:
        what = f'image "{spec.image}"' if spec.image else "image_pull_secrets"
        notes.append(
            f"ignored here: {what}; the cell runs with the kernel's Python, not "
            "in a container."
        )
    if spec.service_account:
        notes.append(
            f'ignored here: service_account "{spec.service_account}"; the '
            "process runs as you, with your own permissions."
        )
    if spec.namespace:
        notes.append(
            f'ignored here: namespace "{spec.namespace}"; runs on this machine '
            "are in no namespace."
        )
    if spec.labels:
        notes.append(
            "labels are only kept in the run's record; there is no pod to carry them."
        )
    return notes
