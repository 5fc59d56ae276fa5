"""A Job, its Pods and their Events, turned into one ``Status`` in plain words.

This is where "0/5 nodes are available: 2 Insufficient cpu" becomes "2 of 5
nodes lack free cpu" with the hint "ask for less cpu (resources.cpu.requests)
or wait for running work to finish". Pure functions of the objects as the
API sends them (dicts): no cluster access, so every explanation is tested
with the exact objects a cluster produces.

This module only decides which part of a run's life it is in and asks the
module that knows that part: ``explain_job`` (how the Job ended),
``explain_admission`` (Kueue and quotas, before a pod), ``explain_container``
(images and a container's end), ``explain_volumes`` (claims, ConfigMaps,
Secrets) and ``explain_scheduling`` (why no node takes the pod).

What it deliberately does not do: guess. A message it does not recognise is
shown as the cluster wrote it, shortened, without a hint.
"""

from __future__ import annotations

from dh_jupyter.runs import explain_container, explain_job, explain_volumes
from dh_jupyter.runs.endings import duration
from dh_jupyter.runs.explain_admission import failed_create, queued
from dh_jupyter.runs.explain_scheduling import no_node
from dh_jupyter.runs.explain_seen import (
    Obj,
    Seen,
    api_time,
    container,
    events_of,
    latest,
    pod_condition,
    start_time,
)
from dh_jupyter.runs.status import Phase, Status

__all__ = ["Seen", "api_time", "duration", "explain"]


def explain(seen: Seen) -> Status:
    """The run's status, its reason and the hint that fixes it."""
    job = seen.job or {}
    pod = seen.pods[-1] if seen.pods else None
    started = start_time(job, pod)

    finished = explain_job.finished_status(seen, job, pod, started)
    if finished is not None:
        return finished
    if (
        seen.cancelled
        or seen.deleted
        or job.get("metadata", {}).get("deletionTimestamp")
    ):
        return explain_job.cancelled(seen, started)

    held = queued(seen, job)
    if held is not None:
        return held
    if pod is None:
        created = failed_create(seen, job)
        return created or Status(Phase.QUEUED)
    return _pod_status(seen, job, pod)


def _pod_status(seen: Seen, job: Obj, pod: Obj) -> Status:
    status = pod.get("status", {})
    state = (container(pod) or {}).get("state", {})
    pod_events = events_of(seen, "Pod", pod["metadata"]["name"])

    if "running" in state:
        note = f"attempt {len(seen.pods)}" if len(seen.pods) > 1 else ""
        return Status(
            Phase.RUNNING, note, started=api_time(state["running"].get("startedAt"))
        )
    if "terminated" in state or status.get("phase") in ("Succeeded", "Failed"):
        return explain_job.ended_pod(seen, job, pod)

    waiting = state.get("waiting") or {}
    if waiting.get("reason") in explain_container.IMAGE_ERRORS:
        return explain_container.image_problem(pod, waiting)
    if waiting.get("reason") == "CreateContainerConfigError":
        return explain_volumes.config_problem(seen, pod, waiting.get("message", ""))

    scheduled = pod_condition(pod, "PodScheduled")
    if scheduled is not None and scheduled.get("status") == "False":
        message = scheduled.get("message") or latest(pod_events, "FailedScheduling")
        return _unscheduled(seen, job, message)
    if not status.get("phase") or scheduled is None:
        message = latest(pod_events, "FailedScheduling")
        if message:
            return _unscheduled(seen, job, message)

    mount = latest(pod_events, "FailedMount") or latest(
        pod_events, "FailedAttachVolume"
    )
    if mount:
        return explain_volumes.mount_problem(seen, job, mount)
    if explain_container.pulling(pod_events):
        return Status(Phase.PULLING, explain_container.image(pod))
    if scheduled is None and not pod_events:
        return Status(Phase.PENDING, "waiting for a node")
    return Status(Phase.PENDING, "starting the container")


def _unscheduled(seen: Seen, job: Obj, message: str) -> Status:
    # A claim that blocks scheduling is named before the nodes it rules out.
    claim = explain_volumes.claim_problem(seen, job, message)
    return claim or no_node(seen, message)
