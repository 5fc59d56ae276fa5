"""What a run spec means on this machine: honoured, refused, or said ignored.

A spec written for a cluster arrives here unchanged, so every field gets a
decision, and no field is dropped without a word:

- honoured: ``env``; ``secrets`` and volumes through the local mappings in
  configuration (``c.DhJupyter.local_secrets``, ``local_volumes``); empty
  dirs (a fresh folder, in ``/dev/shm`` for ``medium: Memory``); the CPU
  limit (pinned to whole cores); the memory limit (watched); GPUs (when this
  machine has NVIDIA GPUs, through ``CUDA_VISIBLE_DEVICES``); ``timeout``;
  ``retries``; ``ttl`` (the run's folder is removed that long after it ends);
- refused, with one sentence naming the field and the fix: a GPU this machine
  does not have, a request larger than the machine, a secret or volume with
  no local mapping, and limits this operating system cannot enforce;
- accepted and said ignored, in the run's output: fields that choose or
  order cluster nodes (tolerations, affinity, node selector, GPU model,
  priority class, queue), the image and its pull secrets, the service
  account, the namespace; labels are only kept in the run's record.

``make_plan`` only reads: it checks mappings and reads secret files, but it
creates nothing, so a refused spec leaves no trace. Secret values end up in
``Plan.env`` only, which is never written to disk.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dh_jupyter.runs import local_proc
from dh_jupyter.runs.local_state import Mount, Plan
from dh_jupyter.spec import RunSpec, Volume
from dh_jupyter.spec.keys import Problems, at
from dh_jupyter.spec.quantity import parse_quantity

if TYPE_CHECKING:
    # Only for types: the supervisor must not pay for importing traitlets.
    from dh_jupyter.config import DhJupyter

_GIB = 2**30
_MIB = 2**20
# Variables a kernel sets for itself that would mislead a plain process:
# matplotlib's inline backend only works inside a kernel.
_KERNEL_ONLY = ("JPY_PARENT_PID", "JPY_INTERRUPT_EVENT")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_SHM = Path("/dev/shm")
_CLUSTER = "run it on a cluster (--backend kubernetes)"


@dataclass(frozen=True)
class Machine:
    """What this machine offers a run, as far as this process can see."""

    cores: tuple[int, ...]
    memory: int
    gpus: tuple[str, ...] = ()
    can_pin: bool = True
    can_measure_memory: bool = True

    @classmethod
    def here(cls) -> Machine:
        """This machine, as the kernel sees it (its cores, memory and GPUs)."""
        if hasattr(os, "sched_getaffinity"):
            cores = tuple(sorted(os.sched_getaffinity(0)))
        else:
            cores = tuple(range(os.cpu_count() or 1))
        return cls(
            cores=cores,
            memory=_memory_here(),
            gpus=nvidia_gpus(),
            can_pin=hasattr(os, "sched_setaffinity"),
            can_measure_memory=local_proc.can_measure_memory(),
        )


def make_plan(
    spec: RunSpec,
    config: DhJupyter,
    *,
    folder: Path,
    machine: Machine,
    busy: Mapping[int, int] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Plan:
    """The plan of ``spec`` on ``machine``, or ``SpecError`` with every refusal.

    ``folder`` is the run's folder-to-be (empty dirs go under it); ``busy``
    counts, per core, the live local runs pinned to it, so a new run prefers
    free cores.
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
    gpu_env = _gpus(spec, machine, problems, notes)
    _requests_fit(spec, machine, problems, notes)
    mounts = _volumes(spec, config, folder, problems, notes)
    for values in _secrets(spec, config, problems, notes):
        env.update(values)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(spec.env)
    env.update(gpu_env)
    notes.extend(_ignored(spec))
    problems.raise_if_any()

    return Plan(
        python=sys.executable,
        cwd=os.getcwd(),
        env=env,
        cores=cores,
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
        notes.append(
            f"cpu limit {limit}: this machine gives the kernel {available} "
            f"{_plural(available, 'core')}, so the run may use all of them "
            f"({listed})."
        )
    elif amount != wanted:
        notes.append(
            f"cpu limit {limit}: pinned to {wanted} {_plural(wanted, 'core')} "
            f"({listed}); a process can only be pinned to whole cores, so "
            f"{limit} was rounded up to {wanted}."
        )
    else:
        notes.append(
            f"cpu limit {limit}: pinned to {wanted} {_plural(wanted, 'core')} "
            f"({listed})."
        )
    return cores


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
        f"than {_size(amount)} together"
    )
    if amount > machine.memory:
        note += (
            f"; that is more than this machine's {_size(machine.memory)}, so the "
            "machine runs out first"
        )
    notes.append(note + ".")
    return amount


