"""The run monitor: one run's status, elapsed time, logs and Cancel, live.

The same widget serves two callers. ``%%dhrun`` calls ``follow()``, which
blocks the cell until the run ends (widget updates still reach the browser
while the cell runs) and lets a KeyboardInterrupt from the stop button
through to the magic, which decides whether to cancel. The picker's Submit
calls ``start()``, which follows in a background thread so the kernel stays
free and the Cancel button works.

While a cell blocks in ``follow()`` the kernel handles no clicks: one on
Cancel would wait in the queue and run only after the run ended, and
cancelling then would delete a finished Job with its logs. So Cancel is off
while the cell is busy (the monitor says to use the stop button instead),
and cancelling a run that has finished does nothing but say so.

The monitor shows the last ``max_lines`` lines of the log, because a
notebook output that grows by megabytes freezes the browser; the full log
is one click away, in pages (``logview``) so that a repaint never sends the
whole log again. It only shows ``Status`` and log lines, never Kubernetes
objects: explaining a run is the runs layer's job.

This module follows the run and owns Cancel; how a status reads is
``statusline``'s, and which log lines are kept and when they are repainted
is ``runlog``'s.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import Any

import ipywidgets as widgets
from traitlets import Bool, Instance, Int, TraitError, validate

from dh_jupyter.errors import DhJupyterError
from dh_jupyter.runs.base import Run
from dh_jupyter.runs.status import Status
from dh_jupyter.widgets.fields import escaped
from dh_jupyter.widgets.runlog import RunLog
from dh_jupyter.widgets.statusline import (
    DONE_STEP,
    elapsed,
    progress_bar,
    show_progress,
    status_html,
)

# DONE_STEP belongs to the status line; it is named here too, where the
# monitor's callers have always found it.
__all__ = ["DONE_STEP", "RunMonitor"]

logger = logging.getLogger(__name__)

CANCEL_TIP = "Stop the run and delete what it made"
BUSY_NOTE = (
    "The cell is busy following this run, so Cancel cannot be clicked; press "
    "the notebook's stop button (■) to interrupt the cell."
)


class RunMonitor(widgets.VBox):
    """A run's status line, elapsed time, progress, logs and Cancel button."""

    status = Instance(
        Status,
        allow_none=True,
        help="""The run's latest status; once the run has finished, its final
        status (``status.phase.finished`` is then true).""",
    )
    max_lines = Int(
        200,
        help="""How many of the log's last lines are shown; the Full log
        button shows every line kept. Example: 50. Default: 200.""",
    )
    line_count = Int(
        0,
        help="How many log lines have arrived so far.",
    )
    following = Bool(
        False,
        help="Whether the monitor is following the run right now.",
    )

    def __init__(self, run: Run, *, max_lines: int = 200, **kwargs: Any) -> None:
        self.run = run
        self._lock = threading.RLock()
        self._message: tuple[str, bool] = ("", False)
        self._stop_ticking = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        # True while a cell (not our own thread) blocks in follow().
        self._blocking = False
        info = run.info
        self._since = info.created or datetime.now(timezone.utc)

        where = f" in namespace {info.namespace}" if info.namespace else ""
        self._title = widgets.HTML(
            f"<b>{escaped(info.name)}</b> ({escaped(info.backend)}{escaped(where)})"
        )
        self._status_line = widgets.HTML()
        self._status_line.add_class("dh-monitor-status")
        self._elapsed = widgets.Label()
        self._elapsed.add_class("dh-monitor-elapsed")
        self._progress = progress_bar()
        self.cancel_button = widgets.Button(
            description="Cancel",
            icon="stop",
            button_style="warning",
            tooltip=CANCEL_TIP,
        )
        self.cancel_button.add_class("dh-monitor-cancel")
        self.cancel_button.on_click(lambda _button: self._cancel_clicked())
        self._logs = RunLog(max_lines, self._lock)
        self._logs.add_class("dh-monitor-logs")
        self.full_log = self._logs.full_log

        super().__init__(
            children=[
                self._title,
                widgets.HBox(
                    [self._progress, self._elapsed, self.cancel_button, self.full_log],
                    layout=widgets.Layout(align_items="center"),
                ),
                self._status_line,
                self._logs,
            ],
            **kwargs,
        )
        self.add_class("dh-monitor")
        widgets.dlink((self._logs, "line_count"), (self, "line_count"))
        self.max_lines = max_lines
        self.show_status(run.status)
        self._paint_logs()

    @validate("max_lines")
    def _check_max_lines(self, proposal: dict[str, Any]) -> int:
        value: int = proposal["value"]
        if value < 1:
            raise TraitError(
                f"max_lines is {value}; show at least 1 line (the full log is "
                "one click away)."
            )
        self._logs.max_lines = value
        return value

    @property
    def finished(self) -> bool:
        """Whether the run has finished (succeeded, failed or was cancelled)."""
        return self.status is not None and self.status.phase.finished

    @property
    def logs(self) -> list[str]:
        """Every log line kept so far (the last ``MAX_KEPT_LINES``)."""
        return self._logs.lines

    def follow(self) -> Status:
        """Show the run as it goes and block until it finishes; the final status.

        A KeyboardInterrupt (the notebook's stop button) stops the following
        and reaches the caller; the run itself goes on unless the caller
        cancels it. An error of the runs layer is shown, then raised.
        """
        from dh_jupyter.runs.follow import follow

        if threading.current_thread() is not self._thread:
            # The kernel is busy with this cell, so a click could only be
            # handled after the run ends; the stop button is the way out.
            with self._lock:
                self._blocking = True
                self.cancel_button.disabled = True
                self.cancel_button.tooltip = BUSY_NOTE
                self._paint_status()
        self._begin()
        try:
            final = follow(self.run, self.show_status, self.add_line)
            self.show_status(final)
        except KeyboardInterrupt:
            self.say("Stopped following the run (interrupted).")
            raise
        except DhJupyterError as error:
            self.say(str(error))
            raise
        finally:
            self._blocking = False
            self._end()
        return final

    def start(self) -> None:
        """Follow the run in a background thread, so Cancel stays clickable."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._follow_quietly,
            name=f"dh-jupyter-monitor-{self.run.name}",
            daemon=True,
        )
        self._thread.start()

    def join(self, timeout: float | None = None) -> Status | None:
        """Wait for ``start()``'s following to end; the final status, or None."""
        self._done.wait(timeout)
        return self.status if self.finished else None

    def cancel(self) -> None:
        """Cancel the run; its status becomes cancelled as the runs layer sees it.

        A run that has finished is left as it is (cancelling it would delete
        its Job and logs); the monitor says so instead.
        """
        ended = self._ended()
        if ended is not None:
            self.cancel_button.disabled = True
            self.say(
                f"The run already {ended.phase.value}; there is nothing to cancel, "
                "so it is left as it is.",
                error=False,
            )
            return
        self.cancel_button.disabled = True
        self.cancel_button.description = "Cancelling..."
        try:
            self.run.cancel()
        finally:
            self.cancel_button.description = "Cancel"
            self.cancel_button.disabled = self.finished

    def show_status(self, status: Status) -> None:
        """Show ``status``: the plain-words line, progress and elapsed time."""
        with self._lock:
            self.status = status
            self._paint_status()

    def add_line(self, line: str) -> None:
        """Add one log line; the log is repainted at most every quarter second."""
        self._logs.add(line)

    def _follow_quietly(self) -> None:
        try:
            self.follow()
        except DhJupyterError as error:
            logger.warning("Stopped following run %s: %s", self.run.name, error)

    def _begin(self) -> None:
        self.following = True
        self._stop_ticking.clear()
        threading.Thread(
            target=self._tick, name="dh-jupyter-monitor-clock", daemon=True
        ).start()

    def _end(self) -> None:
        self._stop_ticking.set()
        self.following = False
        with self._lock:
            self._paint_logs()
            self._paint_status()
            # Interrupted, the cell is free again: Cancel works if the run goes on.
            self.cancel_button.disabled = self.finished
            self.cancel_button.tooltip = CANCEL_TIP
        self._done.set()

    def _ended(self) -> Status | None:
        """The final status if the run has finished, as the monitor or the run knows."""
        if self.finished:
            return self.status
        # The run may have ended while nobody followed it (after an interrupt).
        status = self.run.status
        return status if status.phase.finished else None

    def _tick(self) -> None:
        """Once a second, move the clocks on and paint lines that wait."""
        while not self._stop_ticking.wait(1.0):
            with self._lock:
                self._paint_status()
                self._logs.catch_up()

    def _cancel_clicked(self) -> None:
        try:
            self.cancel()
        except DhJupyterError as error:
            self.say(str(error))

    def say(self, text: str, *, error: bool = True) -> None:
        """Show a sentence under the status line (in the error colour if ``error``)."""
        with self._lock:
            self._message = (text, error)
            self._paint_status()

    def _paint_status(self) -> None:
        status = self.status
        now = datetime.now(timezone.utc)
        self._elapsed.value = elapsed(status, self._since, now)
        text, error = self._message
        busy = self._blocking and not (status is not None and status.phase.finished)
        self._status_line.value = status_html(
            status, now, message=text, error=error, note=BUSY_NOTE if busy else ""
        )

        if status is None:
            return
        show_progress(self._progress, status)
        if status.phase.finished:
            self.cancel_button.disabled = True

    def _paint_logs(self) -> None:
        """Repaint the log now: the tail, or the full log's newest page only."""
        self._logs.paint()
