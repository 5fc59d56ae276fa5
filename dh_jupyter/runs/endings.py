"""How a cell's ending is said, in the same words on a cluster and on this machine.

A user who moves a notebook between a laptop and a cluster must meet one
vocabulary: a cell that ran out of memory, went past its timeout, exited
with an error, was killed by a signal or was cancelled reads the same
whether a Job's pod (``runs.explain``) or a local process
(``runs.local_status``) told us how it ended. Both call these functions, so
the two wordings cannot drift apart.

What it deliberately does not do: decide which ending happened, or word what
only one backend can tell. The hint for a killed cell names the pod's events
on a cluster and the out-of-memory killer on this machine, so each backend
keeps its own.
"""

from __future__ import annotations

import re
import signal
from datetime import datetime

from dh_jupyter.runs.status import Phase, Status

# A container runtime reports a signal's end as 128 + signal; these two are
# the ones a cluster stops cells with, so both backends name them alike.
_SIGNALLED = {
    128 + signal.SIGKILL: "was killed",
    128 + signal.SIGTERM: "was stopped",
}


def exited(code: int) -> tuple[str, str]:
    """The reason and hint for a cell that exited with ``code`` by itself."""
    return (f"the cell exited with code {code}", "The end of its logs shows the error.")


def signalled(code: int) -> str:
    """The reason for exit code 137 (SIGKILL) or 143 (SIGTERM); "" for others."""
    how = _SIGNALLED.get(code)
    return f"the cell {how} (exit code {code})" if how else ""


def out_of_memory(limit: str) -> tuple[str, str]:
    """The reason and hint for a cell killed past its memory ``limit`` ("": unknown)."""
    if limit:
        return (
            f"the cell ran out of memory and was killed (its limit is {limit})",
            f'Ask for more memory: set resources.mem.limits to "{doubled(limit)}" '
            "or more.",
        )
    return (
        "the cell ran out of memory and was killed",
        "Ask for more memory: set resources.mem.requests and "
        'resources.mem.limits, for example "4Gi".',
    )


def timed_out(timeout: int) -> tuple[str, str]:
    """The reason and hint for a cell stopped after ``timeout`` seconds (0: unknown)."""
    limit = f" of {duration(timeout)}" if timeout else ""
    return (
        f"it ran longer than its timeout{limit}",
        "Raise timeout, or make the cell finish sooner.",
    )


def on_last_attempt(attempt: int) -> str:
    """What a reason gets when ``attempt`` was the last its retries allowed."""
    return f" on attempt {attempt}, its last"


def cancelled(
    started: datetime | None,
    finished: datetime,
    outside: tuple[str, str] | None = None,
) -> Status:
    """A run stopped before it finished: by you, or else by ``outside``.

    ``outside`` is the reason and hint of whatever else stopped it, which
    only its backend can name.
    """
    if outside is None:
        return Status(
            Phase.CANCELLED, "you cancelled it", started=started, finished=finished
        )
    reason, hint = outside
    return Status(Phase.CANCELLED, reason, hint, started=started, finished=finished)


def duration(seconds: int) -> str:
    """A timeout as people say it: ``600`` is ``10 min``, ``5400`` ``1 h 30 min``."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes else []
    parts += [f"{secs} s"] if secs or not parts else []
    return " ".join(parts)


def doubled(quantity: str) -> str:
    """Twice a quantity, in the same unit: ``"128Mi"`` → ``"256Mi"``."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([A-Za-z]*)", quantity)
    if match is None:
        return quantity
    number = float(match[1]) * 2
    return (str(int(number)) if number.is_integer() else f"{number:g}") + match[2]
