"""The run monitor's status line and progress bar: a ``Status`` at a glance.

A user glancing at a running cell wants three things: how far along the
run is (a bar that fills by phase and ends in the colour of the outcome),
how long it has taken (from submission, so time spent waiting for a node
counts too), and the runs layer's sentence on where it is now, with any
note of the monitor's under it. The sentences come from the runs layer;
this module only lays them out.
"""

from __future__ import annotations

from datetime import datetime

import ipywidgets as widgets

from dh_jupyter.runs.status import Phase, Status, clock
from dh_jupyter.widgets.fields import ERROR_COLOR, NOTE_COLOR, escaped

# How far along the progress bar each phase is; finished phases fill it.
STEPS = {
    Phase.QUEUED: 1,
    Phase.PENDING: 1,
    Phase.PULLING: 2,
    Phase.RUNNING: 3,
}
DONE_STEP = 4
BAR_STYLES = {
    Phase.SUCCEEDED: "success",
    Phase.FAILED: "danger",
    Phase.CANCELLED: "warning",
}


def progress_bar() -> widgets.IntProgress:
    """An empty bar with a step for each phase on the way."""
    return widgets.IntProgress(
        min=0,
        max=DONE_STEP,
        bar_style="info",
        layout=widgets.Layout(width="160px"),
    )


def show_progress(bar: widgets.IntProgress, status: Status) -> None:
    """Move ``bar`` to ``status``'s phase; a finished one fills it in its colour."""
    if status.phase.finished:
        bar.value = DONE_STEP
        bar.bar_style = BAR_STYLES[status.phase]
    else:
        bar.value = STEPS[status.phase]
        bar.bar_style = "info"
    bar.description = status.phase.value


def elapsed(status: Status | None, since: datetime, now: datetime) -> str:
    """``03:12 elapsed``: from ``since`` to the run's end, or to ``now``."""
    end = (status.finished if status is not None else None) or now
    seconds = (end - since).total_seconds()
    return f"{clock(max(0.0, seconds))} elapsed"


def status_html(
    status: Status | None,
    now: datetime,
    *,
    message: str = "",
    error: bool = True,
    note: str = "",
) -> str:
    """The status in plain words, then ``message`` and ``note`` under it.

    ``message`` is the monitor's last sentence (in the error colour if
    ``error``); ``note`` is a standing remark in the note colour.
    """
    line = escaped(status.describe(now)) if status is not None else ""
    if message:
        color = ERROR_COLOR if error else NOTE_COLOR
        line += f'<br><span style="color: {color}">{escaped(message)}</span>'
    if note:
        line += f'<br><span style="color: {NOTE_COLOR}">{escaped(note)}</span>'
    return line
