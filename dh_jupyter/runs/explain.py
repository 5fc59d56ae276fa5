"""A Job, its Pods and their Events, turned into one ``Status`` in plain words.

This is where "0/5 nodes are available: 2 Insufficient cpu" becomes "2 of 5
nodes lack free cpu" with the hint "ask for less cpu (resources.cpu.requests)
or wait for running work to finish". Pure functions of the objects as the
API sends them (dicts): no cluster access, so every explanation is tested
with the exact objects a cluster produces.

What it deliberately does not do: guess. A message it does not recognise is
shown as the cluster wrote it, shortened, without a hint.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from dh_jupyter.runs.status import Phase, Status

Obj = dict[str, Any]

MESSAGE_LIMIT = 240
IMAGE_ERRORS = (
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
)
# Taints that mark nodes not meant for workloads: never suggest tolerating them.
SYSTEM_TAINTS = (
    "node-role.kubernetes.io/",
    "node.kubernetes.io/",
    "node.cloudprovider.kubernetes.io/",
)
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"


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


def explain(seen: Seen) -> Status:
    """The run's status, its reason and the hint that fixes it."""
    job = seen.job or {}
    pod = seen.pods[-1] if seen.pods else None
    started = _started(job, pod)

    finished = _finished_status(seen, job, pod, started)
    if finished is not None:
        return finished
    if (
        seen.cancelled
        or seen.deleted
        or job.get("metadata", {}).get("deletionTimestamp")
    ):
        return _cancelled(seen, started)

    queued = _queued(seen, job)
    if queued is not None:
        return queued
    if pod is None:
        created = _failed_create(seen, job)
        return created or Status(Phase.QUEUED)
    return _pod_status(seen, job, pod)


# -------------------------------------------------------------- finished runs


def _finished_status(
    seen: Seen, job: Obj, pod: Obj | None, started: datetime | None
) -> Status | None:
    complete = _condition(job, "Complete") or _condition(job, "SuccessCriteriaMet")
    if complete is not None:
        end = api_time(job.get("status", {}).get("completionTime")) or api_time(
            complete.get("lastTransitionTime")
        )
        return Status(Phase.SUCCEEDED, started=started, finished=end, exit_code=0)
    failed = _condition(job, "Failed") or _condition(job, "FailureTarget")
    if failed is None:
        return None
    end = api_time(failed.get("lastTransitionTime"))
    reason, hint, code = _failure(seen, job, pod, failed)
    return Status(
        Phase.FAILED, reason, hint, started=started, finished=end, exit_code=code
    )


def _failure(
    seen: Seen, job: Obj, pod: Obj | None, condition: Obj
) -> tuple[str, str, int | None]:
    cause = condition.get("reason", "")
    if cause == "DeadlineExceeded":
        deadline = job.get("spec", {}).get("activeDeadlineSeconds")
        limit = f" of {duration(int(deadline))}" if deadline else ""
        return (
            f"it ran longer than its timeout{limit}",
            "Raise timeout, or make the cell finish sooner.",
            None,
        )
    if pod is not None:
        explained = _terminated(seen, job, pod)
        if explained is not None:
            return explained
    if cause == "BackoffLimitExceeded":
        failures = int(job.get("status", {}).get("failed", 0) or 0)
        retries = int(job.get("spec", {}).get("backoffLimit", 0) or 0)
        times = f" {failures} times" if failures > 1 else ""
        allowed = f", more than its {retries} retries allow" if retries else ""
        return (
            f"it failed{times}{allowed}",
            "The logs of the last attempt show why.",
            None,
        )
    message = _short(condition.get("message", "")) or cause or "the Job failed"
    return (message[0].lower() + message[1:], "", None)


