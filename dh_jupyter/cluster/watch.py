"""One kind of object in one namespace, kept current by a watch.

A ``Watch`` lists the objects once, then watches from the list's
resourceVersion. When the stream ends (the API server closes watches every
few minutes) or the connection drops, it watches again from the last
version it saw, so nothing is missed and nothing is repeated. When the API
no longer has that version (``410 Gone``, after a long disconnect), it lists
again and reports what changed meanwhile, including deletions. There is no
polling: between events the thread sleeps in a socket read. A line that is
not a whole event (a stream cut half-way) is a dropped connection too, and
watches that end at once, again and again, are resumed ever more slowly.
A 401 or 403 is not retried: the watch ends and keeps the error, so whoever
waits on it hears why instead of waiting forever.

It keeps the last state of each object only to report deletions after a
re-list; what to remember for runs is the owner's (``informer``) business.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from dh_jupyter.cluster.client import Cluster, Stream
from dh_jupyter.cluster.errors import Action, is_gone, translate
from dh_jupyter.errors import (
    ClusterError,
    ClusterUnavailableError,
    CredentialsError,
    NotFoundError,
    PermissionDeniedError,
)

logger = logging.getLogger(__name__)

Obj = dict[str, Any]
Handler = Callable[[str, Obj], None]

# Seconds between reconnection attempts after failures in a row.
RECONNECT_BACKOFF = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
# Seconds before watching again after a watch ended cleanly, by how many
# ended in a row with nothing on them: a proxy that closes every watch at
# once must not turn the watch into a busy loop.
END_BACKOFF = (0.1, 0.5, 1.0, 2.0, 5.0)
# Refusals that retrying cannot cure: the credentials or the RBAC rules
# must change first, and the user must hear of it.
FATAL = (CredentialsError, PermissionDeniedError)


class Watch:
    """Calls ``on_change(type, obj)`` for every change of the watched objects.

    ``type`` is ADDED, MODIFIED or DELETED. ``synced`` is set once the first
    list has been delivered, ``ready`` once the watch after it is open too
    (or an attempt failed); ``error`` holds the last failure, if the latest
    attempt failed. A 401 or 403 ends the watch: ``failed`` keeps that
    error and ``on_fail`` is called, since retrying cannot help. With
    ``optional``, a resource the API does not serve (a custom resource whose
    CRD is not installed) ends the watch quietly and sets ``absent``.
    """

    def __init__(
        self,
        cluster: Cluster,
        resource: str,
        namespace: str,
        on_change: Handler,
        *,
        labels: str = "",
        fields: str = "",
        optional: bool = False,
        on_fail: Callable[[Watch], None] | None = None,
    ) -> None:
        self.cluster = cluster
        self.resource = resource
        self.namespace = namespace
        self.on_change = on_change
        self.labels = labels
        self.fields = fields
        self.optional = optional
        self.on_fail = on_fail
        self.synced = threading.Event()
        # Set once the first list arrived and the watch after it is open, or
        # an attempt to get there failed.
        self.ready = threading.Event()
        self.absent = False
        self.error: ClusterError | None = None
        self.failed: ClusterError | None = None
        self.lists = 0
        # When the latest complete list was asked for (time.monotonic()): an
        # object created before then and missing from it is gone.
        self.listed_at = 0.0
        self._known: dict[str, str] = {}
        self._objects: dict[str, Obj] = {}
        self._version = ""
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._stream: Stream | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"dh-watch-{resource}-{namespace}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, wait: float = 5.0) -> None:
        """End the watch and its connection; returns once the thread ended."""
        self._stopped.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            stream.close()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(wait)

    @property
    def stopped(self) -> bool:
        """Whether ``stop`` was called."""
        return self._stopped.is_set()

    @property
    def running(self) -> bool:
        """Whether its thread still runs (it ends soon after ``stop``)."""
        return self._thread.is_alive()

    def _run(self) -> None:
        failures = 0
        quiet_ends = 0
        while not self._stopped.is_set():
            try:
                if not self._version:
                    self._relist()
                events = self._follow()
            except ClusterError as error:
                if is_gone(error):
                    logger.info(
                        "The watch of %s in %s is too old to resume; listing again.",
                        self.resource,
                        self.namespace,
                    )
                    self._version = ""
                    continue
                if not self._failed(error, failures):
                    return
                failures += 1
                continue
            except Exception as error:  # a bug must not end the watch for good
                logger.exception(
                    "Following %s in %s failed unexpectedly.",
                    self.resource,
                    self.namespace,
                )
                if not self._failed(translate(error, self._action()), failures):
                    return
                failures += 1
                continue
            failures = 0
            # The API server ends every watch after a while; at once and
            # again and again, only a proxy does.
            quiet_ends = 0 if events else quiet_ends + 1
            pause = END_BACKOFF[min(quiet_ends, len(END_BACKOFF) - 1)]
            self._stopped.wait(pause)

    def _failed(self, error: ClusterError, failures: int) -> bool:
        """Log a failed attempt and pause; False when the watch must end."""
        if self.optional and isinstance(error, NotFoundError):
            self.absent = True
            self.synced.set()
            self.ready.set()
            logger.info(
                "The cluster does not serve %s; not watching them.", self.resource
            )
            return False
        if self._stopped.is_set():
            return False
        self.error = error
        if isinstance(error, FATAL):
            self.failed = error
            self.ready.set()
            logger.warning(
                "The watch of %s in %s was refused (%s); it stops, and starts "
                "again when a run is next followed.",
                self.resource,
                self.namespace,
                error,
            )
            if self.on_fail is not None:
                self.on_fail(self)
            return False
        self.ready.set()
        pause = RECONNECT_BACKOFF[min(failures, len(RECONNECT_BACKOFF) - 1)]
        level = logging.INFO if failures == 0 else logging.WARNING
        if not isinstance(error, ClusterUnavailableError):
            level = logging.WARNING
        logger.log(
            level,
            "The watch of %s in %s stopped (%s); reconnecting in %.1f s.",
            self.resource,
            self.namespace,
            error,
            pause,
        )
        self._stopped.wait(pause)
        return True

    def _action(self) -> Action:
        return self.cluster.action("watch", self.resource, self.namespace)

    def _relist(self) -> None:
        asked = time.monotonic()
        items, version = self.cluster.list_objects(
            self.resource, self.namespace, labels=self.labels, fields=self.fields
        )
        self.lists += 1
        seen = set()
        for obj in items:
            meta = obj.get("metadata") or {}
            name = meta.get("name", "")
            seen.add(name)
            if name not in self._known:
                self._deliver("ADDED", obj)
            elif self._known[name] != meta.get("resourceVersion"):
                self._deliver("MODIFIED", obj)
        # What vanished while we were not watching was deleted meanwhile.
        for name in list(self._known):
            if name not in seen:
                self._deliver("DELETED", self._objects[name])
        self._version = version
        self.listed_at = asked
        self.error = None
        self.synced.set()

    def _follow(self) -> int:
        """Deliver the watch's events until it ends; returns how many came."""
        stream = self.cluster.watch(
            self.resource,
            self.namespace,
            resource_version=self._version,
            labels=self.labels,
            fields=self.fields,
        )
        with self._lock:
            self._stream = stream
        if self._stopped.is_set():
            stream.close()
        self.error = None
        self.ready.set()
        events = 0
        try:
            for line in stream.lines():
                if not line.strip():
                    continue
                events += 1
                event = self._event(line)
                kind, obj = event.get("type", ""), event.get("object") or {}
                if kind == "ERROR":
                    self._fail(obj)
                version = (obj.get("metadata") or {}).get("resourceVersion", "")
                if kind != "BOOKMARK":
                    self._deliver(kind, obj)
                if version:
                    self._version = version
        finally:
            stream.close()
            with self._lock:
                self._stream = None
        return events

    def _event(self, line: bytes) -> Obj:
        """One line of the watch as an event; a cut or garbled line reconnects."""
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if not isinstance(event, dict) or not isinstance(event.get("object"), dict):
            # Resuming from the last version seen loses nothing: the event
            # on the bad line comes again.
            raise ClusterUnavailableError(
                f"The API sent a line that is not a whole watch event ({len(line)} "
                "bytes; cut off or garbled on the way)."
            )
        return event

    def _fail(self, status: Obj) -> None:
        from dh_jupyter.cluster.errors import GoneError

        if status.get("code") == 410:
            raise GoneError(str(status.get("message", "")))
        raise ClusterUnavailableError(
            f"The watch of {self.resource} in {self.namespace} ended with an error "
            f"(HTTP {status.get('code', '?')}, {status.get('reason', 'unknown')})."
        )

    def _deliver(self, kind: str, obj: Obj) -> None:
        meta = obj.get("metadata") or {}
        name = meta.get("name", "")
        if kind == "DELETED":
            self._known.pop(name, None)
            self._objects.pop(name, None)
        else:
            self._known[name] = meta.get("resourceVersion", "")
            self._objects[name] = obj
        try:
            self.on_change(kind, obj)
        except Exception:
            # A broken consumer must not end the watch every other run needs.
            logger.exception("Handling a change of %s %s failed.", self.resource, name)
