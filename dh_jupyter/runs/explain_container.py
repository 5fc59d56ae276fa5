"""What happened to the container that runs the cell: its image, and its end.

Before the cell starts, its image may not exist, be refused by a private
registry, or still be pulling; after, the container may have run out of
memory (OOMKilled), been killed or stopped by a signal (exit codes 137 and
143), exited with an error, or its pod may have been evicted. Each becomes
a reason and a hint naming the run-spec field to change (``image``,
``image_pull_secrets``, ``resources.mem.limits``).

The sentences a local run can end with too (out of memory, an exit code, a
signal, the last of its retries) come from ``runs.endings``, so both
backends say them alike. What it deliberately does not do: decide whether
the Job as a whole failed or retries; that is ``runs.explain_job``'s part.
"""

from __future__ import annotations

from collections.abc import Sequence

from dh_jupyter.runs import endings
from dh_jupyter.runs.explain_seen import Obj, Seen, container, short
from dh_jupyter.runs.status import Phase, Status

IMAGE_ERRORS = (
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
)
# What may have sent the signal behind each exit code, as a cluster sees it.
_SIGNAL_HINTS = {
    137: "Something stopped it from outside; the pod's events may say what.",
    143: "It received SIGTERM, usually because its pod was deleted.",
}

# A reason, its hint and the exit code, as a failed Status takes them.
Ending = tuple[str, str, int | None]


def image_problem(pod: Obj, waiting: Obj) -> Status:
    """The pending status for a container waiting on an image it cannot pull."""
    shown = image(pod)
    reason = waiting.get("reason", "")
    message = str(waiting.get("message", "")).lower()
    if reason == "InvalidImageName":
        return Status(
            Phase.PENDING, f'"{shown}" is not a valid image name', "Fix image."
        )
    why = ""
    if "not found" in message or "manifest unknown" in message:
        why = ": it does not exist"
    elif any(word in message for word in ("unauthorized", "denied", "authoriz", "403")):
        why = ": the registry refused access"
    retrying = "; retrying" if reason == "ImagePullBackOff" else ""
    return Status(
        Phase.PENDING,
        f'the image "{shown}" cannot be pulled{why}{retrying}',
        "Check image (name and tag); for a private registry, add its pull secret "
        "to image_pull_secrets.",
    )


def pulling(events: Sequence[Obj]) -> bool:
    """Whether the pod's newest image event says its image is being pulled."""
    for event in reversed(events):
        if event.get("reason") in ("Pulled", "Started", "Created"):
            return False
        if event.get("reason") == "Pulling":
            return True
    return False


def image(pod: Obj) -> str:
    """The image the pod runs."""
    containers = pod.get("spec", {}).get("containers") or [{}]
    return str(containers[0].get("image", ""))


def terminated(seen: Seen, job: Obj, pod: Obj) -> Ending | None:
    """The reason, hint and exit code of a pod that ended badly, or None."""
    status = pod.get("status", {})
    if status.get("reason") == "Evicted":
        return (
            f"its pod was evicted: {short(status.get('message', ''))}".rstrip(": "),
            "Run it again; if it happens again, ask for more of what the message "
            "names (resources.mem.requests for memory).",
            None,
        )
    ended = (container(pod) or {}).get("state", {}).get("terminated")
    if not ended:
        return None
    code = ended.get("exitCode")
    attempt = _attempt_note(seen, job)
    if ended.get("reason") == "OOMKilled":
        reason, hint = endings.out_of_memory(_memory_limit(job))
        return (reason + attempt, hint, code)
    if code in _SIGNAL_HINTS:
        return (endings.signalled(code) + attempt, _SIGNAL_HINTS[code], code)
    if code:
        reason, hint = endings.exited(code)
        return (reason + attempt, hint, code)
    return None


def _attempt_note(seen: Seen, job: Obj) -> str:
    retries = int(job.get("spec", {}).get("backoffLimit", 0) or 0)
    attempts = len(seen.pods)
    if retries and attempts > 1:
        return endings.on_last_attempt(attempts)
    return ""


def _memory_limit(job: Obj) -> str:
    spec = job.get("spec", {}).get("template", {}).get("spec", {})
    containers = spec.get("containers") or [{}]
    limits = (containers[0].get("resources") or {}).get("limits") or {}
    return str(limits.get("memory", ""))
