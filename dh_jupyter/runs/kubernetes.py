"""Runs as Kubernetes Jobs: submit, follow, explain, read logs, cancel, find again.

``KubernetesBackend(config).submit(spec, code)`` creates the cell's
ConfigMap, then its Job, then makes the Job the ConfigMap's owner, so
deleting the Job deletes everything (``runs.kubernetes_create``). The
returned ``KubernetesRun`` follows the Job through the namespace's shared
watches (``cluster.informer``) and explains its status in plain words
(``runs.explain``).

Runs are found again by their labels: ``runs()`` lists the current user's
Jobs, ``get(name)`` re-attaches to one, after a kernel restart or from the
Jupyter server. The ``kubernetes`` client is loaded when the first request
is made, not when this module is imported.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from dh_jupyter.cluster.client import MARKER_ANNOTATION, Cluster
from dh_jupyter.cluster.connect import connect
from dh_jupyter.cluster.informer import RunObjects, informer_for
from dh_jupyter.cluster.logs import PodLog, waiting_to_start
from dh_jupyter.config import DhJupyter, settings
from dh_jupyter.errors import ClusterError, NotFoundError
from dh_jupyter.manifest import JobDefaults, build_manifests, naming
from dh_jupyter.manifest.identity import current_user
from dh_jupyter.manifest.job import CONTAINER
from dh_jupyter.runs.base import Backend, Run, RunInfo, StatusCallback
from dh_jupyter.runs.explain import api_time
from dh_jupyter.runs.kubernetes_create import create_objects
from dh_jupyter.runs.status import Status
from dh_jupyter.runs.tracker import Tracker, container_state, pod_named
from dh_jupyter.spec import RunSpec

logger = logging.getLogger(__name__)

Obj = dict[str, Any]


class KubernetesBackend(Backend):
    """Runs cells as Jobs on the cluster the configuration points at."""

    name = "kubernetes"

    def __init__(self, config: DhJupyter | None = None) -> None:
        self.config = config or settings()
        self._cluster: Cluster | None = None
        self._lock = threading.Lock()

    @property
    def cluster(self) -> Cluster:
        """The cluster, connected on first use."""
        with self._lock:
            if self._cluster is None:
                self._cluster = Cluster(connect(self.config))
            return self._cluster

    def namespace(self, spec: RunSpec | None = None) -> str:
        """Where runs go: the spec's, the configured, or the context's namespace."""
        if spec is not None and spec.namespace:
            return spec.namespace
        return self.config.namespace or self.cluster.namespace

    def job_defaults(self, spec: RunSpec) -> JobDefaults:
        """The configured defaults; without an image, the notebook pod's own."""
        defaults = self.config.job_defaults()
        if spec.image or defaults.image:
            return defaults
        from dh_jupyter.cluster.notebook_pod import notebook_image

        own = notebook_image(self.cluster)
        return replace(defaults, image=own) if own else defaults

    def submit(
        self, spec: RunSpec, code: str, *, name: str | None = None
    ) -> KubernetesRun:
        """Create the cell's ConfigMap and Job; return the run at once."""
        # Checks the cell's size and the spec before anything is sent.
        code_map, job = build_manifests(
            spec, code, job_name=name, defaults=self.job_defaults(spec)
        )
        namespace = self.namespace(spec)
        name = job["metadata"]["name"]
        marker = secrets.token_hex(8)
        for manifest in (code_map, job):
            manifest["metadata"]["namespace"] = namespace
            annotations = manifest["metadata"].setdefault("annotations", {})
            annotations[MARKER_ANNOTATION] = marker

        created = create_objects(self.cluster, code_map, job, marker)
        logger.info("Submitted the Job %s in namespace %s.", name, namespace)
        return KubernetesRun(self, created)

    def runs(self) -> list[Run]:
        """The current user's runs in the namespace, newest first."""
        namespace = self.namespace()
        jobs, _ = self.cluster.list_objects(
            "jobs", namespace, labels=naming.selector(current_user())
        )
        jobs.sort(
            key=lambda job: job["metadata"].get("creationTimestamp", ""), reverse=True
        )
        return [KubernetesRun(self, job) for job in jobs]

    def get(self, name: str) -> KubernetesRun:
        """The run called ``name``, re-attached to its status and logs."""
        namespace = self.namespace()
        try:
            job = self.cluster.get("jobs", name, namespace)
        except NotFoundError:
            raise NotFoundError(
                f'There is no run called "{name}" in namespace "{namespace}"; '
                "%dhjobs lists yours, or dh_jupyter.runs.runs() from Python."
            ) from None
        return KubernetesRun(self, job)