def _terminated(seen: Seen, job: Obj, pod: Obj) -> tuple[str, str, int | None] | None:
    status = pod.get("status", {})
    if status.get("reason") == "Evicted":
        return (
            f"its pod was evicted: {_short(status.get('message', ''))}".rstrip(": "),
            "Run it again; if it happens again, ask for more of what the message "
            "names (resources.mem.requests for memory).",
            None,
        )
    container = _container(pod)
    terminated = (container or {}).get("state", {}).get("terminated")
    if not terminated:
        return None
    code = terminated.get("exitCode")
    attempt = _attempt_note(seen, job)
    if terminated.get("reason") == "OOMKilled":
        limit = _memory_limit(job)
        if limit:
            return (
                f"the cell ran out of memory and was killed (its limit is {limit})"
                + attempt,
                f'Ask for more memory: set resources.mem.limits to "{_double(limit)}" '
                "or more.",
                code,
            )
        return (
            "the cell ran out of memory and was killed" + attempt,
            "Ask for more memory: set resources.mem.requests and "
            'resources.mem.limits, for example "4Gi".',
            code,
        )
    if code == 137:
        return (
            f"the cell was killed (exit code 137){attempt}",
            "Something stopped it from outside; the pod's events may say what.",
            code,
        )
    if code == 143:
        return (
            f"the cell was stopped (exit code 143){attempt}",
            "It received SIGTERM, usually because its pod was deleted.",
            code,
        )
    if code:
        return (
            f"the cell exited with code {code}{attempt}",
            "The end of its logs shows the error.",
            code,
        )
    return None


def _attempt_note(seen: Seen, job: Obj) -> str:
    retries = int(job.get("spec", {}).get("backoffLimit", 0) or 0)
    attempts = len(seen.pods)
    if retries and attempts > 1:
        return f" on attempt {attempts}, its last"
    return ""


def _cancelled(seen: Seen, started: datetime | None) -> Status:
    end = datetime.now(timezone.utc)
    if seen.cancelled:
        return Status(
            Phase.CANCELLED, "you cancelled it", started=started, finished=end
        )
    return Status(
        Phase.CANCELLED,
        "its Job was deleted before it finished",
        "Someone or something else deleted it; run the cell again.",
        started=started,
        finished=end,
    )


# -------------------------------------------------------------- before a pod


def _queued(seen: Seen, job: Obj) -> Status | None:
    labels = job.get("metadata", {}).get("labels") or {}
    queue = labels.get(QUEUE_LABEL) or (seen.workload or {}).get("spec", {}).get(
        "queueName", ""
    )
    workload = seen.workload
    admitted = workload is not None and _condition(workload, "Admitted") is not None
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
        for condition in workload.get("status", {}).get("conditions") or []:
            waiting = condition.get("status") != "True" and condition.get("message")
            if condition.get("type") in ("QuotaReserved", "Admitted") and waiting:
                return _short(condition["message"])
    for event in reversed(seen.events):
        kind = (event.get("involvedObject") or {}).get("kind")
        if kind == "Workload" and event.get("reason") == "Pending":
            return _short(event.get("message", ""))
    return ""


def _failed_create(seen: Seen, job: Obj) -> Status | None:
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
                f"the namespace's quota does not allow its pod: {_short(quota[1])}",
                "Ask for less, wait for other runs to finish, or ask an administrator "
                "for more quota.",
            )
        needed = re.search(r"(must specify [^;]*)", message)
        if needed:
            return Status(
                Phase.PENDING,
                f"the namespace's quota requires limits: {_short(needed[1])}",
                "Set resources.cpu.limits and resources.mem.limits.",
            )
        return Status(Phase.PENDING, f"its pod cannot be created: {_short(message)}")
    return None


# -------------------------------------------------------------- a pod's life


def _pod_status(seen: Seen, job: Obj, pod: Obj) -> Status:
    status = pod.get("status", {})
    container = _container(pod) or {}
    state = container.get("state", {})
    pod_events = _events_of(seen, "Pod", pod["metadata"]["name"])

    if "running" in state:
        note = f"attempt {len(seen.pods)}" if len(seen.pods) > 1 else ""
        return Status(
            Phase.RUNNING, note, started=api_time(state["running"].get("startedAt"))
        )
    if "terminated" in state or status.get("phase") in ("Succeeded", "Failed"):
        return _ended_pod(seen, job, pod)

    waiting = state.get("waiting") or {}
    if waiting.get("reason") in IMAGE_ERRORS:
        return _image_problem(pod, waiting)
    if waiting.get("reason") == "CreateContainerConfigError":
        return _config_problem(seen, pod, waiting.get("message", ""))

    scheduled = _pod_condition(pod, "PodScheduled")
    if scheduled is not None and scheduled.get("status") == "False":
        message = scheduled.get("message") or _latest(pod_events, "FailedScheduling")
        return _scheduling(seen, job, message)
    if not status.get("phase") or scheduled is None:
        message = _latest(pod_events, "FailedScheduling")
        if message:
            return _scheduling(seen, job, message)

    mount = _latest(pod_events, "FailedMount") or _latest(
        pod_events, "FailedAttachVolume"
    )
    if mount:
        return _mount_problem(seen, job, mount)
    if _pulling(pod_events):
        return Status(Phase.PULLING, _image(pod))
    if scheduled is None and not pod_events:
        return Status(Phase.PENDING, "waiting for a node")
    return Status(Phase.PENDING, "starting the container")