def _gpus(
    spec: RunSpec, machine: Machine, problems: Problems, notes: list[str]
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
    chosen = ",".join(machine.gpus[:count])
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
                f'"{mem}" is more than the {_size(machine.memory)} of memory this '
                f"machine has; ask for less or {_CLUSTER}.",
            )
        else:
            fitting.append(f"memory {mem}")
    if fitting:
        notes.append(
            f"requests ({', '.join(fitting)}) fit this machine; nothing is "
            "reserved for them here, other programs share it."
        )


def _volumes(
    spec: RunSpec,
    config: DhJupyter,
    folder: Path,
    problems: Problems,
    notes: list[str],
) -> list[Mount]:
    mounts = []
    for index, volume in enumerate(spec.volumes):
        where = at("volumes", index)
        path_field = at(where, "mount_path")
        if volume.volume_type == "empty_dir" and _is_machine_shm(volume.mount_path):
            # --shm: this machine's own shared memory is already there.
            notes.append(
                f"volume {volume.name}: this machine's own /dev/shm is used as it "
                "is, shared with other programs and with no size limit."
            )
            continue
        if volume.volume_type == "empty_dir":
            mounts.append(_empty_dir(volume, folder, path_field))
            notes.append(_empty_dir_note(volume, mounts[-1]))
            continue

        if volume.volume_type == "secret":
            secret = volume.spec["secret_name"]
            trait, key = "local_secrets", secret
            source = config.local_secrets.get(secret)
            spec_field = at(where, "spec.secret_name")
            what = f'the Secret "{secret}"'
        else:
            kind = (
                "pvc"
                if volume.volume_type == "persistent_volume_claim"
                else "configmap"
            )
            name = volume.spec["claim_name" if kind == "pvc" else "name"]
            trait, key = "local_volumes", f"{kind}:{name}"
            source = config.local_volumes.get(key)
            spec_field = at(where, "spec.claim_name" if kind == "pvc" else "spec.name")
            what = f'the {"claim" if kind == "pvc" else "config map"} "{name}"'
        mapping = f'c.DhJupyter.{trait} = {{"{key}": "/path/to/folder"}}'

        if source is None:
            problems.add(
                spec_field,
                f"{what} has no local folder; add one to the configuration: "
                f"{mapping} (in ipython_config.py, or with %config in the "
                "notebook).",
            )
            continue
        target = Path(source).expanduser().absolute()
        if not target.is_dir():
            if target.is_file() and trait == "local_secrets":
                problem = (
                    "a file; a secret volume needs a folder with one file per "
                    "key, so map it to such a folder."
                )
            else:
                problem = (
                    "which is not a folder on this machine; create it or fix the "
                    "mapping."
                )
            problems.add(
                spec_field, f'c.DhJupyter.{trait}["{key}"] is "{source}", {problem}'
            )
            continue
        fix = (
            "choose a mount path in a folder you can write, or make "
            f'"{volume.mount_path}" yourself (a folder or a link) and map '
            f'{what} to it: c.DhJupyter.{trait} = {{"{key}": '
            f'"{volume.mount_path}"}}'
        )
        mounts.append(Mount(path_field, volume.mount_path, str(target), fix))
        note = f"volume {volume.name}: {target} at {volume.mount_path}"
        if volume.spec.get("read_only"):
            note += " (read_only is not enforced here; take care not to write)"
        notes.append(note + ".")

    _no_nesting(mounts, problems)
    return mounts


def _empty_dir(volume: Volume, folder: Path, path_field: str) -> Mount:
    if _in_memory(volume):
        target = _SHM / f"dh-jupyter-{folder.name}-{volume.name}"
    else:
        target = folder / "scratch" / volume.name
    fix = "choose a mount path in a folder you can write"
    return Mount(path_field, volume.mount_path, str(target), fix, scratch=True)


def _is_machine_shm(mount_path: str) -> bool:
    return os.path.normpath(mount_path) == str(_SHM) and _SHM.is_dir()


def _in_memory(volume: Volume) -> bool:
    return (
        volume.spec.get("medium") == "Memory"
        and _SHM.is_dir()
        and os.access(_SHM, os.W_OK)
    )


def _empty_dir_note(volume: Volume, mount: Mount) -> str:
    note = (
        f"volume {volume.name}: an empty folder at {volume.mount_path}, removed "
        "when the run ends"
    )
    if volume.spec.get("medium") == "Memory":
        note += (
            " (in memory, under /dev/shm)"
            if mount.target.startswith(str(_SHM))
            else " (on disk: this machine has no /dev/shm to write)"
        )
    if volume.spec.get("size_limit"):
        note += f"; its size_limit {volume.spec['size_limit']} is not enforced here"
    return note + "."


