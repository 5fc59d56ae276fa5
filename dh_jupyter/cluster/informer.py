"""Everything runs need to know about one namespace, from one watch per kind.

Following fifty runs must not open fifty times three watches. A
``RunInformer`` watches, once per namespace: the Jobs dh_jupyter made, their
Pods, the namespace's Events (only those about a Job, a Pod or a Kueue
Workload are kept) and, when a run waits in a Kueue queue, Kueue's
Workloads. Each run subscribes to its Job's name and is called back when
anything about it changes; ``objects(name)`` returns what is known.

The watches start with the first subscriber and stop a little while after
the last one leaves, so a notebook that ran its cells holds no connection
open for long. A watch the API refuses (401, 403) ends; every subscriber is
called back so that its waiter can raise the refusal (``failure``), the
watches stop as soon as nobody follows them, and the next subscriber starts
them all afresh.
"""

from __future__ import annotations

import atexit
import collections
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dh_jupyter.cluster.client import Cluster
from dh_jupyter.cluster.errors import again
from dh_jupyter.cluster.watch import Watch
from dh_jupyter.errors import ClusterError
from dh_jupyter.manifest import naming

logger = logging.getLogger(__name__)

Obj = dict[str, Any]

# Seconds the watches stay open after the last run stopped following them.
LINGER = 30.0
# How many objects' Events are remembered, and how many for each object.
EVENT_OBJECTS = 2000
EVENTS_PER_OBJECT = 50
EVENT_KINDS = ("Job", "Pod", "Workload")
# The watches every run needs; Kueue's Workloads are watched only for runs
# in a queue.
RUN_KINDS = ("jobs", "pods", "events")


@dataclass(frozen=True)
class RunObjects:
    """What the cluster says about one run right now.

    ``job`` is None when the Job is not (or not yet) known; ``deleted`` says
    it was seen deleted, and ``listed_at`` when the Jobs were last listed
    (``time.monotonic()``), since a Job made before that and missing is gone.
    ``pods`` are oldest first; ``events`` are the Events about the Job, its
    Pods and its Workload, oldest first.
    """

    job: Obj | None
    pods: tuple[Obj, ...] = ()
    events: tuple[Obj, ...] = ()
    workload: Obj | None = None
    synced: bool = False
    deleted: bool = False
    listed_at: float = 0.0


@dataclass
class _Subscriber:
    name: str
    callback: Callable[[], None]
    informer: RunInformer
    active: bool = field(default=True)

    def cancel(self) -> None:
        """Stop being called back; the last one out lets the watches go."""
        if self.active:
            self.active = False
            self.informer._unsubscribe(self)


Subscription = _Subscriber


