"""Why a run's pod waits for what it mounts: claims, ConfigMaps and Secrets.

A PersistentVolumeClaim that does not exist or is not bound yet stops the
scheduler; a ConfigMap or Secret that does not exist stops the kubelet, as a
FailedMount event or a container it cannot configure. Each becomes one
sentence naming the missing object and its namespace, with a hint that
points at the run-spec field that names it (``volumes[0].spec.claim_name``,
``secrets``), found by the volume's name in the Job's pod template.

What it deliberately does not do: look the objects up on the cluster. Only
the messages the cluster already sent are read.
"""

from __future__ import annotations

import re

from dh_jupyter.runs.explain_seen import Obj, Seen, in_namespace, short
from dh_jupyter.runs.status import Phase, Status


def claim_problem(seen: Seen, job: Obj, message: str) -> Status | None:
    """The pending status for a claim that blocks scheduling, or None."""
    claim = re.search(r'persistentvolumeclaim "([^"]+)" not found', message)
    if claim:
        index = _claim_index(job, claim[1])
        field = f"volumes[{index}].spec.claim_name" if index is not None else "volumes"
        return Status(
            Phase.PENDING,
            f'the PersistentVolumeClaim "{claim[1]}" does not exist'
            f"{in_namespace(seen, job)}",
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
    return None


def config_problem(seen: Seen, pod: Obj, message: str) -> Status:
    """The pending status for a container the kubelet cannot configure."""
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
            f'the {kind} "{name}" does not exist{in_namespace(seen, pod)}',
            f"Create it, or {fix}.",
        )
    return Status(
        Phase.PENDING,
        f"its container cannot be configured: {short(message)}",
        "Check secrets and env.",
    )


def mount_problem(seen: Seen, job: Obj, message: str) -> Status:
    """The pending status for a FailedMount or FailedAttachVolume ``message``."""
    missing = re.search(r'(configmap|secret) "([^"]+)" not found', message)
    volume = re.search(r'for volume "([^"]+)"', message)
    if missing:
        kind = "Secret" if missing[1] == "secret" else "ConfigMap"
        key = "secret_name" if kind == "Secret" else "name"
        index = _volume_index(job, volume[1] if volume else "")
        field = f"volumes[{index}].spec.{key}" if index is not None else "volumes"
        return Status(
            Phase.PENDING,
            f'the {kind} "{missing[2]}" does not exist{in_namespace(seen, job)}',
            f"Create it, or fix {field}.",
        )
    return Status(Phase.PENDING, f"a volume cannot be mounted: {short(message)}")


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
