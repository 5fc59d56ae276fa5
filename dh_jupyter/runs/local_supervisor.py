"""The process that runs one local cell and records how it ended.

The kernel starts this supervisor in a session of its own and returns; the
supervisor starts the cell (``python -u cell.py``, the kernel's Python) with
its stdout and stderr appended straight to ``output.log``, enforces the
limits, and is the one writer of the run's status until it ends. Because it
does not depend on the kernel, a run survives a kernel restart the way a
Job does, and anyone (a new kernel, the Jupyter server) can follow or
cancel it through the run's folder.

Limits, and why they are enforced this way:

- CPU: the supervisor pins itself to the planned cores before starting the
  cell, so the cell and everything it starts inherit them.
- Memory: the supervisor measures, every 100 ms (every 20 ms past half the
  limit), the proportional memory of every process below it, plus the files
  in the run's in-memory empty dirs (a memory cgroup charges tmpfs too; see
  ``local_usage``), and kills them all the moment the total passes the
  limit; the run then reads ``OOMKilled``. This was chosen over
  ``RLIMIT_AS``, which limits address space rather than memory (Python,
  BLAS and CUDA reserve far more than they use, so honest cells would fail)
  and applies per process, not to the whole tree; and over cgroups, which
  most laptops and containers do not let a user create. Its known limits:
  memory allocated faster than the polling interval may exceed the limit
  for a moment before the kill, and files the cell writes to the shared
  ``/dev/shm`` outside its own empty dirs cannot be told from other
  programs' files, so they are not counted.
- The tree: the supervisor makes itself a child subreaper, so processes the
  cell starts and abandons stay below it, are counted, and are stopped with
  the cell; when the cell's main process ends, any of them still running is
  killed, as a container's are.
- An empty dir's ``size_limit``: its folder is walked every few seconds,
  and a run whose folder grows past it is stopped and reported evicted, as
  the kubelet evicts such a pod.
- Timeout: counted from the supervisor's start across all attempts, as
  ``activeDeadlineSeconds`` is; the cell gets SIGTERM, then SIGKILL after a
  grace period.
- Cancel: SIGTERM to the supervisor, or the ``cancel`` mark in the folder;
  the same stop as a timeout, recorded as cancelled.
- A supervisor that dies (``kill -9``, a crash): on Linux the cell's main
  process is started with ``PR_SET_PDEATHSIG``, so the kernel kills it the
  moment the supervisor dies, and its limits cannot be left unenforced.
  Processes the cell started do not get that signal, so every process of a
  run carries ``DH_JUPYTER_RUN=<run name>`` in its environment, and whoever
  next reads the run's status finds it lost and kills every process of this
  user that carries the tag (``local_proc.tagged``). Until someone reads it,
  such processes go on. On macOS there is no ``PR_SET_PDEATHSIG`` and no
  ``/proc``: there the cell's process group is killed when the run is found
  lost, and processes it moved to a session of their own are not.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import select
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from dh_jupyter.runs import local_mounts, local_proc, local_status
from dh_jupyter.runs.local_state import Plan, RunFolder, now
from dh_jupyter.runs.local_usage import Excess, UsageWatch
from dh_jupyter.runs.status import Phase, Status

log = logging.getLogger(__name__)

GRACE_SECONDS = 5.0
_POLL = 0.1
_POLL_NEAR_LIMIT = 0.02
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_PDEATHSIG = 1


class Supervisor:
    """Runs the cell of the run in ``folder`` through its attempts."""

    def __init__(self, folder: RunFolder) -> None:
        self.folder = folder
        self.plan = Plan.from_record(folder.info()["plan"], os.environ)
        self.stop_asked = False
        self.started: datetime | None = None
        self.deadline: float | None = None
        self.child: subprocess.Popen[bytes] | None = None
        self.child_code: int | None = None
        # Readable whenever a signal arrives; see ``listen_for_signals``.
        self.wakeup: int | None = None
        self.usage = UsageWatch(self.plan, _POLL, _POLL_NEAR_LIMIT)

    def run(self) -> Status:
        """Run every attempt the plan allows; the final status."""
        self.deadline = (
            time.monotonic() + self.plan.timeout if self.plan.timeout else None
        )
        if self.plan.cores:
            os.sched_setaffinity(0, self.plan.cores)
        attempts = self.plan.retries + 1
        last: Status | None = None
        for attempt in range(1, attempts + 1):
            if self.stop_asked or self.folder.cancel_requested():
                return self.cancelled()
            if last is not None:
                self.folder.append_log(
                    f"attempt {attempt} of {attempts} starts; attempt "
                    f"{attempt - 1} ended: {last.reason}."
                )
            last = self.attempt(attempt)
            if last.phase is not Phase.FAILED or last.exit_code is None:
                # Succeeded, cancelled, or past the deadline: no retry helps.
                return last
        assert last is not None
        if attempts > 1:
            return local_status.last_attempt(attempts, last)
        return last

    def attempt(self, number: int) -> Status:
        """Run the cell once and say how that went."""
        with open(self.folder.log_path, "ab") as output:
            self.child_code = None
            self.child = subprocess.Popen(
                [self.plan.python, "-u", str(self.folder.code_path)],
                cwd=self.plan.cwd,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with(os.getpid()),
            )
        if self.started is None:
            self.started = now()
        self.folder.update(
            local_status.running(self.started, number),
            process=local_proc.identity(self.child.pid),
            attempt=number,
        )
        log.info("Started the cell as process %s (attempt %s).", self.child.pid, number)

        try:
            stopped = self.watch()
        finally:
            # When the main process ends, so does everything it left behind.
            self.kill_tree()
        if stopped is None:
            # A quick cell may fill an empty dir between two looks: one more.
            excess = self.usage.check(os.getpid(), last=True)
            stopped = None if excess is None else self.stop_for(excess)
        if stopped is not None:
            return stopped
        assert self.child_code is not None
        return local_status.exited(self.child_code, self.started, now())

    def watch(self) -> Status | None:
        """Wait for the cell's process to end, or stop it when a limit says so.

        Returns None when the cell ended by itself, else the status of the stop.
        """
        while True:
            self.reap()
            if self.child_code is not None:
                return None
            if self.stop_asked or self.folder.cancel_requested():
                status = self.cancelled()
                self.terminate(status.reason)
                return status
            if self.deadline is not None and time.monotonic() >= self.deadline:
                timeout = self.plan.timeout or 0
                status = local_status.deadline_exceeded(timeout, self.started, now())
                self.terminate(status.reason)
                return status
            excess = self.usage.check(os.getpid())
            if excess is not None:
                return self.stop_for(excess)
            self.pause(self.usage.pause)

    def stop_for(self, excess: Excess) -> Status:
        """Kill the cell at once, as a pod's OOM killer or the kubelet's eviction."""
        self.kill_tree()
        self.folder.append_log(excess.line)
        if excess.mount is not None:
            mount = excess.mount
            field = mount.field.removesuffix(".mount_path") + ".spec.size_limit"
            return local_status.evicted(
                mount.volume, mount.size_text, field, self.started, now()
            )
        text = self.plan.memory_text or str(self.plan.memory_limit)
        return local_status.out_of_memory(text, self.started, now())

    def pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less when a signal (the cell ending, a cancel) comes."""
        if self.wakeup is None:
            time.sleep(seconds)
            return
        ready, _, _ = select.select([self.wakeup], [], [], seconds)
        if ready:
            # Empty the pipe: one wake-up per batch of signals is enough.
            with contextlib.suppress(BlockingIOError):
                os.read(self.wakeup, 512)

    def cancelled(self) -> Status:
        """Cancelled by someone who left the mark, or stopped by a bare signal."""
        by_user = self.folder.cancel_requested()
        return local_status.cancelled(self.started, now(), by_user=by_user)

    def terminate(self, why: str) -> None:
        """Ask the cell's processes to stop, then kill what is left after a grace."""
        self.folder.append_log(f"stopping the cell: {why}.")
        self.signal_tree(signal.SIGTERM)
        end = time.monotonic() + GRACE_SECONDS
        while time.monotonic() < end:
            self.reap()
            if self.child_code is not None and not local_proc.descendants(os.getpid()):
                return
            time.sleep(0.05)
        self.kill_tree()

    def kill_tree(self) -> None:
        """SIGKILL every process below the supervisor, and wait for them."""
        for _ in range(50):
            self.signal_tree(signal.SIGKILL)
            self.reap()
            if self.child_code is not None and not local_proc.descendants(os.getpid()):
                return
            time.sleep(0.02)
        log.warning("Some processes of the cell did not end after SIGKILL.")

    def signal_tree(self, sig: signal.Signals) -> None:
        if self.child is not None:
            local_proc.send_group(self.child.pid, sig)
        local_proc.send(local_proc.descendants(os.getpid()), sig)

    def reap(self) -> None:
        """Collect every ended child; note the cell's own exit code."""
        while True:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if self.child is not None and pid == self.child.pid:
                self.child_code = os.waitstatus_to_exitcode(wait_status)
                # Tell Popen, so it does not wait for a process already gone.
                self.child.returncode = self.child_code


