"""What a local run uses against its limits: memory, and its empty dirs' files.

Two limits of a spec depend on what a run writes rather than on what its
processes hold: an ``empty_dir``'s ``size_limit`` (the kubelet evicts a pod
whose empty dir grows past it), and the memory limit, which on a cluster
also charges the files of an in-memory empty dir (``medium: Memory``, a
tmpfs), as the container's memory cgroup does. There is no cgroup here, so
the supervisor walks the run's own empty-dir folders, as ``du`` does, and
adds what it finds.

A walk costs time in proportion to the number of files, so an empty dir
with a ``size_limit`` is walked at most every ``FOLDER_CHECK_SECONDS``, an
in-memory one as often as memory is measured, and either, once a walk takes
long, at most 5% of the time (every 20 walks' durations). A cell that ends
between two walks is measured once more before its end is recorded. Only
the run's own folders are walked: files a cell writes elsewhere in the
shared ``/dev/shm`` cannot be told apart from other programs' files, so
they do not count towards its memory limit.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from dh_jupyter.runs import local_proc
from dh_jupyter.runs.local_machine import size_text
from dh_jupyter.runs.local_state import Mount, Plan

# How often an empty dir with a size_limit is walked, at most: its limit is
# a disk's, so a few seconds late costs little.
FOLDER_CHECK_SECONDS = 2.0
# Walks cost at most 1/20 of the time, however large the folders grow.
_COST_SHARE = 20


def folder_size(path: str) -> int:
    """Bytes the files under ``path`` take up, each file once, links not followed.

    Counts allocated blocks, as ``du`` does, so a sparse file counts what it
    really holds; a folder that is gone counts 0.
    """
    total = 0
    seen: set[tuple[int, int]] = set()
    waiting = [path]
    while waiting:
        try:
            entries = list(os.scandir(waiting.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                waiting.append(entry.path)
                continue
            if info.st_nlink > 1:
                # A hard link to a file already counted takes no more room.
                key = (info.st_dev, info.st_ino)
                if key in seen:
                    continue
                seen.add(key)
            total += info.st_blocks * 512
    return total


@dataclass
class FolderWatch:
    """The sizes of some of a run's empty dirs, measured when they are due."""

    mounts: tuple[Mount, ...]
    every: float
    sizes: dict[str, int] = field(default_factory=dict)
    _due: float = 0.0

    @classmethod
    def of(cls, mounts: Iterable[Mount], every: float) -> FolderWatch:
        return cls(tuple(mounts), every)

    def __bool__(self) -> bool:
        return bool(self.mounts)

    @property
    def total(self) -> int:
        """Bytes in all the watched folders, as last measured."""
        return sum(self.sizes.values())

    def measure(self, *, now: bool = False) -> dict[str, int]:
        """Each folder's size by its mount's target, walked again when due.

        ``now`` walks at once whatever the schedule, for the last look
        before a run's end is recorded.
        """
        began = time.monotonic()
        if not self.mounts or (not now and began < self._due):
            return self.sizes
        self.sizes = {mount.target: folder_size(mount.target) for mount in self.mounts}
        took = time.monotonic() - began
        self._due = began + max(self.every, _COST_SHARE * took)
        return self.sizes

    def over_limit(self) -> tuple[Mount, int] | None:
        """The first folder past its ``size_limit``, with its size; None if none."""
        for mount in self.mounts:
            used = self.sizes.get(mount.target, 0)
            if mount.size_limit is not None and used > mount.size_limit:
                return mount, used
        return None


@dataclass(frozen=True)
class Excess:
    """A limit the run went past: the memory limit, or an empty dir's size_limit."""

    used: int
    # The empty dir past its size_limit; None for the memory limit.
    mount: Mount | None
    line: str


class UsageWatch:
    """Memory in use and empty dirs' sizes of one run, against its limits."""

    def __init__(self, plan: Plan, poll: float, near_poll: float) -> None:
        self.plan = plan
        self.poll = poll
        self.near_poll = near_poll
        scratch = [mount for mount in plan.mounts if mount.scratch]
        counted = plan.memory_limit is not None
        # In-memory folders are memory: watched as often as memory is.
        self.in_memory = FolderWatch.of(
            (mount for mount in scratch if mount.in_memory and counted), poll
        )
        self.on_disk = FolderWatch.of(
            (
                mount
                for mount in scratch
                if mount.size_limit is not None and mount not in self.in_memory.mounts
            ),
            FOLDER_CHECK_SECONDS,
        )
        # How long to wait before the next check: shorter near the limit.
        self.pause = poll

    def check(self, supervisor_pid: int, *, last: bool = False) -> Excess | None:
        """The limit passed now, if any. ``last``: the cell's processes have ended."""
        for watch in (self.on_disk, self.in_memory):
            watch.measure(now=last)
            over = watch.over_limit()
            if over is not None:
                mount, used = over
                return Excess(
                    used,
                    mount,
                    f"stopped: the empty_dir volume {mount.volume} holds "
                    f"{size_text(used)}, more than its size_limit of "
                    f"{mount.size_text}.",
                )

        limit = self.plan.memory_limit
        if limit is None:
            self.pause = self.poll
            return None
        processes = (
            0
            if last
            else local_proc.memory_in_use(local_proc.descendants(supervisor_pid))
        )
        files = self.in_memory.total
        used = processes + files
        if used > limit:
            text = self.plan.memory_text or str(limit)
            what = (
                f"its processes and in-memory empty dirs used {size_text(used)} "
                f"({size_text(files)} of files)"
                if files
                else f"its processes used {used / 2**20:.0f} MiB"
            )
            return Excess(
                used, None, f"stopped: {what}, more than the memory limit of {text}."
            )
        self.pause = self.near_poll if used > limit / 2 else self.poll
        return None
