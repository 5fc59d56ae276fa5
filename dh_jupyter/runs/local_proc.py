"""Processes of a local run: who they are, how much memory they use, stopping them.

A pid alone does not name a process for long: once it ends, the system may
give the number to another one. So a process is remembered as its pid and
its start time (field 22 of ``/proc/<pid>/stat``), and is only signalled
while both still match. Everything here reads ``/proc``; where there is
none (macOS), identities fall back to the pid alone and memory cannot be
measured, which the local backend checks before it promises a memory limit.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PROC = Path("/proc")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
# Every process of a run carries this variable, set to the run's name: the
# cell's process gets it and whatever it starts inherits it, so a run's
# processes are found even once nothing is left of the tree that made them.
RUN_TAG = "DH_JUPYTER_RUN"


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name, or None."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may itself contain ") ".
    return text.rsplit(")", 1)[1].split()


def start_time(pid: int) -> str:
    """When ``pid`` started, in clock ticks since boot; "" if unknown or gone."""
    fields = _stat_fields(pid)
    if fields is None or len(fields) < 20:
        return ""
    return fields[19]


def identity(pid: int) -> dict[str, Any]:
    """What names ``pid`` for as long as it lives: the pid and its start time."""
    return {"pid": pid, "start": start_time(pid)}


def alive(process: Mapping[str, Any] | None) -> bool:
    """Whether the process ``identity`` recorded still runs (a zombie does not)."""
    if not process or not process.get("pid"):
        return False
    pid = int(process["pid"])
    if not PROC.is_dir():
        return _signalable(pid)
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return False
    recorded = str(process.get("start") or "")
    return not recorded or fields[19] == recorded


def _signalable(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _children_map() -> dict[int, list[int]]:
    """Every process's children, from one pass over ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir(PROC):
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        if fields is None:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children...), not ``pid``."""
    if not PROC.is_dir():
        return []
    children = _children_map()
    found: list[int] = []
    waiting = list(children.get(pid, []))
    while waiting:
        child = waiting.pop()
        found.append(child)
        waiting.extend(children.get(child, []))
    return found


def tagged(run: str) -> list[int]:
    """This user's processes that carry ``RUN_TAG=run`` in their environment.

    ``/proc/<pid>/environ`` holds the environment a process started with, so
    a cell that deletes the variable from ``os.environ`` is still found; a
    process started with an environment that leaves it out (``env -i``) is
    not. Without ``/proc`` (macOS) nothing is found.
    """
    if not PROC.is_dir():
        return []
    wanted = f"{RUN_TAG}={run}".encode()
    uid, me = os.getuid(), os.getpid()
    found = []
    for entry in os.scandir(PROC):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            # Only our own processes: another user's environ is not readable.
            if entry.stat().st_uid != uid:
                continue
            environ = (PROC / entry.name / "environ").read_bytes()
        except OSError:
            continue
        if wanted in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def memory_in_use(pids: Iterable[int]) -> int:
    """Bytes of memory the processes ``pids`` use together.

    Each process counts its proportional set size (Pss): a page shared by
    three processes counts a third in each, so forked workers sharing their
    parent's memory are not counted twice, much as a container's memory
    cgroup charges each page once. Where ``smaps_rollup`` is missing (Linux
    before 4.14) the resident set size is used, which overcounts sharing.
    """
    total = 0
    for pid in pids:
        total += _pss(pid) if _HAS_ROLLUP else _rss(pid)
    return total


def _pss(pid: int) -> int:
    try:
        with open(PROC / str(pid) / "smaps_rollup", "rb") as rollup:
            for line in rollup:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _rss(pid: int) -> int:
    try:
        fields = (PROC / str(pid) / "statm").read_text().split()
        return int(fields[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


_HAS_ROLLUP = (PROC / "self" / "smaps_rollup").exists()


def can_measure_memory() -> bool:
    """Whether this system lets a process's memory be read while it runs."""
    return (PROC / "self" / "statm").exists()


def send(pids: Iterable[int], sig: signal.Signals) -> None:
    """Send ``sig`` to each of ``pids`` that still exists."""
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            continue
        except PermissionError:
            log.warning("Could not signal process %s; it is not ours.", pid)


def send_group(leader: int, sig: signal.Signals) -> None:
    """Send ``sig`` to the process group that ``leader`` started, if it exists."""
    try:
        os.killpg(leader, sig)
    except (ProcessLookupError, PermissionError):
        return


def signal_name(number: int) -> str:
    """``9`` → ``SIGKILL``; an unknown number → ``signal 42``."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
