"""Reading the ``volumes`` of a run spec.

A volume is four keys (type, name, mount path, the type's own ``spec``), and
most mistakes are in how they fit together: a name used twice, two volumes
at one path, a claim without its ``claim_name``, a path where dh_jupyter
puts the cell's code. This module checks each volume and the list as a
whole. It does not check that the claim, ConfigMap or Secret exists: only
the cluster knows that.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from dh_jupyter.spec import names
from dh_jupyter.spec.keys import Found, Problems, Style, at, closest, read_keys
from dh_jupyter.spec.model import VOLUME_TYPES, Volume
from dh_jupyter.spec.quantity import QuantityError, parse_quantity
from dh_jupyter.spec.values import is_list, show, text

VOLUME_SPEC_KEYS = {
    "persistent_volume_claim": ("claim_name", "read_only"),
    "config_map": ("name",),
    "secret": ("secret_name",),
    "empty_dir": ("size_limit", "medium"),
}
_ANY_SPEC_KEYS = tuple(
    dict.fromkeys(key for keys in VOLUME_SPEC_KEYS.values() for key in keys)
)
_REQUIRED_SPEC_KEY = {
    "persistent_volume_claim": "claim_name",
    "config_map": "name",
    "secret": "secret_name",
}
_VOLUME_TYPE_HINTS = {
    "pvc": "persistent_volume_claim",
    "persistentvolumeclaim": "persistent_volume_claim",
    "configmap": "config_map",
    "emptydir": "empty_dir",
}
RESERVED_PATH = "/var/run/dh-jupyter"
RESERVED_VOLUME_PREFIX = "dh-jupyter-"


def read_volumes(value: object, problems: Problems) -> tuple[Volume, ...]:
    """The checked volumes of ``value``, each with its own name and path."""
    if not is_list(value, "volumes", '[{"volume_type": ..., ...}]', problems):
        return ()
    assert isinstance(value, (list, tuple))
    volumes = []
    seen_names: dict[str, int] = {}
    seen_paths: dict[str, int] = {}
    for index, item in enumerate(value):
        path = at("volumes", index)
        volume = _volume(item, path, problems)
        if volume is None:
            continue
        # An empty name or path already has its own problem; "already used"
        # on top of it would only repeat it.
        if volume.name and volume.name in seen_names:
            problems.add(
                at(path, "name"),
                f'"{volume.name}" is already the name of volumes'
                f"[{seen_names[volume.name]}]; give each volume its own name.",
            )
        where = normal_mount_path(volume.mount_path)
        if volume.mount_path and where in seen_paths:
            problems.add(
                at(path, "mount_path"),
                f'"{volume.mount_path}" is already where volumes'
                f"[{seen_paths[where]}] is mounted; "
                "mount each volume at its own path.",
            )
        if volume.name:
            seen_names.setdefault(volume.name, index)
        if volume.mount_path:
            seen_paths.setdefault(where, index)
        volumes.append(volume)
    return tuple(volumes)


def _volume(item: object, path: str, problems: Problems) -> Volume | None:
    if not isinstance(item, Mapping):
        problems.add(
            path, f"{show(item)} is not a mapping; describe the volume as a dict."
        )
        return None
    found = read_keys(
        item, ("volume_type", "name", "mount_path", "spec"), path, problems
    )
    # A missing key is named in the spelling of the keys the user did write.
    style = Style(camel=False).within(item)
    for required in ("volume_type", "name", "mount_path"):
        if required not in found:
            spelled = style.spell(required)
            problems.add(at(path, spelled), f'"{spelled}" is required and is missing.')

    volume_type = _volume_type(found, problems)
    name = _name(found, problems)
    mount_path = _mount_path(found, problems)
    spec = _volume_spec(
        volume_type, found.get("spec", {}), found.at("spec"), style, problems
    )
    if volume_type is None:
        return None
    return Volume(volume_type, name or "", mount_path or "", spec)


def _volume_type(found: Found, problems: Problems) -> str | None:
    """The volume's type if it is one; ``None`` if it is missing or bad."""
    if "volume_type" not in found:
        return None
    volume_type = text(found["volume_type"], found.at("volume_type"), problems)
    if volume_type is None or volume_type in VOLUME_TYPES:
        return volume_type
    guess = _VOLUME_TYPE_HINTS.get(volume_type.lower()) or closest(
        volume_type, VOLUME_TYPES
    )
    listed = ", ".join(f'"{kind}"' for kind in VOLUME_TYPES)
    hint = f'did you mean "{guess}"?' if guess else f"use one of {listed}."
    problems.add(
        found.at("volume_type"), f'"{volume_type}" is not a volume type; {hint}'
    )
    return None