def _ended_pod(seen: Seen, job: Obj, pod: Obj) -> Status:
    container = _container(pod) or {}
    terminated = container.get("state", {}).get("terminated") or {}
    started = api_time(terminated.get("startedAt"))
    end = api_time(terminated.get("finishedAt"))
    if (
        pod.get("status", {}).get("phase") == "Succeeded"
        or terminated.get("exitCode") == 0
    ):
        return Status(Phase.SUCCEEDED, started=started, finished=end, exit_code=0)
    explained = _terminated(seen, job, pod) or ("its pod failed", "", None)
    retries = int(job.get("spec", {}).get("backoffLimit", 0) or 0)
    if len(seen.pods) <= retries:
        return Status(
            Phase.PENDING,
            f"attempt {len(seen.pods)} failed ({explained[0]}); retrying",
            started=started,
        )
    reason, hint, code = explained
    return Status(
        Phase.FAILED, reason, hint, started=started, finished=end, exit_code=code
    )


def _image_problem(pod: Obj, waiting: Obj) -> Status:
    image = _image(pod)
    reason = waiting.get("reason", "")
    message = str(waiting.get("message", "")).lower()
    if reason == "InvalidImageName":
        return Status(
            Phase.PENDING, f'"{image}" is not a valid image name', "Fix image."
        )
    why = ""
    if "not found" in message or "manifest unknown" in message:
        why = ": it does not exist"
    elif any(word in message for word in ("unauthorized", "denied", "authoriz", "403")):
        why = ": the registry refused access"
    retrying = "; retrying" if reason == "ImagePullBackOff" else ""
    return Status(
        Phase.PENDING,
        f'the image "{image}" cannot be pulled{why}{retrying}',
        "Check image (name and tag); for a private registry, add its pull secret "
        "to image_pull_secrets.",
    )


def _config_problem(seen: Seen, pod: Obj, message: str) -> Status:
    missing = re.search(r'(secret|configmap) "([^"]+)" not found', message)
    if missing:
        kind = "Secret" if missing[1] == "secret" else "ConfigMap"
        name = missing[2]
        fix = (
            f'remove "{name}" from secrets'
            if kind == "Secret"
            else "fix the environment"
        )
        return Status(
            Phase.PENDING,
            f'the {kind} "{name}" does not exist{_in(seen, pod)}',
            f"Create it, or {fix}.",
        )
    return Status(
        Phase.PENDING,
        f"its container cannot be configured: {_short(message)}",
        "Check secrets and env.",
    )


def _mount_problem(seen: Seen, job: Obj, message: str) -> Status:
    missing = re.search(r'(configmap|secret) "([^"]+)" not found', message)
    volume = re.search(r'for volume "([^"]+)"', message)
    if missing:
        kind = "Secret" if missing[1] == "secret" else "ConfigMap"
        key = "secret_name" if kind == "Secret" else "name"
        index = _volume_index(job, volume[1] if volume else "")
        field = f"volumes[{index}].spec.{key}" if index is not None else "volumes"
        return Status(
            Phase.PENDING,
            f'the {kind} "{missing[2]}" does not exist{_in(seen, job)}',
            f"Create it, or fix {field}.",
        )
    return Status(Phase.PENDING, f"a volume cannot be mounted: {_short(message)}")


