"""What is known about a run on a cluster, and how its objects are read.

Every part of the explanation (``runs.explain`` and the ``runs.explain_*``
modules beside it) reads the same few things out of a Job, its Pods and
their Events: a condition, the cell's container, the latest event of a
kind, a timestamp. They read them here, in one way, from the dicts the API
sends. Nothing here words an explanation; it only finds what one is made of.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Obj = dict[str, Any]

MESSAGE_LIMIT = 240


@dataclass(frozen=True)
class Seen:
    """Everything known about a run, for ``explain``.

    ``cancelled`` says this process deleted the Job; ``deleted`` that the
    Job disappeared (or is being deleted) while it still ran.
    """

    job: Obj | None
    pods: Sequence[Obj] = ()
    events: Sequence[Obj] = ()
    workload: Obj | None = None
    cancelled: bool = False
    deleted: bool = False
    namespace: str = ""
    gpu_resource: str = "nvidia.com/gpu"


def condition(obj: Obj, kind: str) -> Obj | None:
    """The condition of type ``kind`` that holds (status "True"), if any."""
    for found in obj.get("status", {}).get("conditions") or []:
        if found.get("type") == kind and found.get("status") == "True":
            return dict(found)
    return None


def pod_condition(pod: Obj, kind: str) -> Obj | None:
    """A pod's condition of type ``kind``, whether it holds or not."""
    for found in pod.get("status", {}).get("conditions") or []:
        if found.get("type") == kind:
            return dict(found)
    return None


def container(pod: Obj) -> Obj | None:
    """The status of the container that runs the cell (or the pod's first)."""
    statuses = pod.get("status", {}).get("containerStatuses") or []
    for status in statuses:
        if status.get("name") == "cell":
            return dict(status)
    return dict(statuses[0]) if statuses else None


def events_of(seen: Seen, kind: str, name: str) -> list[Obj]:
    """The events about the object of ``kind`` called ``name``."""
    return [
        event
        for event in seen.events
        if (event.get("involvedObject") or {}).get("kind") == kind
        and (event.get("involvedObject") or {}).get("name") == name
    ]


def latest(events: Sequence[Obj], reason: str) -> str:
    """The message of the newest event with ``reason``, or ""."""
    for event in reversed(events):
        if event.get("reason") == reason:
            return str(event.get("message", ""))
    return ""


def in_namespace(seen: Seen, obj: Obj) -> str:
    """`` in namespace "x"`` for a message about a missing object, or ""."""
    namespace = obj.get("metadata", {}).get("namespace") or seen.namespace
    return f' in namespace "{namespace}"' if namespace else ""


def start_time(job: Obj, pod: Obj | None) -> datetime | None:
    """When the cell started: its container's start, else the Job's."""
    if pod is not None:
        state = (container(pod) or {}).get("state", {})
        for key in ("running", "terminated"):
            if key in state and state[key].get("startedAt"):
                return api_time(state[key]["startedAt"])
    return api_time(job.get("status", {}).get("startTime"))


def api_time(value: object) -> datetime | None:
    """An API timestamp as an aware datetime (Python 3.10 cannot read "Z")."""
    if not isinstance(value, str) or not value:
        return None
    text = value.replace("Z", "+00:00")
    text = re.sub(r"\.(\d{6})\d+", r".\1", text)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def short(text: str) -> str:
    """A cluster's message on one line, cut to ``MESSAGE_LIMIT`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"
