"""One run's log, read once from the cluster and shared by every reader.

The panel follows a log by long-polling: "give me the lines after offset N,
and wait up to 20 s if there are none yet". Reading the whole log from the
cluster for every poll would be slow and heavy, so a ``LogBook`` keeps one
thread on ``Run.logs(follow=True)`` and remembers the latest lines; polls
are answered from memory and wake up as soon as a line arrives.

A book keeps at most ``LIMIT`` lines; a reader that falls further behind is
told how many lines it missed. A reader that asks for the last lines
(``tail``) of a book still reading what the log already holds waits a
moment for that backlog, so a new log tab gets the end of a long log, not
its first lines and then all the others. A followed run that writes nothing holds its
thread until it writes again or ends, because a blocking log stream cannot
be interrupted from outside; an abandoned book stops at the next line.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from dh_jupyter.errors import DhJupyterError

LIMIT = 20_000

# A backlog arrives as one burst of lines; a pause this long (seconds) ends
# it. Live output is usually slower, and at worst it costs SETTLE_SECONDS.
SETTLE_QUIET = 0.1

# The longest a tail request waits for the backlog beyond its own ``wait``.
SETTLE_SECONDS = 3.0


@dataclass(frozen=True)
class LogChunk:
    """Lines ``start`` to ``offset`` of a log, and whether more can come."""

    start: int
    offset: int
    lines: list[str] = field(default_factory=list)
    skipped: int = 0
    done: bool = False
    error: str = ""

    def to_json(self) -> dict[str, object]:
        """The chunk as the logs endpoint answers it."""
        return {
            "start": self.start,
            "offset": self.offset,
            "lines": self.lines,
            "skipped": self.skipped,
            "done": self.done,
            "error": self.error,
        }


class LogBook:
    """The lines a thread reads from ``open_lines()``, for many async readers."""

    def __init__(
        self,
        name: str,
        open_lines: Callable[[], Iterator[str]],
        *,
        limit: int = LIMIT,
        log: logging.Logger | None = None,
    ) -> None:
        self.name = name
        self.done = False
        self.error = ""
        self._open_lines = open_lines
        self._lines: deque[str] = deque(maxlen=limit)
        self._first = 0
        self._lock = threading.Lock()
        self._abandoned = threading.Event()
        self._log = log or logging.getLogger(__name__)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._changed = asyncio.Event()
        self._wake_pending = False
        self._last_read = time.monotonic()
        self._settled = False

    def start(self) -> None:
        """Start reading in a thread; call it from the event loop."""
        self._loop = asyncio.get_running_loop()
        reader = threading.Thread(
            target=self._read, name=f"dh-jupyter-logs-{self.name}", daemon=True
        )
        reader.start()

    def abandon(self) -> None:
        """Stop reading at the next line; nobody will ask for more."""
        self._abandoned.set()

    def idle_for(self) -> float:
        """Seconds since a reader last asked for lines."""
        return time.monotonic() - self._last_read

    @property
    def end(self) -> int:
        """The offset after the last line read so far."""
        with self._lock:
            return self._first + len(self._lines)

    async def read(
        self, offset: int, *, wait: float = 0.0, tail: int | None = None, limit: int
    ) -> LogChunk:
        """The lines from ``offset`` on; waits up to ``wait`` s when there are none."""
        self._last_read = time.monotonic()
        deadline = time.monotonic() + wait
        if tail is not None and not self._settled:
            await self._settle(max(deadline, time.monotonic() + SETTLE_SECONDS))
        while self.end <= offset and not self.done:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), remaining)
            except asyncio.TimeoutError:
                break
        self._last_read = time.monotonic()
        return self._slice(offset, tail, limit)

    async def _settle(self, until: float) -> None:
        """Wait, until ``until`` at most, for the lines the log already holds.

        They are in once the book is done, or once some lines came and then
        none for ``SETTLE_QUIET``; before the first line there is no telling,
        so only ``until`` ends the wait.
        """
        while not self.done:
            changed = self._changed
            remaining = until - time.monotonic()
            if remaining <= 0:
                return
            window = remaining if self.end == 0 else min(SETTLE_QUIET, remaining)
            try:
                await asyncio.wait_for(changed.wait(), window)
            except asyncio.TimeoutError:
                if self.end > 0 and window >= SETTLE_QUIET:
                    break
        self._settled = True

    def _slice(self, offset: int, tail: int | None, limit: int) -> LogChunk:
        with self._lock:
            end = self._first + len(self._lines)
            start = max(offset, self._first)
            if tail is not None:
                start = max(start, end - tail)
            start = min(start, end)
            stop = min(end, start + limit)
            lines = [self._lines[i - self._first] for i in range(start, stop)]
            # Done only once the reader has every line there will be.
            done = self.done and stop == end
            return LogChunk(
                start=start,
                offset=stop,
                lines=lines,
                skipped=max(0, start - offset),
                done=done,
                error=self.error if done else "",
            )

    def _read(self) -> None:
        try:
            for line in self._open_lines():
                with self._lock:
                    if len(self._lines) == self._lines.maxlen:
                        self._first += 1
                    self._lines.append(line)
                self._wake()
                if self._abandoned.is_set():
                    self._log.info(
                        "Stopped following the log of %s: nobody has read it "
                        "for a while.",
                        self.name,
                    )
                    break
        except DhJupyterError as error:
            self.error = str(error)
            self._log.warning("The log of %s stopped: %s", self.name, error)
        except Exception:
            # A bug below must end this log, not the server; the reader sees
            # a sentence and the details stay in the server's log.
            self.error = "Reading this log failed; the Jupyter server's log says why."
            self._log.exception("Reading the log of %s failed.", self.name)
        finally:
            with self._lock:
                self.done = True
            self._wake()

    def _wake(self) -> None:
        # Lines arrive in bursts; one wake-up per burst is enough.
        with self._lock:
            if self._wake_pending or self._loop is None:
                return
            self._wake_pending = True
        try:
            self._loop.call_soon_threadsafe(self._notify)
        except RuntimeError:
            # The event loop is closed: the server is shutting down.
            self.abandon()

    def _notify(self) -> None:
        with self._lock:
            self._wake_pending = False
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