class RunInformer:
    """The shared watches of one namespace; see the module's docstring."""

    def __init__(self, cluster: Cluster, namespace: str) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self._lock = threading.RLock()
        self._jobs: dict[str, Obj] = {}
        self._pods: dict[str, Obj] = {}
        self._workloads: dict[str, Obj] = {}
        self._deleted: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._events: collections.OrderedDict[tuple[str, str], dict[str, Obj]] = (
            collections.OrderedDict()
        )
        self._subscribers: dict[str, list[_Subscriber]] = {}
        self._watches: dict[str, Watch] = {}
        self._stop_timer: threading.Timer | None = None

    # subscribers

    def subscribe(self, name: str, callback: Callable[[], None]) -> Subscription:
        """Call ``callback`` (from a watch thread) whenever run ``name`` changes."""
        subscriber = _Subscriber(name, callback, self)
        with self._lock:
            # Refused watches start again: the user may have been given the
            # permission meanwhile, and the others' picture is incomplete.
            refused = self._take_watches() if self._refused() else []
            self._subscribers.setdefault(name, []).append(subscriber)
            if self._stop_timer is not None:
                self._stop_timer.cancel()
                self._stop_timer = None
            self._start()
        # Not waited for: the caller may hold a lock their callbacks need.
        self._close(refused, wait=0.0)
        return subscriber

    def _unsubscribe(self, subscriber: _Subscriber) -> None:
        with self._lock:
            listed = self._subscribers.get(subscriber.name, [])
            if subscriber in listed:
                listed.remove(subscriber)
            if not listed:
                self._subscribers.pop(subscriber.name, None)
            if not self._subscribers and self._watches:
                self._stop_later()

    def _stop_later(self) -> None:
        # Refused watches serve nobody: they go at once, the others linger.
        linger = 0.0 if self._refused() else LINGER
        if self._stop_timer is not None:
            self._stop_timer.cancel()
        self._stop_timer = threading.Timer(linger, self._stop_if_idle)
        self._stop_timer.daemon = True
        self._stop_timer.start()

    def wait_synced(self, timeout: float) -> None:
        """Block until the first lists arrived; raise if they could not be read."""
        with self._lock:
            watches = [self._watches[kind] for kind in RUN_KINDS]
        for watch in watches:
            watch.ready.wait(timeout)
            if watch.failed is not None:
                raise again(watch.failed)
            if not watch.synced.is_set():
                if watch.error is not None:
                    raise again(watch.error)
                raise ClusterError(
                    f"The cluster did not list {watch.resource} in namespace "
                    f'"{self.namespace}" within {timeout:.0f} s; it may be '
                    "overloaded, try again in a minute."
                )

    def failure(self, kinds: tuple[str, ...] = RUN_KINDS) -> ClusterError | None:
        """Why a watch of ``kinds`` was refused for good, or None if none was."""
        with self._lock:
            for kind in kinds:
                watch = self._watches.get(kind)
                if watch is not None and watch.failed is not None:
                    return again(watch.failed)
        return None

    def watch_workloads(self) -> None:
        """Also watch Kueue's Workloads (a run is waiting in a Kueue queue)."""
        with self._lock:
            if "workloads" not in self._watches and self._watches:
                watch = self._watch("workloads")
                self._watches["workloads"] = watch
                watch.start()

    def objects(self, name: str) -> RunObjects:
        """What is known about run ``name`` now."""
        with self._lock:
            job = self._jobs.get(name)
            pods = sorted(
                (pod for pod in self._pods.values() if job_of_pod(pod) == name),
                key=_created,
            )
            workload = next(
                (w for w in self._workloads.values() if _owner(w) == name), None
            )
            keys = [("Job", name)] + [("Pod", pod["metadata"]["name"]) for pod in pods]
            if workload is not None:
                keys.append(("Workload", workload["metadata"]["name"]))
            events = [
                event for key in keys for event in self._events.get(key, {}).values()
            ]
            synced = all(
                self._watches[kind].synced.is_set()
                for kind in RUN_KINDS
                if kind in self._watches
            ) and bool(self._watches)
            jobs = self._watches.get("jobs")
            listed_at = jobs.listed_at if jobs is not None else 0.0
            deleted = name in self._deleted
        events.sort(key=_event_time)
        return RunObjects(
            job, tuple(pods), tuple(events), workload, synced, deleted, listed_at
        )

    def open_watches(self) -> int:
        """How many watches are running (for the benchmark and tests)."""
        with self._lock:
            return sum(
                watch.running and not watch.stopped for watch in self._watches.values()
            )

    def lists(self) -> int:
        """How many times the watches listed (first lists and re-lists)."""
        with self._lock:
            return sum(watch.lists for watch in self._watches.values())

    # watches

    def _start(self) -> None:
        if self._watches:
            return
        self._watches = {kind: self._watch(kind) for kind in RUN_KINDS}
        for watch in self._watches.values():
            watch.start()
        logger.info("Watching runs in namespace %s.", self.namespace)

    def _watch(self, kind: str) -> Watch:
        managed = f"{naming.MANAGED_BY}={naming.MANAGER}"
        changed = {
            "jobs": self._on_job,
            "pods": self._on_pod,
            "events": self._on_event,
            "workloads": self._on_workload,
        }[kind]
        return Watch(
            self.cluster,
            kind,
            self.namespace,
            changed,
            labels=managed if kind in ("jobs", "pods") else "",
            optional=kind == "workloads",
            on_fail=self._on_refused,
        )

    def _refused(self) -> bool:
        return any(watch.failed is not None for watch in self._watches.values())

    def _on_refused(self, watch: Watch) -> None:
        # Wake every run's waiter so it raises the refusal instead of
        # waiting for changes that will never come.
        with self._lock:
            if self._watches.get(watch.resource) is not watch:
                return  # an old watch, already replaced
            names = list(self._subscribers)
            if not names:
                self._stop_later()
        for name in names:
            self._notify(name)

    def _stop_if_idle(self) -> None:
        # Checked and taken at once: a run subscribing meanwhile keeps them.
        with self._lock:
            if self._subscribers:
                return
            watches = self._take_watches()
        self._close(watches)

    def _take_watches(self) -> list[Watch]:
        """Forget the watches and all they told; the caller stops them."""
        watches = list(self._watches.values())
        self._watches = {}
        if self._stop_timer is not None:
            self._stop_timer.cancel()
            self._stop_timer = None
        self._jobs.clear()
        self._pods.clear()
        self._workloads.clear()
        self._events.clear()
        self._deleted.clear()
        return watches

    def stop(self) -> None:
        """Close every watch now; the next subscriber starts them again."""
        with self._lock:
            watches = self._take_watches()
        self._close(watches)

    def _close(self, watches: list[Watch], wait: float = 5.0) -> None:
        # Outside the lock: a watch thread may be waiting for it to deliver.
        for watch in watches:
            watch.stop(wait)
        if watches:
            logger.info("Stopped watching runs in namespace %s.", self.namespace)

    # changes

    def _on_job(self, kind: str, job: Obj) -> None:
        name = job["metadata"]["name"]
        with self._lock:
            if kind == "DELETED":
                self._jobs.pop(name, None)
                self._deleted[name] = None
                while len(self._deleted) > EVENT_OBJECTS:
                    self._deleted.popitem(last=False)
            else:
                self._jobs[name] = job
                self._deleted.pop(name, None)
        self._notify(name)

    def _on_pod(self, kind: str, pod: Obj) -> None:
        name = pod["metadata"]["name"]
        with self._lock:
            if kind == "DELETED":
                self._pods.pop(name, None)
            else:
                self._pods[name] = pod
        self._notify(job_of_pod(pod))

    def _on_workload(self, kind: str, workload: Obj) -> None:
        name = workload["metadata"]["name"]
        with self._lock:
            if kind == "DELETED":
                self._workloads.pop(name, None)
            else:
                self._workloads[name] = workload
        self._notify(_owner(workload))

    def _on_event(self, kind: str, event: Obj) -> None:
        involved = event.get("involvedObject") or {}
        if involved.get("kind") not in EVENT_KINDS:
            return
        key = (involved["kind"], involved.get("name", ""))
        uid = event["metadata"].get("uid") or event["metadata"]["name"]
        with self._lock:
            stored = self._events.setdefault(key, {})
            self._events.move_to_end(key)
            if kind == "DELETED":
                stored.pop(uid, None)
            else:
                stored[uid] = event
                while len(stored) > EVENTS_PER_OBJECT:
                    stored.pop(next(iter(stored)))
            while len(self._events) > EVENT_OBJECTS:
                self._events.popitem(last=False)
            job = self._job_of_event(key)
        if job:
            self._notify(job)

    def _job_of_event(self, key: tuple[str, str]) -> str:
        kind, name = key
        if kind == "Job":
            return name
        if kind == "Pod":
            pod = self._pods.get(name)
            # Until the pod itself arrives, its name tells: "<job>-<random>".
            return job_of_pod(pod) if pod else name.rsplit("-", 1)[0]
        workload = self._workloads.get(name)
        if workload is not None:
            return _owner(workload)
        # Kueue names a Job's Workload "job-<job name>-<hash>".
        return name.removeprefix("job-").rsplit("-", 1)[0]

    def _notify(self, name: str) -> None:
        with self._lock:
            listed = list(self._subscribers.get(name, []))
        for subscriber in listed:
            try:
                subscriber.callback()
            except Exception:
                logger.exception("A run's status callback failed for %s.", name)


