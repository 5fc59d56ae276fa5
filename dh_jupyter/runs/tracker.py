"""One run's state machine, fed by the namespace's shared watches.

The informer calls back whenever the Job, one of its Pods, their Events or
its Kueue Workload changes; the tracker recomputes the run's ``Status``
(``runs.explain``) and wakes whoever waits. A status is final once the Job
says it succeeded or failed, or the run was cancelled or its Job deleted;
after that it never changes (a Job deleted later by its time-to-live does
not turn a success into a cancellation).

Waiting is a condition variable, never a polling loop: a waiter sleeps
until the next change or its timeout. When the cluster refuses a watch the
run needs (401, 403), waiting and reading the status raise that refusal,
and the tracker lets go of the watches, so none is left retrying.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from dh_jupyter.cluster.informer import RUN_KINDS, RunInformer, RunObjects, Subscription
from dh_jupyter.errors import ClusterError
from dh_jupyter.runs.explain import Seen, explain
from dh_jupyter.runs.status import Phase, Status

logger = logging.getLogger(__name__)

Obj = dict[str, Any]

# Seconds to wait for the first lists of Jobs, Pods and Events.
SYNC_TIMEOUT = 30.0
# Seconds a failed Job waits for its last pod's end to explain it.
POD_GRACE = 5.0


class Tracker:
    """The live status of the run whose Job is called ``name``."""

    def __init__(
        self,
        informer: RunInformer,
        name: str,
        *,
        job: Obj | None = None,
        gpu_resource: str = "nvidia.com/gpu",
    ) -> None:
        self.informer = informer
        self.name = name
        self.gpu_resource = gpu_resource
        self._changed = threading.Condition()
        self._objects = RunObjects(job)
        self._seen_job = job is not None
        # The seed Job was read by now; a list asked for later must hold it.
        self._seeded_at = time.monotonic()
        self._cancelled = False
        # This process is deleting the Job: its deletion, once seen, is ours.
        self._cancelling = False
        self._deleted = False
        self._final: Status | None = None
        self._version = 0
        self._holders = 0
        self._subscription: Subscription | None = None
        self._pod_grace: threading.Timer | None = None
        self._pod_grace_over = False
        self._status = self._compute()

    # following

    @contextlib.contextmanager
    def following(self) -> Iterator[None]:
        """Keep the watches on this run for the duration of the block."""
        with self._changed:
            self._holders += 1
        done = False
        try:
            self._subscribe()
            yield
            done = True
        finally:
            with self._changed:
                self._holders -= 1
            # After a failure (the cluster refused, the block raised) nobody
            # may come back for the watches: let them go rather than leak.
            self._release_if_done(failed=not done)

    def _subscribe(self) -> None:
        with self._changed:
            new = self._subscription is None
            if new:
                self._subscription = self.informer.subscribe(self.name, self._on_change)
        if new and _needs_workload(self._objects.job or {}):
            self.informer.watch_workloads()
        # Raises when the cluster cannot be read, for every caller, until the
        # watches recover.
        self.informer.wait_synced(SYNC_TIMEOUT)
        if new:
            self._on_change()

    def _release_if_done(self, failed: bool = False) -> None:
        with self._changed:
            if self._holders or self._subscription is None:
                return
            if self._final is None and not failed and self._refusal() is None:
                return
            subscription, self._subscription = self._subscription, None
        subscription.cancel()

    def _kinds(self) -> tuple[str, ...]:
        needs = _needs_workload(self._objects.job or {})
        return (*RUN_KINDS, "workloads") if needs else RUN_KINDS

    def _refusal(self) -> ClusterError | None:
        """Why a watch this run needs was refused, if one was."""
        return self.informer.failure(self._kinds())

    def _raise_if_refused(self) -> None:
        # A final status needs no watch any more: it is simply returned.
        if self._final is None:
            refusal = self._refusal()
            if refusal is not None:
                raise refusal

    def _on_change(self) -> None:
        objects = self.informer.objects(self.name)
        with self._changed:
            if self._final is not None:
                self._objects = _keep_pods(self._objects, objects)
                return
            if objects.job is not None:
                self._seen_job = True
                if _needs_workload(objects.job):
                    self.informer.watch_workloads()
            elif self._seen_job and (
                objects.deleted or objects.listed_at > self._seeded_at
            ):
                # The Job was deleted (a watch saw it go, or a list made after
                # we read it lacks it): keep what we last knew to explain it.
                self._deleted = True
                self._cancelled = self._cancelled or self._cancelling
                objects = RunObjects(
                    self._objects.job,
                    objects.pods or self._objects.pods,
                    objects.events or self._objects.events,
                    objects.workload,
                    True,
                )
            elif self._objects.job is not None:
                # Not arrived through the watch yet: keep the Job we have.
                objects = RunObjects(
                    self._objects.job,
                    objects.pods,
                    objects.events,
                    objects.workload,
                    objects.synced,
                )
            self._objects = objects
            self._update()
        self._release_if_done()

    def _update(self) -> None:
        status = self._compute()
        if status != self._status:
            self._status = status
            self._version += 1
            logger.debug("Run %s is now: %s", self.name, status.describe())
        if self._is_final(status):
            self._final = status
        self._changed.notify_all()

    def _compute(self) -> Status:
        objects = self._objects
        job = objects.job or {}
        return explain(
            Seen(
                job=objects.job,
                pods=objects.pods,
                events=objects.events,
                workload=objects.workload,
                cancelled=self._cancelled,
                deleted=self._deleted,
                namespace=job.get("metadata", {}).get("namespace", ""),
                gpu_resource=self.gpu_resource,
            )
        )

    def _is_final(self, status: Status) -> bool:
        if self._cancelled or self._deleted:
            return True
        done = _job_done(self._objects.job)
        if done == "Complete" or (done and "DeadlineExceeded" in status.reason):
            return True
        if not done:
            return False
        # A failed Job is explained by its last pod, but the pod watch may lag
        # the Job watch by a moment: wait for the pod's end, for a little while
        # (its pods may also be gone for good).
        pods = self._objects.pods
        ended = [pod for pod in pods if container_state(pod) == "terminated"]
        failed = int((self._objects.job or {}).get("status", {}).get("failed", 0) or 0)
        if pods and pods[-1] in ended and len(ended) >= failed:
            return True
        if self._pod_grace is None:
            self._pod_grace = threading.Timer(POD_GRACE, self._stop_waiting_for_pods)
            self._pod_grace.daemon = True
            self._pod_grace.start()
        return self._pod_grace_over

    def _stop_waiting_for_pods(self) -> None:
        with self._changed:
            self._pod_grace_over = True
            if self._final is None:
                self._update()
        self._release_if_done()

    def _settled(self) -> bool:
        """Whether a waiter can return: the end, and its explanation, are known."""
        if self._final is not None:
            return True
        return self._status.phase.finished and not _job_done(self._objects.job)

    # what callers use

    @property
    def status(self) -> Status:
        """The latest status; the first call attaches to the watches."""
        with self._changed:
            if self._final is not None:
                return self._final
        with self.following(), self._changed:
            self._raise_if_refused()
            return self._status

    def objects(self) -> RunObjects:
        with self._changed:
            return self._objects

    @contextlib.contextmanager
    def cancelling(self) -> Iterator[None]:
        """Around deleting the Job: the watch may see it go before it returns."""
        with self._changed:
            self._cancelling = True
        try:
            yield
        finally:
            with self._changed:
                self._cancelling = False

    def mark_cancelled(self) -> None:
        """This process is deleting the Job: the run ends as cancelled now."""
        with self._changed:
            if (self._final or self._status).phase.finished:
                return  # deleting a finished run does not make it cancelled
            self._cancelled = True
            self._update()
        self._release_if_done()

    def wait(
        self,
        timeout: float | None = None,
        on_status: Callable[[Status], None] | None = None,
    ) -> Status:
        """Block until the run finishes or ``timeout`` passes; see ``Run.wait``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.following():
            reported = -1
            while True:
                with self._changed:
                    status, version = self._final or self._status, self._version
                    settled = self._settled()
                if on_status is not None and version != reported:
                    on_status(status)
                    reported = version
                if settled:
                    return status
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return status
                with self._changed:
                    # Checked under the lock a refusal's wake-up takes, so
                    # that wake-up cannot slip in before the wait.
                    self._raise_if_refused()
                    if self._version == version:
                        self._changed.wait(left)

    def wait_until(
        self, ready: Callable[[RunObjects, Status], bool], timeout: float | None
    ) -> bool:
        """Block until ``ready(objects, status)`` holds, or ``timeout`` passes."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while not ready(self._objects, self._final or self._status):
                self._raise_if_refused()
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._changed.wait(left)
            return True

    @property
    def finished(self) -> bool:
        with self._changed:
            return self._final is not None or self._status.phase.finished


def _job_done(job: Obj | None) -> str:
    """``Complete`` or ``Failed`` once the Job controller says so, else ``""``."""
    for condition in (job or {}).get("status", {}).get("conditions") or []:
        kind = condition.get("type")
        if kind in ("Complete", "Failed") and condition.get("status") == "True":
            return str(kind)
    return ""


def _needs_workload(job: Obj) -> bool:
    labels = job.get("metadata", {}).get("labels") or {}
    return bool(
        labels.get("kueue.x-k8s.io/queue-name") or job.get("spec", {}).get("suspend")
    )


def _keep_pods(old: RunObjects, new: RunObjects) -> RunObjects:
    # After the end, pods may still change (their logs are being read) and
    # may vanish with the Job: keep the newest known state of each.
    pods = {pod["metadata"]["name"]: pod for pod in old.pods}
    pods.update({pod["metadata"]["name"]: pod for pod in new.pods})
    return RunObjects(
        old.job if new.job is None else new.job,
        tuple(pods.values()),
        new.events or old.events,
        new.workload or old.workload,
        new.synced,
    )


def container_state(pod: Obj) -> str:
    """``waiting``, ``running``, ``terminated`` or ``""`` for the cell's container."""
    for status in pod.get("status", {}).get("containerStatuses") or []:
        for key in ("terminated", "running", "waiting"):
            if key in (status.get("state") or {}):
                return key
    if pod.get("status", {}).get("phase") in ("Succeeded", "Failed"):
        return "terminated"
    return ""


def pod_named(objects: RunObjects, name: str) -> Obj | None:
    for pod in objects.pods:
        if pod["metadata"]["name"] == name:
            return pod
    return None


def is_settled(status: Status) -> bool:
    """Whether nothing more will happen to the run."""
    return status.phase in (Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED)
