"""Why a run has no pod yet: Kueue has not admitted it, or a quota refused it.

Two gates stand between a Job and its pod. Kueue keeps a Job suspended in
its queue until the queue admits its Workload, and says why in the
Workload's conditions or a Pending event; the namespace's ResourceQuota
makes the Job controller's pod creation fail, which only a FailedCreate
event on the Job tells. Either way the run is waiting, and the hint says
what lets it through (ask for less, another ``queue``, limits the quota
requires).

What it deliberately does not do: read the queue's or the quota's objects;
only the Job, its Workload and their events are read.
"""

from __future__ import annotations

import re

from dh_jupyter.runs.explain_seen import Obj, Seen, condition, short
from dh_jupyter.runs.status import Phase, Status

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"


def queued(seen: Seen, job: Obj) -> Status | None:
    """The status of a Job held back (suspended, not admitted), or None."""
    labels = job.get("metadata", {}).get("labels") or {}
    queue = labels.get(QUEUE_LABEL) or (seen.workload or {}).get("spec", {}).get(
        "queueName", ""
    )
    workload = seen.workload
    admitted = workload is not None and condition(workload, "Admitted") is not None
    suspended = bool(job.get("spec", {}).get("suspend"))
    if not suspended and (workload is None or admitted):
        return None
    if queue:
        message = _admission_message(seen, workload)
        detail = f": {message}" if message else ""
        return Status(
            Phase.QUEUED,
            f'waiting in Kueue queue "{queue}"{detail}',
            "It starts when the queue admits it; ask for less, or use another "
            "queue (queue).",
        )
    return Status(
        Phase.QUEUED,
        "its Job is suspended",
        "Something suspended it (spec.suspend); resume the Job or cancel the run.",
    )


def _admission_message(seen: Seen, workload: Obj | None) -> str:
    if workload is not None:
        for found in workload.get("status", {}).get("conditions") or []:
            waiting = found.get("status") != "True" and found.get("message")
            if found.get("type") in ("QuotaReserved", "Admitted") and waiting:
                return short(found["message"])
    for event in reversed(seen.events):
        kind = (event.get("involvedObject") or {}).get("kind")
        if kind == "Workload" and event.get("reason") == "Pending":
            return short(event.get("message", ""))
    return ""


def failed_create(seen: Seen, job: Obj) -> Status | None:
    """The status of a Job whose pod cannot be created, or None."""
    name = job.get("metadata", {}).get("name", "")
    for event in reversed(seen.events):
        involved = event.get("involvedObject") or {}
        if involved.get("kind") != "Job" or involved.get("name") != name:
            continue
        if event.get("reason") != "FailedCreate":
            continue
        message = str(event.get("message", ""))
        quota = re.search(r"(exceeded quota: .*)", message)
        if quota:
            return Status(
                Phase.PENDING,
                f"the namespace's quota does not allow its pod: {short(quota[1])}",
                "Ask for less, wait for other runs to finish, or ask an administrator "
                "for more quota.",
            )
        needed = re.search(r"(must specify [^;]*)", message)
        if needed:
            return Status(
                Phase.PENDING,
                f"the namespace's quota requires limits: {short(needed[1])}",
                "Set resources.cpu.limits and resources.mem.limits.",
            )
        return Status(Phase.PENDING, f"its pod cannot be created: {short(message)}")
    return None
