"""Writing a ``RunSpec`` back as the DigitalHub SDK's dict.

The result is what ``function.run(**kwargs)`` takes and what
``RunSpec.from_dict`` reads, so ``from_dict(to_dict())`` gives the same spec.
Unset fields are left out rather than written as empty values, so the dict
stays as small as what the user typed. Tolerations and affinity use the
Kubernetes spelling, as the seed's examples do. Everything returned is a
fresh copy: changing the dict never changes the spec.
"""

from __future__ import annotations

import copy
from typing import Any

from dh_jupyter.spec.keys import camel
from dh_jupyter.spec.model import RESOURCE_KINDS, RunSpec, Toleration

_OPTIONS = (
    "image",
    "namespace",
    "timeout",
    "retries",
    "ttl",
    "service_account",
    "priority_class",
    "queue",
    "gpu_type",
)


def spec_to_dict(spec: RunSpec) -> dict[str, Any]:
    """The seed-shaped dict of ``spec``, with unset fields left out."""
    result: dict[str, Any] = {}
    if spec.volumes:
        result["volumes"] = [
            {
                "volume_type": volume.volume_type,
                "name": volume.name,
                "mount_path": volume.mount_path,
                "spec": dict(volume.spec),
            }
            for volume in spec.volumes
        ]
    resources = resources_to_dict(spec)
    if resources:
        result["resources"] = resources
    if spec.tolerations:
        result["tolerations"] = [toleration_to_dict(t) for t in spec.tolerations]
    if spec.affinity is not None:
        result["affinity"] = copy.deepcopy(dict(spec.affinity))
    if spec.labels:
        result["labels"] = [{"name": k, "value": v} for k, v in spec.labels.items()]
    if spec.node_selector:
        result["node_selector"] = dict(spec.node_selector)
    if spec.secrets:
        result["secrets"] = list(spec.secrets)
    if spec.env:
        result["env"] = [{"name": k, "value": v} for k, v in spec.env.items()]
    if spec.image_pull_secrets:
        result["image_pull_secrets"] = list(spec.image_pull_secrets)
    for name in _OPTIONS:
        value = getattr(spec, name)
        if value is not None:
            result[name] = value
    return result


def resources_to_dict(spec: RunSpec) -> dict[str, dict[str, str]]:
    """``{"cpu": {"requests": ..., "limits": ...}, ...}`` for the set resources."""
    result: dict[str, dict[str, str]] = {}
    for kind in RESOURCE_KINDS:
        resource = getattr(spec.resources, kind)
        amounts = {
            key: value
            for key, value in (
                ("requests", resource.requests),
                ("limits", resource.limits),
            )
            if value is not None
        }
        if amounts:
            result[kind] = amounts
    return result


def toleration_to_dict(toleration: Toleration) -> dict[str, Any]:
    """A toleration in Kubernetes spelling, without empty fields."""
    result: dict[str, Any] = {}
    for name in ("key", "operator", "value", "effect", "toleration_seconds"):
        value = getattr(toleration, name)
        if value not in ("", None):
            result[camel(name)] = value
    return result
