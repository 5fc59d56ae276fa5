"""How a local run's states are said: in the words a cluster run gets.

A user who moves a notebook between a laptop and a cluster must meet one
vocabulary, so every ending a Job can also have is worded exactly as
``dh_jupyter.runs.explain`` words it for Kubernetes: a cell stopped for using
more memory than its limit reads like ``OOMKilled`` ("ran out of memory and
was killed"), one past its timeout like ``DeadlineExceeded``, the last of
its retries like ``BackoffLimitExceeded`` ("on attempt 3, its last"). Exit
codes of processes killed by a signal are ``128 + signal``, as a container
runtime reports them. Only what a cluster cannot tell (which signal crashed
a process, a supervisor that vanished) has words of its own here.

The sentences both backends say come from ``runs.endings``, so they cannot
drift apart. Only wording lives here; deciding which ending happened is the
supervisor's job.
"""

from __future__ import annotations

import signal
from datetime import datetime

from dh_jupyter.runs import endings
from dh_jupyter.runs.local_proc import signal_name
from dh_jupyter.runs.status import Phase, Status

_SIGNAL_HINTS = {
    signal.SIGKILL: (
        "Something stopped it from outside; on this machine that is often the "
        "system's out-of-memory killer (a memory limit, --mem, makes it clear)."
    ),
    signal.SIGTERM: "It received SIGTERM from outside dh-jupyter.",
    signal.SIGSEGV: (
        "The Python process crashed (a segmentation fault), usually inside a "
        "compiled library; the end of its logs may say where."
    ),
    signal.SIGABRT: "A library aborted the process; the end of its logs may say why.",
}
# Said when something other than a cancel stopped the supervisor.
_STOPPED_FROM_OUTSIDE = (
    "its process was stopped from outside before it finished",
    "Something else stopped it (a shutdown of this machine?); run the cell again.",
)


def starting() -> Status:
    return Status(Phase.PENDING, "starting a process on this machine")


def running(started: datetime, attempt: int = 1) -> Status:
    where = "on this machine" + (f", attempt {attempt}" if attempt > 1 else "")
    return Status(Phase.RUNNING, where, started=started)


def succeeded(started: datetime | None, finished: datetime) -> Status:
    return Status(Phase.SUCCEEDED, started=started, finished=finished, exit_code=0)


def exited(code: int, started: datetime | None, finished: datetime) -> Status:
    """The status of a cell whose process ended by itself with ``code``.

    ``code`` is as ``os.waitstatus_to_exitcode`` gives it: negative for a
    process a signal ended.
    """
    if code == 0:
        return succeeded(started, finished)
    if code < 0:
        return _killed_by(-code, started, finished)
    return _failed(endings.exited(code), started, finished, code)


def _killed_by(number: int, started: datetime | None, finished: datetime) -> Status:
    code = 128 + number
    try:
        known: signal.Signals | None = signal.Signals(number)
    except ValueError:
        known = None
    reason = endings.signalled(code) or (
        f"the cell was stopped by {signal_name(number)} (exit code {code})"
    )
    hint = _SIGNAL_HINTS.get(known, "") if known else ""
    return _failed((reason, hint), started, finished, code)


def out_of_memory(limit: str, started: datetime | None, finished: datetime) -> Status:
    """The status of a cell stopped for using more memory than its limit."""
    said = endings.out_of_memory(limit)
    return _failed(said, started, finished, 128 + signal.SIGKILL)


def evicted(
    volume: str,
    limit: str,
    field: str,
    started: datetime | None,
    finished: datetime,
) -> Status:
    """The status of a run stopped because an empty dir grew past its size_limit.

    Worded as the kubelet's eviction of such a pod reads on a cluster.
    """
    return Status(
        Phase.FAILED,
        f'it was evicted: usage of the empty_dir volume "{volume}" exceeds its '
        f'size_limit "{limit}"',
        f'Give it more room: set {field} to "{endings.doubled(limit)}" or more, '
        "or make the cell write less there.",
        started=started,
        finished=finished,
    )


def deadline_exceeded(
    timeout: int, started: datetime | None, finished: datetime
) -> Status:
    """The status of a cell stopped because its timeout passed."""
    return _failed(endings.timed_out(timeout), started, finished)


def last_attempt(attempt: int, last: Status) -> Status:
    """The status of a run whose every attempt failed; ``last`` says how."""
    return Status(
        last.phase,
        last.reason + endings.on_last_attempt(attempt),
        last.hint,
        started=last.started,
        finished=last.finished,
        exit_code=last.exit_code,
    )


def cancelled(
    started: datetime | None, finished: datetime, *, by_user: bool = True
) -> Status:
    """The status of a run stopped before it finished.

    ``by_user`` says someone asked (``%dhcancel``, the stop button, the runs
    panel); otherwise the supervisor was told to stop by something else.
    """
    outside = None if by_user else _STOPPED_FROM_OUTSIDE
    return endings.cancelled(started, finished, outside)


def lost(
    pid: object, diagnostics: object, started: datetime | None, finished: datetime
) -> Status:
    """The status of a run whose supervising process vanished mid-way."""
    return Status(
        Phase.FAILED,
        f"the process that ran it on this machine (pid {pid}) ended without "
        "recording how the cell ended",
        f"It was killed, or the machine restarted ({diagnostics} may say "
        "more); run the cell again.",
        started=started,
        finished=finished,
    )


def _failed(
    said: tuple[str, str],
    started: datetime | None,
    finished: datetime,
    code: int | None = None,
) -> Status:
    # Every failed ending is a reason and a hint; only some have an exit code.
    reason, hint = said
    return Status(
        Phase.FAILED, reason, hint, started=started, finished=finished, exit_code=code
    )
