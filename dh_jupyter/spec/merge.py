"""Layering run specs: configuration defaults, a profile, ``--spec``, flags.

Each layer only says what it changes, so merging works field by field
instead of replacing whole specs: a profile that adds a GPU toleration must
not wipe the memory request the administrator set as a default.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from dh_jupyter.spec.model import RESOURCE_KINDS, Resource, Resources, RunSpec
from dh_jupyter.spec.volumes import normal_mount_path


def merge_specs(base: RunSpec, override: RunSpec) -> RunSpec:
    """``base`` with everything that ``override`` sets laid over it."""
    empty = RunSpec()
    changes: dict[str, Any] = {}
    for item in fields(RunSpec):
        name = item.name
        old, new = getattr(base, name), getattr(override, name)
        if new == getattr(empty, name):
            continue
        if name == "resources":
            changes[name] = _merge_resources(old, new)
        elif name in ("labels", "node_selector", "env"):
            changes[name] = {**old, **new}
        elif name == "volumes":
            names = {v.name for v in new}
            paths = {normal_mount_path(v.mount_path) for v in new}
            kept = tuple(
                v
                for v in old
                if v.name not in names and normal_mount_path(v.mount_path) not in paths
            )
            changes[name] = kept + new
        elif name in ("tolerations", "secrets", "image_pull_secrets"):
            changes[name] = old + tuple(x for x in new if x not in old)
        else:
            changes[name] = new

    # The constructor checks the result: two valid layers can make an
    # invalid whole, such as a merged request above a merged limit.
    return RunSpec(
        **{**{f.name: getattr(base, f.name) for f in fields(RunSpec)}, **changes}
    )


def _merge_resources(old: Resources, new: Resources) -> Resources:
    merged = {}
    for kind in RESOURCE_KINDS:
        before, after = getattr(old, kind), getattr(new, kind)
        merged[kind] = Resource(
            after.requests if after.requests is not None else before.requests,
            after.limits if after.limits is not None else before.limits,
        )
    return Resources(**merged)
