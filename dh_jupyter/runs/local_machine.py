"""What this machine offers a local run: cores, memory, GPUs, and what it can enforce.

Read from the kernel's own view: the cores it may run on (its CPU affinity),
the memory of the machine or of the container it runs in, whichever is
smaller, and the NVIDIA GPUs it may use (``CUDA_VISIBLE_DEVICES`` narrows
them, as it narrows the kernel's). A spec is checked against this, so a
request the machine can never meet is refused before anything starts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dh_jupyter.runs import local_proc

_GIB = 2**30
_MIB = 2**20


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
            memory=memory_here(),
            gpus=nvidia_gpus(),
            can_pin=hasattr(os, "sched_setaffinity"),
            can_measure_memory=local_proc.can_measure_memory(),
        )


def memory_here() -> int:
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


def size_text(amount: int) -> str:
    if amount >= _GIB:
        return f"{amount / _GIB:.1f} GiB"
    return f"{amount / _MIB:.0f} MiB"


def plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"