def _name(found: Found, problems: Problems) -> str | None:
    """The volume's name if it is good; ``None`` once a problem is recorded."""
    if "name" not in found:
        return None
    where = found.at("name")
    name = text(found["name"], where, problems)
    if name is None:
        return None
    if not name:
        problems.add(where, 'the name is empty; give the volume a name such as "data".')
        return None
    problem = names.dns_label(name)
    if problem is None and name.startswith(RESERVED_VOLUME_PREFIX):
        problem = (
            f'"{name}" starts with "{RESERVED_VOLUME_PREFIX}", which dh_jupyter '
            "keeps for its own volumes; choose another name."
        )
    if problem:
        problems.add(where, problem)
        return None
    return name


def _mount_path(found: Found, problems: Problems) -> str | None:
    """The mount path if it is good; ``None`` once a problem is recorded."""
    if "mount_path" not in found:
        return None
    where = found.at("mount_path")
    mount_path = text(found["mount_path"], where, problems)
    if mount_path is None:
        return None
    normal = normal_mount_path(mount_path)
    if not mount_path.startswith("/"):
        problems.add(
            where,
            f'"{mount_path}" is not an absolute path; start it with "/", '
            f'such as "/{mount_path.lstrip("./") or "data"}".',
        )
    elif ":" in mount_path:
        problems.add(where, f'"{mount_path}" contains ":"; a mount path cannot.')
    elif normal == "/":
        problems.add(
            where,
            f'"{mount_path}" is the root of the container\'s file system, which a '
            'volume cannot replace; mount it at a folder such as "/data".',
        )
    elif normal == RESERVED_PATH or normal.startswith(RESERVED_PATH + "/"):
        problems.add(
            where,
            f'"{mount_path}" is where dh_jupyter puts the cell\'s code; '
            "mount the volume somewhere else.",
        )
    else:
        return mount_path
    return None


def normal_mount_path(mount_path: str) -> str:
    """``mount_path`` as the container sees it: ``/x/``, ``/x/.``, ``//x`` are ``/x``.

    Paths are compared in this form, so one folder written two ways is still
    one folder; the spec keeps the path as the user wrote it.
    """
    if not mount_path.startswith("/"):
        return mount_path
    return "/" + posixpath.normpath(mount_path).lstrip("/")


def _volume_spec(
    volume_type: str | None,
    value: object,
    path: str,
    style: Style,
    problems: Problems,
) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        problems.add(
            path, f"{show(value)} is not a mapping; write the volume's spec as a dict."
        )
        return {}
    if volume_type is None:
        # The type is missing or bad, but a typo in the spec is still worth
        # reporting now: check against the keys of every type.
        read_keys(value, _ANY_SPEC_KEYS, path, problems)
        return {}
    found = read_keys(value, VOLUME_SPEC_KEYS[volume_type], path, problems)
    required = _REQUIRED_SPEC_KEY.get(volume_type)
    if required and required not in found:
        spelled = style.within(value).spell(required)
        problems.add(
            at(path, spelled),
            f'a {volume_type} volume needs "spec.{spelled}", the name of the '
            "object in Kubernetes; add it.",
        )
    spec: dict[str, Any] = {}
    for key, item in found.items():
        where = found.at(key)
        if key == "read_only":
            if isinstance(item, bool):
                spec[key] = item
            else:
                problems.add(where, f"{show(item)} is not true or false.")
        elif key == "size_limit":
            if item is not None:
                try:
                    parse_quantity(item, memory=True)
                except QuantityError as error:
                    problems.add(where, str(error))
                spec[key] = str(item)
        elif key == "medium":
            if item in ("", "Memory"):
                spec[key] = item
            else:
                problems.add(
                    where,
                    f"{show(item)} is not a medium; leave it empty for the node's "
                    'disk or use "Memory".',
                )
        else:
            found_text = text(item, where, problems)
            if found_text is not None:
                problem = names.dns_subdomain(found_text)
                if problem:
                    problems.add(where, problem)
                spec[key] = found_text
    return spec
