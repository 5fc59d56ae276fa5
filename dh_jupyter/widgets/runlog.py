"""The run monitor's log: which lines are kept, and when they are repainted.

A run can print faster than a browser can take repaints, and for longer
than a kernel should remember. So the log keeps the last
``MAX_KEPT_LINES`` lines (and says so once it drops older ones), shows the
last ``max_lines`` of them unless the user presses Full log, and repaints
at most every ``PAINT_INTERVAL`` seconds: lines that arrive in between
wait for the next line or for the monitor's clock (``catch_up``).

Showing the lines, and sending only what changed, is ``LogView``'s job,
which this class extends; following the run is the monitor's.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Any

import ipywidgets as widgets
from traitlets import Int, observe

from dh_jupyter.widgets.logview import LogView

# Lines kept for the full log; beyond this the oldest go, said in the log.
MAX_KEPT_LINES = 100_000
# Repaint the log at most this often, so a chatty run does not flood the
# browser with one message per line.
PAINT_INTERVAL = 0.25


class RunLog(LogView):
    """A run's log lines, kept and shown as the last ones or in full."""

    max_lines = Int(
        200,
        help="""How many of the log's last lines are shown; the Full log
        button shows every line kept. The monitor checks the value.""",
    )
    line_count = Int(
        0,
        help="How many log lines have arrived so far.",
    )

    def __init__(self, max_lines: int, lock: threading.RLock, **kwargs: Any) -> None:
        # The monitor's lock: its clock paints the log and the status line
        # together, so one lock keeps the two from waiting on each other.
        self._lock = lock
        self._tail: collections.deque[str] = collections.deque(maxlen=max_lines)
        self._kept: collections.deque[str] = collections.deque(maxlen=MAX_KEPT_LINES)
        self._dirty = False
        self._dropped = False
        self._painted_at = 0.0

        self.full_log = widgets.ToggleButton(
            description="Full log",
            icon="list",
            tooltip="Show every line of the log instead of the last ones",
        )
        self.full_log.add_class("dh-monitor-full-log")
        self.full_log.observe(lambda _change: self.paint(), "value")

        super().__init__(**kwargs)
        self.max_lines = max_lines

    @observe("max_lines")
    def _keep_last(self, change: dict[str, Any]) -> None:
        with self._lock:
            self._tail = collections.deque(self._kept, maxlen=change["new"])

    @property
    def lines(self) -> list[str]:
        """Every log line kept so far (the last ``MAX_KEPT_LINES``)."""
        with self._lock:
            return list(self._kept)

    def add(self, line: str) -> None:
        """Keep one log line; repaint unless the last repaint was just now."""
        with self._lock:
            if len(self._kept) == MAX_KEPT_LINES:
                self._dropped = True
            self._kept.append(line)
            self._tail.append(line)
            self.line_count += 1
            self._dirty = True
            if time.monotonic() - self._painted_at >= PAINT_INTERVAL:
                self.paint()

    def catch_up(self) -> None:
        """Paint the lines that arrived since the last repaint, if any."""
        with self._lock:
            if self._dirty:
                self.paint()

    def paint(self) -> None:
        """Repaint the log: the tail, or the full log's newest page only."""
        with self._lock:
            self._dirty = False
            self._painted_at = time.monotonic()
            full = self.full_log.value
            self.full_log.description = (
                f"Last {self.max_lines} lines" if full else "Full log"
            )
            if full:
                note = (
                    f"(only the last {MAX_KEPT_LINES} lines are kept; "
                    "run.logs() reads the whole log again)"
                    if self._dropped
                    else ""
                )
                self.show_all(self._kept, self.line_count, note)
                return
            hidden = self.line_count - len(self._tail)
            note = (
                f"({hidden} earlier lines: press Full log to see them)"
                if hidden > 0
                else ""
            )
            self.show_tail(list(self._tail), note)