class KubernetesRun(Run):
    """A cell running as a Job; see ``Run`` for what each method promises."""

    def __init__(self, backend: KubernetesBackend, job: Obj) -> None:
        self.backend = backend
        self.job = job
        meta = job["metadata"]
        self.namespace = meta.get("namespace") or backend.namespace()
        self.tracker = Tracker(
            informer_for(backend.cluster, self.namespace),
            meta["name"],
            job=job,
            gpu_resource=backend.config.gpu_resource,
        )
        self._readers: set[PodLog] = set()
        self._lock = threading.Lock()

    @property
    def info(self) -> RunInfo:
        meta = self.job["metadata"]
        labels = meta.get("labels") or {}
        annotations = meta.get("annotations") or {}
        containers = self.job["spec"]["template"]["spec"]["containers"]
        return RunInfo(
            name=meta["name"],
            namespace=self.namespace,
            backend="kubernetes",
            user=labels.get(naming.USER_LABEL, ""),
            notebook=annotations.get(naming.NOTEBOOK_ANNOTATION)
            or labels.get(naming.NOTEBOOK_LABEL, ""),
            created=api_time(meta.get("creationTimestamp")),
            resources={
                key: dict(value)
                for key, value in (containers[0].get("resources") or {}).items()
            },
        )

    @property
    def status(self) -> Status:
        return self.tracker.status

    def wait(
        self, timeout: float | None = None, on_status: StatusCallback | None = None
    ) -> Status:
        return self.tracker.wait(timeout, on_status)

    def cancel(self) -> None:
        """Delete the Job with its Pods (and the cell's ConfigMap)."""
        cluster = self.backend.cluster
        # Only a deleted Job is a cancelled run: when the API refuses, the
        # run goes on and its status must keep saying so.
        with self.tracker.cancelling():
            deleted = cluster.delete("jobs", self.name, self.namespace, "Background")
        self.tracker.mark_cancelled()
        with self._lock:
            readers = list(self._readers)
        for reader in readers:
            reader.close()
        # The ConfigMap goes with the Job; deleting it too covers a Job that
        # never became its owner.
        try:
            cluster.delete("configmaps", self.name, self.namespace, "Background")
        except ClusterError as error:
            logger.warning(
                "The run %s is cancelled, but its ConfigMap was not deleted (%s); "
                "it goes with the Job unless the Job never owned it: then delete "
                "it with `kubectl delete configmap %s`.",
                self.name,
                error,
                self.name,
            )
        logger.info(
            "Cancelled the run %s%s.", self.name, "" if deleted else " (already gone)"
        )

    def logs(self, follow: bool = False) -> Iterator[str]:
        """The output of every attempt, each retried one marked where it starts."""
        with self.tracker.following():
            attempt = 0
            while True:
                objects = self.tracker.objects()
                if attempt < len(objects.pods):
                    pod = objects.pods[attempt]
                    attempt += 1
                    yield from self._attempt_logs(pod, attempt, follow)
                    continue
                if not follow or self.tracker.finished:
                    return
                # Sleep until a new pod appears or the run ends.
                self.tracker.wait_until(_more_pods_or_end(attempt), None)

    def _attempt_logs(self, pod: Obj, attempt: int, follow: bool) -> Iterator[str]:
        name = pod["metadata"]["name"]

        def started(seen: RunObjects, status: Status) -> bool:
            current = pod_named(seen, name)
            state = container_state(current) if current else "terminated"
            return state in ("running", "terminated") or status.phase.finished

        if follow:
            self.tracker.wait_until(started, None)
        current = pod_named(self.tracker.objects(), name)
        ran = container_state(current or {}) in ("running", "terminated")
        # A finished run's pod may look unstarted only because the pod watch
        # lags the Job watch: then the log itself says whether it ever ran.
        if not ran and not self.tracker.finished:
            return

        def finished(timeout: float) -> bool:
            return self.tracker.wait_until(
                lambda seen, status: (
                    status.phase.finished
                    or pod_named(seen, name) is None
                    or container_state(pod_named(seen, name) or {}) == "terminated"
                ),
                timeout,
            )

        reader = PodLog(self.backend.cluster, self.namespace, name, CONTAINER)
        with self._lock:
            self._readers.add(reader)
        marked = attempt == 1
        if ran and not marked:
            yield f"--- attempt {attempt} (pod {name}) ---"
            marked = True
        try:
            for line in reader.lines(follow=follow, finished=finished):
                if not marked:
                    yield f"--- attempt {attempt} (pod {name}) ---"
                    marked = True
                yield line
        except NotFoundError:
            # The pod was deleted (cancelled, or cleaned up after its time).
            return
        except ClusterError as error:
            if waiting_to_start(error):
                return  # it never started: an image that could not be pulled
            raise
        finally:
            reader.close()
            with self._lock:
                self._readers.discard(reader)


def _more_pods_or_end(known: int) -> Callable[[RunObjects, Status], bool]:
    def ready(seen: RunObjects, status: Status) -> bool:
        return len(seen.pods) > known or status.phase.finished

    return ready
