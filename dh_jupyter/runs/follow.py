"""Following a run's status and its logs at once, from one thread's view.

A run's status and its logs come from two blocking sources (``Run.wait`` and
``Run.logs(follow=True)``). Each gets a worker thread that only queues what
it sees; the caller's thread takes from the queue and calls the callbacks,
so output appears in the cell that asked for it and a KeyboardInterrupt (the
notebook's stop button) lands in the caller, who decides whether to cancel.

The two sources do not keep pace: the end of a run is often seen before its
last lines are read. A finished status is therefore held back until the
logs are drained (or ``LOG_GRACE_SECONDS`` pass), so "succeeded in 2 s"
comes after the cell's last output, as it does in a terminal.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from dh_jupyter.errors import DhJupyterError
from dh_jupyter.runs.base import Run
from dh_jupyter.runs.status import Status

logger = logging.getLogger(__name__)

# How long to keep reading logs after the run finished, for the last lines.
LOG_GRACE_SECONDS = 5.0


def follow(
    run: Run,
    on_status: Callable[[Status], None],
    on_line: Callable[[str], None],
    *,
    poll: float = 0.2,
) -> Status:
    """Call ``on_status`` and ``on_line`` as things happen; return the last status."""
    events: queue.Queue[tuple[str, object]] = queue.Queue()

    def watch_status() -> None:
        try:
            final = run.wait(on_status=lambda status: events.put(("status", status)))
            events.put(("finished", final))
        except DhJupyterError as error:
            events.put(("error", error))

    def read_logs() -> None:
        try:
            for line in run.logs(follow=True):
                events.put(("line", line))
        except DhJupyterError as error:
            # Logs are a courtesy; a broken log stream must not fail the run.
            logger.warning("Stopped reading the logs of %s: %s", run.name, error)
        finally:
            events.put(("logs-done", None))

    for target, label in ((watch_status, "status"), (read_logs, "logs")):
        threading.Thread(target=target, name=f"dhrun-{label}", daemon=True).start()

    final: Status | None = None
    # A finished status seen before the logs ended, shown once they have.
    held: Status | None = None
    logs_done = False
    deadline: float | None = None
    waited = 0.0
    while not (final is not None and (logs_done or waited >= (deadline or 0))):
        try:
            kind, payload = events.get(timeout=poll)
        except queue.Empty:
            if final is not None:
                waited += poll
            continue
        if kind == "status":
            assert isinstance(payload, Status)
            if payload.phase.finished and not logs_done:
                held = payload
            else:
                on_status(payload)
        elif kind == "line":
            assert isinstance(payload, str)
            on_line(payload)
        elif kind == "logs-done":
            logs_done = True
        elif kind == "finished":
            assert isinstance(payload, Status)
            final, deadline = payload, LOG_GRACE_SECONDS
        elif kind == "error":
            assert isinstance(payload, DhJupyterError)
            raise payload

    # Drain what arrived together with the end, then say how it ended.
    while not events.empty():
        kind, payload = events.get_nowait()
        if kind == "line" and isinstance(payload, str):
            on_line(payload)
    if held is not None:
        on_status(held)
    return final