def _scheduling(seen: Seen, job: Obj, message: str) -> Status:
    claim = re.search(r'persistentvolumeclaim "([^"]+)" not found', message)
    if claim:
        index = _claim_index(job, claim[1])
        field = f"volumes[{index}].spec.claim_name" if index is not None else "volumes"
        return Status(
            Phase.PENDING,
            f'the PersistentVolumeClaim "{claim[1]}" does not exist{_in(seen, job)}',
            f"Create it, or fix {field}; the picker lists the claims you can use.",
        )
    if "unbound immediate PersistentVolumeClaims" in message:
        claims = _claims(job)
        subject = (
            f'the PersistentVolumeClaim "{claims[0]}" is'
            if len(claims) == 1
            else "its PersistentVolumeClaims are"
        )
        return Status(
            Phase.PENDING,
            f"{subject} not bound to a volume yet",
            "It binds once a volume is provisioned for it; if it stays unbound, ask "
            "an administrator about its storage class, or use another claim.",
        )
    return _no_node(seen, message)


def _no_node(seen: Seen, message: str) -> Status:
    total = re.match(r"\s*0/(\d+) nodes are available:\s*(.*)", message)
    if not total:
        return Status(Phase.PENDING, f"no node can take it: {_short(message)}")
    nodes = int(total[1])
    reasons = re.split(r"\.\s+preemption:", total[2], maxsplit=1)[0].rstrip(".")
    parts: list[str] = []
    hints: list[str] = []
    for item in _split_reasons(reasons):
        counted = re.match(r"(\d+)\s+(.*)", item)
        count, text = (int(counted[1]), counted[2]) if counted else (0, item)
        part, hint = _node_reason(seen, count, nodes, text)
        parts.append(part)
        if hint and hint not in hints:
            hints.append(hint)
    hint = "; ".join(hints)
    return Status(
        Phase.PENDING,
        "no node can take it: " + ", ".join(parts),
        (hint[0].upper() + hint[1:] + ".") if hint else "",
    )


def _split_reasons(text: str) -> list[str]:
    # Commas separate reasons, but not inside a taint's braces.
    items, depth, current = [], 0, ""
    for char in text:
        depth += char == "{"
        depth -= char == "}"
        if char == "," and depth == 0:
            items.append(current.strip())
            current = ""
        else:
            current += char
    items.append(current.strip())
    return [item for item in items if item]


def _node_reason(seen: Seen, count: int, nodes: int, text: str) -> tuple[str, str]:
    one = count == 1
    of = f"{count} of {nodes} nodes"

    def verb(singular: str, plural: str) -> str:
        return f"{of} {singular if one else plural}"

    insufficient = re.match(r"Insufficient (\S+)", text)
    if insufficient:
        resource = insufficient[1]
        lack = verb("lacks", "lack")
        if resource == "cpu":
            return (
                f"{lack} free cpu",
                "ask for less cpu (resources.cpu.requests) or wait for running "
                "work to finish",
            )
        if resource == "memory":
            return (
                f"{lack} free memory",
                "ask for less memory (resources.mem.requests) or wait for running "
                "work to finish",
            )
        if resource == seen.gpu_resource or resource.endswith("/gpu"):
            return (
                f"{lack} a free GPU ({resource})",
                "ask for fewer GPUs (resources.gpu), pick another gpu_type, or wait "
                "until one is free",
            )
        return (f"{lack} free {resource}", f"ask for less {resource}")
    taint = re.search(r"taint \{([^:}]+):\s*([^}]*)\}", text)
    if taint:
        key, value = taint[1].strip(), taint[2].strip()
        shown = f"{key}={value}" if value else key
        part = f"{verb('has', 'have')} the taint {shown} it does not tolerate"
        if key.startswith(SYSTEM_TAINTS):
            return (part, "")
        toleration: Obj = (
            {"key": key, "operator": "Equal", "value": value}
            if value
            else {"key": key, "operator": "Exists"}
        )
        return (
            part,
            f"to use the {shown} nodes, add the toleration "
            f"{json.dumps(toleration)} to tolerations",
        )
    scheduling = "selector" in text or "affinity" in text
    if "didn't match" in text and scheduling and "volume node affinity" not in text:
        return (
            f"{verb('does', 'do')} not match its node selector or affinity",
            "check node_selector, gpu_type and affinity against the labels your "
            "nodes have",
        )
    if "volume node affinity conflict" in text:
        return (f"{verb('is', 'are')} in another zone than its volume", "")
    if "unschedulable" in text:
        return (f"{verb('is', 'are')} cordoned", "")
    if "Too many pods" in text:
        return (
            f"{verb('is', 'are')} full (too many pods)",
            "wait for running work to finish",
        )
    if "free ports" in text:
        return (f"{verb('has', 'have')} no free port it needs", "")
    return (f"{of}: {text}" if count else text, "")