def main(path: str) -> int:
    """Supervise the run whose folder is ``path``; the exit code of this process."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    folder = RunFolder(Path(path))
    supervisor = Supervisor(folder)

    supervisor.wakeup = _listen_for_signals(supervisor)
    _become_subreaper()

    try:
        status = supervisor.run()
    except BaseException as error:  # record any failure, then let it be seen
        supervisor.kill_tree()
        status = Status(
            Phase.FAILED,
            f"the local supervisor failed: {type(error).__name__}: {error}",
            f"Its traceback is in {folder.path / 'supervisor.log'}.",
            started=supervisor.started,
            finished=now(),
        )
        traceback.print_exc()
    with folder.locked():
        # Links and scratch folders go first: whoever sees the run finished
        # may rely on them being gone (and reuse the mount path at once).
        local_mounts.release(folder)
        recorded = folder.update_locked(status)
    log.info("The run ended: %s (recorded: %s).", status.describe(), recorded)
    return 0


def _listen_for_signals(supervisor: Supervisor) -> int:
    """Make stop signals ask the supervisor to stop, and every signal wake it.

    Returns a file descriptor that becomes readable when a signal arrives,
    so the watch wakes the moment the cell ends (SIGCHLD) or a cancel comes
    (SIGTERM) instead of at its next poll.
    """

    def ask_to_stop(number: int, frame: object) -> None:
        supervisor.stop_asked = True

    def wake(number: int, frame: object) -> None:
        return None

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, ask_to_stop)
    signal.signal(signal.SIGCHLD, wake)
    readable, writable = os.pipe()
    os.set_blocking(readable, False)
    os.set_blocking(writable, False)
    signal.set_wakeup_fd(writable, warn_on_full_buffer=False)
    return readable


def _die_with(parent: int) -> Callable[[], None] | None:
    """What the cell's process runs before the cell: die when ``parent`` dies.

    Linux only (``PR_SET_PDEATHSIG``); elsewhere None, and the cell lives on
    until its run is found lost. The supervisor has one thread, so the
    signal comes when the supervisor itself ends, not one of its threads.
    """
    if not sys.platform.startswith("linux"):
        return None
    # Loaded here, before the fork: the child only calls into it.
    libc = ctypes.CDLL(None, use_errno=True)

    def die_with_parent() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:
            # The supervisor died before the call above: follow it now.
            os.kill(os.getpid(), signal.SIGKILL)

    return die_with_parent


def _become_subreaper() -> None:
    """Adopt the processes the cell abandons, so they are counted and stopped."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        log.warning("Could not become a subreaper; abandoned processes escape.")
