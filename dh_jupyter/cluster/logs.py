"""One container's log, read as it is written and resumed after a drop.

Every line is asked for with its timestamp. When a followed stream drops
while the container still runs, reading resumes from the second of the last
line seen, and the lines already given (same or earlier timestamp, counted
at the very same timestamp) are skipped: nothing is repeated, nothing lost.

Whether the container still runs is not polled here: the caller passes
``finished(timeout)``, which blocks until the run layer (fed by the pod
watch) knows the container ended, or the timeout passes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

from dh_jupyter.cluster import errors
from dh_jupyter.cluster.client import Cluster, Stream
from dh_jupyter.errors import ClusterError, ClusterUnavailableError

logger = logging.getLogger(__name__)

# Seconds to wait, after a stream ended cleanly, for the pod watch to confirm
# the container ended before the stream is opened again.
END_GRACE = 2.0


class PodLog:
    """The log of container ``container`` of ``pod``; see the module docstring."""

    def __init__(
        self, cluster: Cluster, namespace: str, pod: str, container: str = "cell"
    ) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.pod = pod
        self.container = container
        self.requests = 0
        self._last = ""
        self._at_last = 0
        self._closed = False
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._stream: Stream | None = None

    def lines(
        self, follow: bool = False, finished: Callable[[float], bool] | None = None
    ) -> Iterator[str]:
        """The log's lines; with ``follow``, until the container has ended."""
        failures = 0
        while not self._closed:
            position = (self._last, self._at_last)
            try:
                yield from self._read(follow)
                dropped = False
            except ClusterError as error:
                # A dropped stream, or a container the API still calls
                # "waiting to start" a moment after the pod watch saw it run.
                retried = isinstance(error, ClusterUnavailableError) or (
                    follow and waiting_to_start(error)
                )
                # Failures count in a row: a stream that delivered lines
                # before it dropped starts the count again.
                failures = (
                    1 if (self._last, self._at_last) != position else failures + 1
                )
                if not retried or failures > len(errors.BACKOFF):
                    raise
                dropped = True
                logger.info(
                    "Reading the log of %s failed (%s); resuming after line %s.",
                    self.pod,
                    error,
                    self._last or "none",
                )
            if self._closed:
                return
            if not follow:
                if dropped:
                    continue
                return
            if finished is None or finished(0.0 if dropped else END_GRACE):
                if dropped:
                    # The container ended while we were cut off: read what is
                    # left once, without following.
                    follow = False
                    continue
                return
            if dropped:
                self._pause(failures)

    def close(self) -> None:
        """Stop reading; a ``lines`` loop blocked in another thread ends."""
        with self._lock:
            self._closed = True
            stream = self._stream
        self._wake.set()
        if stream is not None:
            stream.close()

    def _read(self, follow: bool) -> Iterator[str]:
        since = self._last[:19] + "Z" if self._last else ""
        skip = self._at_last
        stream = self.cluster.log(
            self.pod,
            self.namespace,
            container=self.container,
            follow=follow,
            since_time=since,
        )
        self.requests += 1
        with self._lock:
            self._stream = stream
            if self._closed:
                stream.close()
        try:
            for raw in stream.lines():
                text = raw.decode("utf-8", errors="replace")
                stamp, _, line = text.partition(" ")
                if not stamp[:1].isdigit():
                    yield text
                    continue
                if self._last and stamp < self._last:
                    continue
                if stamp == self._last:
                    if skip > 0:
                        skip -= 1
                        continue
                    self._at_last += 1
                else:
                    self._last, self._at_last, skip = stamp, 1, 0
                yield line
        finally:
            with self._lock:
                self._stream = None
            stream.close()

    def _pause(self, failures: int) -> None:
        backoff = errors.BACKOFF
        self._wake.wait(backoff[min(failures, len(backoff)) - 1])


def waiting_to_start(error: ClusterError) -> bool:
    """Whether a log request failed only because the container has not started."""
    return "waiting to start" in str(error) or "ContainerCreating" in str(error)
