"""Turning a seed-shaped dict into a checked ``RunSpec``.

This is the one entry point that knows every top-level key a run spec may
carry: the DigitalHub SDK's seed shape, its newer spellings (``envs``, flat
resources meaning requests), and the Job options beyond the seed. It hands
each key to the module that knows its shape (``volumes``, ``resources``,
``tolerations``, ``affinity``, ``labels``, ``environment``, ``values``),
which records every problem with its field path, and raises them together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from dh_jupyter.spec import names
from dh_jupyter.spec.affinity import read_affinity
from dh_jupyter.spec.environment import read_env
from dh_jupyter.spec.errors import SpecError
from dh_jupyter.spec.keys import Problems, read_keys
from dh_jupyter.spec.labels import (
    GPU_PRODUCT_LABEL,
    RESERVED_LABEL_PREFIXES,
    gpu_type_conflict,
    read_pairs,
)
from dh_jupyter.spec.model import (
    RESOURCE_KINDS,
    Resource,
    Resources,
    RunSpec,
    Toleration,
    Volume,
    checked_spec,
)
from dh_jupyter.spec.resources import read_resources
from dh_jupyter.spec.tolerations import TAINT_EFFECTS, read_tolerations
from dh_jupyter.spec.values import (
    INT64_MAX,
    checked_text,
    count,
    duration,
    image,
    non_empty_label,
    object_names,
)
from dh_jupyter.spec.volumes import (
    RESERVED_PATH,
    RESERVED_VOLUME_PREFIX,
    VOLUME_SPEC_KEYS,
    read_volumes,
)

# Other layers import these names from here; they live with their rules.
__all__ = [
    "RESERVED_LABEL_PREFIXES",
    "RESERVED_PATH",
    "RESERVED_VOLUME_PREFIX",
    "SEED_KEYS",
    "TAINT_EFFECTS",
    "TOP_LEVEL_KEYS",
    "VOLUME_SPEC_KEYS",
    "check_given",
    "parse_spec",
]

# The keys of the DigitalHub SDK's seed document, as function.run() takes them.
SEED_KEYS = (
    "volumes",
    "resources",
    "tolerations",
    "affinity",
    "labels",
    "node_selector",
    "secrets",
    "env",
)

TOP_LEVEL_KEYS = (
    *SEED_KEYS,
    "envs",
    "image",
    "namespace",
    "timeout",
    "retries",
    "ttl",
    "service_account",
    "image_pull_secrets",
    "priority_class",
    "queue",
    "gpu_type",
)


def parse_spec(value: object) -> RunSpec:
    """A checked ``RunSpec`` from ``value``, or ``SpecError`` with every problem."""
    problems = Problems()
    if isinstance(value, RunSpec):
        return value
    if not isinstance(value, Mapping):
        raise SpecError(
            "",
            f"a run spec must be a dict such as {{'resources': ...}}, not {value!r}.",
        )
    found = read_keys(value, TOP_LEVEL_KEYS, "", problems)
    # None means "not set" for every key, as the SDK's keyword defaults do.
    for key in [key for key, item in found.items() if item is None]:
        del found[key]
    if "env" in found and "envs" in found:
        problems.add("envs", 'both "env" and "envs" are given; keep one of them.')
    env_key = "envs" if "envs" in found else "env"

    spec = checked_spec(
        dict(
            volumes=read_volumes(found.get("volumes", []), problems),
            resources=read_resources(found.get("resources", {}), problems),
            tolerations=read_tolerations(found.get("tolerations", []), problems),
            affinity=(
                read_affinity(found["affinity"], "affinity", problems)
                if "affinity" in found
                else None
            ),
            labels=read_pairs(found.get("labels", {}), "labels", "name", problems),
            node_selector=read_pairs(
                found.get("node_selector", {}), "node_selector", "key", problems
            ),
            secrets=object_names(found.get("secrets", []), "secrets", problems),
            env=read_env(found.get(env_key, []), env_key, problems),
            image=image(found.get("image"), problems),
            namespace=checked_text(
                found.get("namespace"), "namespace", names.dns_label, problems
            ),
            timeout=duration(
                found.get("timeout"), "timeout", 1, problems, maximum=INT64_MAX
            ),
            retries=count(found.get("retries"), "retries", problems),
            ttl=duration(found.get("ttl"), "ttl", 0, problems),
            service_account=checked_text(
                found.get("service_account"),
                "service_account",
                names.dns_subdomain,
                problems,
            ),
            image_pull_secrets=object_names(
                found.get("image_pull_secrets", []), "image_pull_secrets", problems
            ),
            priority_class=checked_text(
                found.get("priority_class"),
                "priority_class",
                names.dns_subdomain,
                problems,
            ),
            queue=checked_text(found.get("queue"), "queue", non_empty_label, problems),
            gpu_type=checked_text(
                found.get("gpu_type"), "gpu_type", non_empty_label, problems
            ),
        )
    )
    # The configured GPU product label is only known when the Job is built,
    # where manifest checks it; the default label is checked here, so the
    # common case is refused as soon as it is written, in every surface.
    if problem := gpu_type_conflict(
        spec.gpu_type, spec.node_selector, GPU_PRODUCT_LABEL
    ):
        problems.add("gpu_type", problem)
    problems.raise_if_any()
    return spec


def check_given(spec: RunSpec) -> RunSpec:
    """The checked spec of what ``RunSpec(...)`` was given, or ``SpecError``.

    The constructor's fields are turned back into the seed dict, model
    objects and all, and read by ``parse_spec``, so a spec built by hand
    meets exactly the rules of one read from a dict, with the same field
    paths in its errors. Values of the wrong type are passed on as they are,
    for the parser to name.
    """
    given: dict[str, Any] = {}
    for item in fields(spec):
        value = getattr(spec, item.name)
        if value is None:
            continue
        if item.name == "volumes" and isinstance(value, (list, tuple)):
            value = [_given_volume(volume) for volume in value]
        elif item.name == "resources" and isinstance(value, Resources):
            value = {
                kind: _given_resource(getattr(value, kind))
                for kind in RESOURCE_KINDS
                if getattr(value, kind) != Resource()
            }
        elif item.name == "tolerations" and isinstance(value, (list, tuple)):
            value = [_given_toleration(toleration) for toleration in value]
        given[item.name] = value
    return parse_spec(given)


def _given_volume(volume: object) -> object:
    if not isinstance(volume, Volume):
        return volume
    return {
        "volume_type": volume.volume_type,
        "name": volume.name,
        "mount_path": volume.mount_path,
        "spec": volume.spec,
    }


def _given_resource(resource: object) -> object:
    if not isinstance(resource, Resource):
        return resource
    amounts = {"requests": resource.requests, "limits": resource.limits}
    return {key: amount for key, amount in amounts.items() if amount is not None}


def _given_toleration(toleration: object) -> object:
    if not isinstance(toleration, Toleration):
        return toleration
    return {
        item.name: getattr(toleration, item.name)
        for item in fields(toleration)
        if getattr(toleration, item.name) is not None
    }