def _no_nesting(mounts: list[Mount], problems: Problems) -> None:
    # A link inside another volume's link would be made inside that folder.
    for outer in mounts:
        for inner in mounts:
            if inner.link.startswith(outer.link.rstrip("/") + "/"):
                problems.add(
                    inner.field,
                    f'"{inner.link}" is inside "{outer.link}", another volume\'s '
                    "mount path; the local backend cannot nest mounts, so choose "
                    "a path outside it.",
                )


def _secrets(
    spec: RunSpec, config: DhJupyter, problems: Problems, notes: list[str]
) -> list[dict[str, str]]:
    """The values of each Secret in ``spec.secrets``, in order (envFrom)."""
    found = []
    for index, name in enumerate(spec.secrets):
        where = at("secrets", index)
        source = config.local_secrets.get(name)
        if source is None:
            problems.add(
                where,
                f'the Secret "{name}" has no local stand-in; add one to the '
                f'configuration: c.DhJupyter.local_secrets = {{"{name}": '
                f'"/path/to/{name}.env"}} (KEY=VALUE lines, or a folder with one '
                "file per key).",
            )
            continue
        try:
            values, skipped = read_secret(Path(source).expanduser())
        except SecretFileError as error:
            problems.add(where, f'c.DhJupyter.local_secrets["{name}"]: {error}')
            continue
        note = (
            f"secret {name}: {len(values)} {_plural(len(values), 'variable')} "
            f"from {source}"
        )
        if skipped:
            # Kubernetes skips such keys too; their names are not secret.
            note += f"; skipped {', '.join(sorted(skipped))}, not valid variable names"
        notes.append(note + ".")
        found.append(values)
    return found


class SecretFileError(ValueError):
    """A local secret that cannot be read; the text never quotes a value."""


def read_secret(path: Path) -> tuple[dict[str, str], list[str]]:
    """The keys and values of a local secret, and the keys skipped as invalid.

    A folder holds one file per key (the layout of a mounted Secret); a file
    holds ``KEY=VALUE`` lines, with ``#`` comments, an optional ``export``
    and optional quotes around the value.
    """
    if path.is_dir():
        pairs = {}
        for entry in sorted(path.iterdir()):
            # A mounted Secret also holds "..data"-style links; skip hidden names.
            if entry.name.startswith(".") or not entry.is_file():
                continue
            try:
                pairs[entry.name] = entry.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as error:
                kind = type(error).__name__
                raise SecretFileError(
                    f'the file "{entry}" cannot be read as text ({kind}); fix it '
                    "or remove it from the folder."
                ) from None
    elif path.is_file():
        pairs = _read_env_file(path)
    else:
        raise SecretFileError(
            f'"{path}" is neither a file nor a folder on this machine; create it '
            "or fix the mapping."
        )
    values = {key: value for key, value in pairs.items() if _ENV_NAME.match(key)}
    return values, [key for key in pairs if key not in values]


def _read_env_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SecretFileError(
            f'"{path}" cannot be read as text ({error.__class__.__name__}).'
        ) from None
    pairs = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        stripped = stripped.removeprefix("export ").lstrip()
        key, equals, value = stripped.partition("=")
        if not equals or not key.strip():
            # Never quote the line: it may be a value.
            raise SecretFileError(
                f'line {number} of "{path}" is not KEY=VALUE; fix that line.'
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        pairs[key.strip()] = value
    return pairs


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


def _memory_here() -> int:
    """Bytes of memory this machine has, or its container's limit if lower."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    for limit_file in (
        Path("/sys/fs/cgroup/memory.max"),
        Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
    ):
        try:
            text = limit_file.read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return int(total)


def nvidia_gpus() -> tuple[str, ...]:
    """The NVIDIA GPUs this process may use, as CUDA_VISIBLE_DEVICES entries."""
    listed = Path("/proc/driver/nvidia/gpus")
    count = 0
    if listed.is_dir():
        count = len(list(listed.iterdir()))
    elif shutil.which("nvidia-smi"):
        try:
            found = subprocess.run(
                ["nvidia-smi", "-L"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return ()
        count = sum(line.startswith("GPU ") for line in found.stdout.splitlines())
    if count == 0:
        return ()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        # The kernel itself is restricted; a run can only have a share of that.
        return tuple(entry for entry in visible.split(",") if entry.strip())
    return tuple(str(index) for index in range(count))


def _size(amount: int) -> str:
    if amount >= _GIB:
        return f"{amount / _GIB:.1f} GiB"
    return f"{amount / _MIB:.0f} MiB"


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"