# -------------------------------------------------------------- small helpers


def _condition(obj: Obj, kind: str) -> Obj | None:
    for condition in obj.get("status", {}).get("conditions") or []:
        if condition.get("type") == kind and condition.get("status") == "True":
            return dict(condition)
    return None


def _pod_condition(pod: Obj, kind: str) -> Obj | None:
    for condition in pod.get("status", {}).get("conditions") or []:
        if condition.get("type") == kind:
            return dict(condition)
    return None


def _container(pod: Obj) -> Obj | None:
    statuses = pod.get("status", {}).get("containerStatuses") or []
    for status in statuses:
        if status.get("name") == "cell":
            return dict(status)
    return dict(statuses[0]) if statuses else None


def _events_of(seen: Seen, kind: str, name: str) -> list[Obj]:
    return [
        event
        for event in seen.events
        if (event.get("involvedObject") or {}).get("kind") == kind
        and (event.get("involvedObject") or {}).get("name") == name
    ]


def _latest(events: Sequence[Obj], reason: str) -> str:
    for event in reversed(events):
        if event.get("reason") == reason:
            return str(event.get("message", ""))
    return ""


def _pulling(events: Sequence[Obj]) -> bool:
    for event in reversed(events):
        if event.get("reason") in ("Pulled", "Started", "Created"):
            return False
        if event.get("reason") == "Pulling":
            return True
    return False


def _image(pod: Obj) -> str:
    containers = pod.get("spec", {}).get("containers") or [{}]
    return str(containers[0].get("image", ""))


def _in(seen: Seen, obj: Obj) -> str:
    namespace = obj.get("metadata", {}).get("namespace") or seen.namespace
    return f' in namespace "{namespace}"' if namespace else ""


def _pod_volumes(job: Obj) -> list[Obj]:
    spec = job.get("spec", {}).get("template", {}).get("spec", {})
    return list(spec.get("volumes") or [])


def _volume_index(job: Obj, name: str) -> int | None:
    for index, volume in enumerate(_pod_volumes(job)):
        if volume.get("name") == name:
            return index
    return None


def _claims(job: Obj) -> list[str]:
    return [
        v["persistentVolumeClaim"]["claimName"]
        for v in _pod_volumes(job)
        if "persistentVolumeClaim" in v
    ]


def _claim_index(job: Obj, claim: str) -> int | None:
    for index, volume in enumerate(_pod_volumes(job)):
        if (volume.get("persistentVolumeClaim") or {}).get("claimName") == claim:
            return index
    return None


def _memory_limit(job: Obj) -> str:
    spec = job.get("spec", {}).get("template", {}).get("spec", {})
    containers = spec.get("containers") or [{}]
    limits = (containers[0].get("resources") or {}).get("limits") or {}
    return str(limits.get("memory", ""))


def _double(quantity: str) -> str:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([A-Za-z]*)", quantity)
    if not match:
        return quantity
    number = float(match[1]) * 2
    shown = str(int(number)) if number.is_integer() else f"{number:g}"
    return shown + match[2]


def _started(job: Obj, pod: Obj | None) -> datetime | None:
    if pod is not None:
        state = (_container(pod) or {}).get("state", {})
        for key in ("running", "terminated"):
            if key in state and state[key].get("startedAt"):
                return api_time(state[key]["startedAt"])
    return api_time(job.get("status", {}).get("startTime"))


def duration(seconds: int) -> str:
    """A timeout as people say it: ``600`` is ``10 min``, ``5400`` ``1 h 30 min``."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes else []
    parts += [f"{secs} s"] if secs or not parts else []
    return " ".join(parts)


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


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"
