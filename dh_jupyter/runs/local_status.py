"""How a local run's endings are said: the same words a cluster run gets.

A cell stopped for using too much memory reads ``OOMKilled`` and one past its
timeout reads ``DeadlineExceeded``, as on Kubernetes, so a user who moves a
notebook between a laptop and a cluster meets one vocabulary. Exit codes of
processes killed by a signal are written ``128 + signal``, as a container
runtime reports them. Only wording lives here; deciding which ending
happened is the supervisor's job.
"""

from __future__ import annotations

import signal
from datetime import datetime

from dh_jupyter.runs.local_proc import signal_name
from dh_jupyter.runs.status import Phase, Status, span

_MIB = 2**20
_GIB = 2**30

_SIGNAL_HINTS = {
    signal.SIGKILL: (
        "Something outside dh-jupyter killed it; the system's out-of-memory "
        "killer does this when the machine runs out of memory, and a memory "
        "limit (--mem) turns that into a clear OOMKilled."
    ),
    signal.SIGSEGV: (
        "The Python process crashed (a segmentation fault), usually inside a "
        "compiled library; the end of its logs may say where."
    ),
    signal.SIGABRT: "A library aborted the process; the end of its logs may say why.",
    signal.SIGTERM: "Something outside dh-jupyter asked it to stop.",
}


def starting() -> Status:
    return Status(Phase.PENDING, "starting a process on this machine")


def running(started: datetime) -> Status:
    return Status(Phase.RUNNING, "on this machine", started=started)


def succeeded(started: datetime | None, finished: datetime) -> Status:
    return Status(Phase.SUCCEEDED, started=started, finished=finished, exit_code=0)


def exited(code: int, started: datetime | None, finished: datetime) -> Status:
    """The status of a cell whose process ended by itself with ``code``."""
    if code == 0:
        return succeeded(started, finished)
    if code < 0:
        return killed_by(-code, started, finished)
    reason = f"the cell failed with exit code {code}"
    if code == 1:
        hint = (
            "Its logs end with the error; an exception shows as a Python "
            "traceback there."
        )
    else:
        hint = (
            "Its logs end with the error; the code is what the cell passed to "
            "sys.exit() or what a program it ran returned."
        )
    return Status(
        Phase.FAILED, reason, hint, started=started, finished=finished, exit_code=code
    )


def killed_by(number: int, started: datetime | None, finished: datetime) -> Status:
    """The status of a cell whose process a signal stopped from outside."""
    code = 128 + number
    hint = ""
    try:
        hint = _SIGNAL_HINTS.get(signal.Signals(number), "")
    except ValueError:
        hint = ""
    return Status(
        Phase.FAILED,
        f"the cell was stopped by {signal_name(number)} (exit code {code})",
        hint,
        started=started,
        finished=finished,
        exit_code=code,
    )


def out_of_memory(
    limit: str, used: int, started: datetime | None, finished: datetime
) -> Status:
    """The status of a cell stopped for using more memory than its limit."""
    return Status(
        Phase.FAILED,
        f"OOMKilled: stopped for using more memory than its limit of {limit} "
        f"({used / _MIB:.0f} MiB in use)",
        f"Raise the memory limit (resources.mem.limits, or --mem REQUEST:LIMIT), "
        f"for example to {larger(used)}, or make the cell use less memory.",
        started=started,
        finished=finished,
        exit_code=128 + signal.SIGKILL,
    )


def deadline_exceeded(
    timeout: int, started: datetime | None, finished: datetime
) -> Status:
    """The status of a cell stopped because its timeout passed."""
    return Status(
        Phase.FAILED,
        f"DeadlineExceeded: stopped after its timeout of {span(timeout)}",
        "Raise the timeout (timeout, or --timeout), or make the cell finish sooner.",
        started=started,
        finished=finished,
    )


def attempts_exhausted(attempts: int, last: Status) -> Status:
    """The status of a run whose every attempt failed; ``last`` says how."""
    return Status(
        Phase.FAILED,
        f"BackoffLimitExceeded: all {attempts} attempts failed; the last: "
        f"{last.reason}",
        last.hint,
        started=last.started,
        finished=last.finished,
        exit_code=last.exit_code,
    )


def cancelled(started: datetime | None, finished: datetime) -> Status:
    return Status(
        Phase.CANCELLED, "stopped on request", started=started, finished=finished
    )


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


def larger(used: int) -> str:
    """A memory limit comfortably above ``used`` bytes: twice it, rounded up."""
    wanted = 2 * used
    if wanted >= _GIB:
        return f"{-(-wanted // _GIB)}Gi"
    return f"{max(64, -(-wanted // (64 * _MIB)) * 64)}Mi"