def job_of_pod(pod: Obj) -> str:
    """The name of the Job a pod belongs to, or ``""``."""
    labels = pod["metadata"].get("labels") or {}
    for key in ("batch.kubernetes.io/job-name", "job-name", naming.RUN_LABEL):
        if labels.get(key):
            return str(labels[key])
    return _owner(pod)


def _owner(obj: Obj) -> str:
    for owner in obj["metadata"].get("ownerReferences") or []:
        if owner.get("kind") == "Job":
            return str(owner.get("name", ""))
    return ""


def _created(obj: Obj) -> tuple[str, int]:
    meta = obj["metadata"]
    return (meta.get("creationTimestamp", ""), int(meta.get("resourceVersion", 0) or 0))


def _event_time(event: Obj) -> tuple[str, int]:
    stamp = (
        event.get("lastTimestamp")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or event["metadata"].get("creationTimestamp", "")
    )
    return (str(stamp), int(event["metadata"].get("resourceVersion", 0) or 0))


_registry_lock = threading.Lock()
_registry: dict[tuple[str, str, str], RunInformer] = {}


def informer_for(cluster: Cluster, namespace: str) -> RunInformer:
    """The one informer of ``namespace`` on this cluster, made on first use."""
    key = (cluster.connection.server, cluster.connection.context, namespace)
    with _registry_lock:
        informer = _registry.get(key)
        if informer is None:
            informer = _registry[key] = RunInformer(cluster, namespace)
        return informer


def stop_all() -> None:
    """Close every informer's watches (at kernel shutdown, and between tests)."""
    with _registry_lock:
        informers = list(_registry.values())
        _registry.clear()
    for informer in informers:
        informer.stop()


# Close the watches' connections when the kernel exits, rather than letting
# the API server find them dead.
atexit.register(stop_all)
