"""Turning a seed-shaped dict into a checked ``RunSpec``.

This is the one place that knows every spelling a run spec may arrive in:
the DigitalHub SDK's seed shape, its newer spellings (``envs``, flat
resources meaning requests), and Kubernetes camelCase inside volume specs,
tolerations and affinities. It reads everything it is given, records every
problem with its field path, and raises them together.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from dh_jupyter.spec import names
from dh_jupyter.spec.affinity import read_affinity
from dh_jupyter.spec.errors import SpecError
from dh_jupyter.spec.keys import Problems, at, closest, read_keys
from dh_jupyter.spec.model import (
    RESOURCE_KINDS,
    VOLUME_TYPES,
    Resource,
    Resources,
    RunSpec,
    Toleration,
    Volume,
)
from dh_jupyter.spec.quantity import QuantityError, is_whole, parse_quantity

TOP_LEVEL_KEYS = (
    "volumes",
    "resources",
    "tolerations",
    "affinity",
    "labels",
    "node_selector",
    "secrets",
    "env",
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
VOLUME_SPEC_KEYS = {
    "persistent_volume_claim": ("claim_name", "read_only"),
    "config_map": ("name",),
    "secret": ("secret_name",),
    "empty_dir": ("size_limit", "medium"),
}
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
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
RESERVED_LABEL_PREFIXES = ("dh-jupyter.io/", "app.kubernetes.io/managed-by")
RESERVED_PATH = "/var/run/dh-jupyter"
RESERVED_VOLUME_PREFIX = "dh-jupyter-"
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


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
    if "env" in found and "envs" in found:
        problems.add("envs", 'both "env" and "envs" are given; keep one of them.')
    env_key = "envs" if "envs" in found else "env"

    spec = RunSpec(
        volumes=_volumes(found.get("volumes", []), problems),
        resources=_resources(found.get("resources", {}), problems),
        tolerations=_tolerations(found.get("tolerations", []), problems),
        affinity=(
            read_affinity(found["affinity"], "affinity", problems)
            if found.get("affinity") is not None
            else None
        ),
        labels=_pairs(found.get("labels", {}), "labels", "name", problems),
        node_selector=_pairs(
            found.get("node_selector", {}), "node_selector", "key", problems
        ),
        secrets=_object_names(found.get("secrets", []), "secrets", problems),
        env=_env(found.get(env_key, []), env_key, problems),
        image=_image(found.get("image"), problems),
        namespace=_checked_text(
            found.get("namespace"), "namespace", names.dns_label, problems
        ),
        timeout=_duration(found.get("timeout"), "timeout", 1, problems),
        retries=_count(found.get("retries"), "retries", problems),
        ttl=_duration(found.get("ttl"), "ttl", 0, problems),
        service_account=_checked_text(
            found.get("service_account"),
            "service_account",
            names.dns_subdomain,
            problems,
        ),
        image_pull_secrets=_object_names(
            found.get("image_pull_secrets", []), "image_pull_secrets", problems
        ),
        priority_class=_checked_text(
            found.get("priority_class"), "priority_class", names.dns_subdomain, problems
        ),
        queue=_checked_text(found.get("queue"), "queue", _non_empty_label, problems),
        gpu_type=_checked_text(
            found.get("gpu_type"), "gpu_type", _non_empty_label, problems
        ),
    )
    problems.raise_if_any()
    return spec


def _is_list(value: object, path: str, example: str, problems: Problems) -> bool:
    if isinstance(value, (list, tuple)):
        return True
    problems.add(path, f"{_show(value)} is not a list; write a list such as {example}.")
    return False


def _show(value: object) -> str:
    """``value`` as the user would recognise it in a message."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _text(value: object, path: str, problems: Problems) -> str | None:
    if isinstance(value, str):
        return value
    problems.add(path, f"{_show(value)} is not a string; put it in quotes.")
    return None


def _checked_text(
    value: object, path: str, check: Any, problems: Problems
) -> str | None:
    if value is None:
        return None
    text = _text(value, path, problems)
    if text is None:
        return None
    problem = check(text)
    if problem:
        problems.add(path, problem)
    return text


def _non_empty_label(value: str) -> str | None:
    if not value:
        return "the value is empty; give a name or leave the field out."
    return names.label_value(value)


# Volumes


def _volumes(value: object, problems: Problems) -> tuple[Volume, ...]:
    if not _is_list(value, "volumes", '[{"volume_type": ..., ...}]', problems):
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
        if volume.name in seen_names:
            problems.add(
                at(path, "name"),
                f'"{volume.name}" is already the name of volumes'
                f"[{seen_names[volume.name]}]; give each volume its own name.",
            )
        if volume.mount_path in seen_paths:
            problems.add(
                at(path, "mount_path"),
                f'"{volume.mount_path}" is already where volumes'
                f"[{seen_paths[volume.mount_path]}] is mounted; "
                "mount each volume at its own path.",
            )
        seen_names.setdefault(volume.name, index)
        seen_paths.setdefault(volume.mount_path, index)
        volumes.append(volume)
    return tuple(volumes)


def _volume(item: object, path: str, problems: Problems) -> Volume | None:
    if not isinstance(item, Mapping):
        problems.add(
            path, f"{_show(item)} is not a mapping; describe the volume as a dict."
        )
        return None
    found = read_keys(
        item, ("volume_type", "name", "mount_path", "spec"), path, problems
    )
    for required in ("volume_type", "name", "mount_path"):
        if required not in found:
            problems.add(
                at(path, required), f'"{required}" is required and is missing.'
            )

    volume_type = (
        _text(found["volume_type"], at(path, "volume_type"), problems)
        if "volume_type" in found
        else None
    )
    if volume_type and volume_type not in VOLUME_TYPES:
        guess = _VOLUME_TYPE_HINTS.get(volume_type.lower()) or closest(
            volume_type, VOLUME_TYPES
        )
        listed = ", ".join(f'"{kind}"' for kind in VOLUME_TYPES)
        hint = f'did you mean "{guess}"?' if guess else f"use one of {listed}."
        problems.add(
            at(path, "volume_type"), f'"{volume_type}" is not a volume type; {hint}'
        )
        volume_type = None

    name = _text(found.get("name", ""), at(path, "name"), problems) or ""
    if "name" in found and name:
        problem = names.dns_label(name)
        if problem is None and name.startswith(RESERVED_VOLUME_PREFIX):
            problem = (
                f'"{name}" starts with "{RESERVED_VOLUME_PREFIX}", which dh_jupyter '
                "keeps for its own volumes; choose another name."
            )
        if problem:
            problems.add(at(path, "name"), problem)
    elif "name" in found:
        problems.add(
            at(path, "name"),
            'the name is empty; give the volume a name such as "data".',
        )

    mount_path = (
        _text(found.get("mount_path", ""), at(path, "mount_path"), problems) or ""
    )
    if "mount_path" in found:
        _check_mount_path(mount_path, at(path, "mount_path"), problems)

    spec = _volume_spec(volume_type, found.get("spec", {}), at(path, "spec"), problems)
    if volume_type is None:
        return None
    return Volume(volume_type, name, mount_path, spec)


def _check_mount_path(mount_path: str, path: str, problems: Problems) -> None:
    if not mount_path.startswith("/"):
        problems.add(
            path,
            f'"{mount_path}" is not an absolute path; start it with "/", '
            f'such as "/{mount_path.lstrip("./") or "data"}".',
        )
    elif ":" in mount_path:
        problems.add(path, f'"{mount_path}" contains ":"; a mount path cannot.')
    elif mount_path.rstrip("/") == RESERVED_PATH or mount_path.startswith(
        RESERVED_PATH + "/"
    ):
        problems.add(
            path,
            f'"{mount_path}" is where dh_jupyter puts the cell\'s code; '
            "mount the volume somewhere else.",
        )


def _volume_spec(
    volume_type: str | None, value: object, path: str, problems: Problems
) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        problems.add(
            path, f"{_show(value)} is not a mapping; write the volume's spec as a dict."
        )
        return {}
    if volume_type is None:
        return {}
    found = read_keys(value, VOLUME_SPEC_KEYS[volume_type], path, problems)
    required = _REQUIRED_SPEC_KEY.get(volume_type)
    if required and required not in found:
        problems.add(
            at(path, required),
            f'a {volume_type} volume needs "spec.{required}", the name of the '
            "object in Kubernetes; add it.",
        )
    spec: dict[str, Any] = {}
    for key, item in found.items():
        where = found.at(key)
        if key == "read_only":
            if isinstance(item, bool):
                spec[key] = item
            else:
                problems.add(where, f"{_show(item)} is not true or false.")
        elif key == "size_limit":
            if item is not None:
                _quantity(item, where, problems, memory=True)
                spec[key] = str(item)
        elif key == "medium":
            if item in ("", "Memory"):
                spec[key] = item
            else:
                problems.add(
                    where,
                    f"{_show(item)} is not a medium; leave it empty for the node's "
                    'disk or use "Memory".',
                )
        else:
            text = _text(item, where, problems)
            if text is not None:
                problem = names.dns_subdomain(text)
                if problem:
                    problems.add(where, problem)
                spec[key] = text
    return spec


# Resources


def _resources(value: object, problems: Problems) -> Resources:
    if not isinstance(value, Mapping):
        problems.add(
            "resources",
            f'{_show(value)} is not a mapping; write {{"cpu": {{"requests": "1"}}}}.',
        )
        return Resources()
    found = read_keys(value, RESOURCE_KINDS, "resources", problems)
    return Resources(
        **{
            kind: _resource(kind, item, at("resources", kind), problems)
            for kind, item in found.items()
        }
    )


def _resource(kind: str, value: object, path: str, problems: Problems) -> Resource:
    if value is None:
        return Resource()
    if not isinstance(value, Mapping):
        # Newer SDK releases write a bare quantity and mean the request.
        value = {"requests": value}
    found = read_keys(value, ("requests", "limits"), path, problems)
    amounts: dict[str, Decimal] = {}
    texts: dict[str, str] = {}
    for key, item in found.items():
        if item is None:
            continue
        amount = _quantity(item, at(path, key), problems, memory=kind == "mem")
        texts[key] = str(item).strip()
        if amount is None:
            continue
        if kind == "gpu" and not (is_whole(amount) and texts[key].isdigit()):
            problems.add(
                at(path, key),
                f"{_show(item)} is not a whole number of GPUs; ask for 1, 2 or more.",
            )
            continue
        amounts[key] = amount

    request, limit = amounts.get("requests"), amounts.get("limits")
    if kind == "gpu" and "requests" in texts and "limits" not in texts:
        # A GPU cannot be overcommitted: Kubernetes needs the limit, equal.
        texts["limits"] = texts["requests"]
    elif (
        request is not None and limit is not None and kind == "gpu" and request != limit
    ):
        problems.add(
            at(path, "requests"),
            f'"{texts["requests"]}" differs from the limit "{texts["limits"]}"; '
            "GPUs cannot be shared, so set the request equal to the limit.",
        )
    elif request is not None and limit is not None and request > limit:
        problems.add(
            at(path, "requests"),
            f'"{texts["requests"]}" is more than the limit "{texts["limits"]}"; '
            "raise the limit or lower the request.",
        )
    return Resource(texts.get("requests"), texts.get("limits"))


def _quantity(
    value: object, path: str, problems: Problems, *, memory: bool
) -> Decimal | None:
    try:
        return parse_quantity(value, memory=memory)
    except QuantityError as error:
        problems.add(path, str(error))
        return None


# Scheduling


def _tolerations(value: object, problems: Problems) -> tuple[Toleration, ...]:
    if not _is_list(value, "tolerations", '[{"key": ..., "effect": ...}]', problems):
        return ()
    assert isinstance(value, (list, tuple))
    return tuple(
        toleration
        for index, item in enumerate(value)
        if (toleration := _toleration(item, at("tolerations", index), problems))
    )


def _toleration(item: object, path: str, problems: Problems) -> Toleration | None:
    if not isinstance(item, Mapping):
        problems.add(
            path, f"{_show(item)} is not a mapping; describe the toleration as a dict."
        )
        return None
    found = read_keys(
        item,
        ("key", "operator", "value", "effect", "toleration_seconds"),
        path,
        problems,
    )
    texts = {}
    for name in ("key", "operator", "value", "effect"):
        if found.get(name) is not None:
            texts[name] = _text(found[name], at(path, name), problems) or ""
    key = texts.get("key", "")
    operator = texts.get("operator") or "Equal"
    value = texts.get("value", "")
    effect = texts.get("effect", "")

    if operator not in ("Equal", "Exists"):
        guess = closest(operator, ("Equal", "Exists")) or "Equal"
        problems.add(
            at(path, "operator"),
            f'"{operator}" is not an operator; did you mean "{guess}"?',
        )
    elif operator == "Exists" and value:
        problems.add(
            at(path, "value"),
            f'"{value}" is given with operator "Exists", which matches any value; '
            'remove the value or use operator "Equal".',
        )
    if not key and operator != "Exists":
        problems.add(
            at(path, "key"),
            'the key is empty, which only works with operator "Exists" '
            "(tolerate every taint); give a key or set the operator.",
        )
    elif key and (problem := names.label_key(key)):
        problems.add(at(path, "key"), problem)
    if value and (problem := names.label_value(value)):
        problems.add(at(path, "value"), problem)
    if effect and effect not in TAINT_EFFECTS:
        effect_guess = closest(effect, TAINT_EFFECTS)
        hint = (
            f'did you mean "{effect_guess}"?'
            if effect_guess
            else ("leave it empty or use NoSchedule, PreferNoSchedule or NoExecute.")
        )
        problems.add(at(path, "effect"), f'"{effect}" is not a taint effect; {hint}')

    seconds = found.get("toleration_seconds")
    if seconds is not None:
        where = at(path, "toleration_seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int):
            problems.add(where, f"{_show(seconds)} is not a whole number of seconds.")
            seconds = None
        elif effect != "NoExecute":
            problems.add(
                where,
                f"{seconds} only applies to the NoExecute effect; set effect "
                '"NoExecute" or remove toleration_seconds.',
            )
    return Toleration(key, operator, value, effect, seconds)


def _pairs(
    value: object, path: str, key_name: str, problems: Problems
) -> dict[str, str]:
    """Labels or a node selector, given as a mapping or a list of pairs."""
    items: list[tuple[str, object, object]] = []
    if isinstance(value, Mapping):
        items = [(at(path, str(key)), key, item) for key, item in value.items()]
    elif isinstance(value, (list, tuple)):
        for index, entry in enumerate(value):
            where = at(path, index)
            if not isinstance(entry, Mapping):
                problems.add(
                    where,
                    f'{_show(entry)} is not a mapping; write {{"{key_name}": ..., '
                    '"value": ...}.',
                )
                continue
            found = read_keys(entry, (key_name, "value"), where, problems)
            if key_name not in found:
                problems.add(
                    at(where, key_name), f'"{key_name}" is required and is missing.'
                )
                continue
            items.append((at(where, key_name), found[key_name], found.get("value", "")))
    else:
        problems.add(
            path, f'{_show(value)} is not a mapping; write {{"key": "value"}}.'
        )

    pairs: dict[str, str] = {}
    for where, key, item in items:
        if not isinstance(key, str):
            problems.add(where, f"{_show(key)} is not a string; put it in quotes.")
            continue
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            problems.add(
                where, f"{_show(item)} is not a string; put the value in quotes."
            )
            continue
        if problem := names.label_key(key):
            problems.add(where, problem)
        elif path == "labels" and key.startswith(RESERVED_LABEL_PREFIXES):
            problems.add(
                where,
                f'"{key}" is set by dh_jupyter itself to find its runs again; '
                "choose another key.",
            )
        if problem := names.label_value(str(item)):
            problems.add(where, problem)
        if key in pairs:
            problems.add(where, f'"{key}" is given twice; keep one.')
        pairs[key] = str(item)
    return pairs


# Injection


def _object_names(value: object, path: str, problems: Problems) -> tuple[str, ...]:
    if isinstance(value, str):
        problems.add(path, f'"{value}" is a single name; write a list: ["{value}"].')
        return ()
    if not _is_list(value, path, '["my-secret"]', problems):
        return ()
    assert isinstance(value, (list, tuple))
    result: list[str] = []
    for index, item in enumerate(value):
        where = at(path, index)
        text = _text(item, where, problems)
        if text is None:
            continue
        if problem := names.dns_subdomain(text):
            problems.add(where, problem)
        elif text in result:
            problems.add(where, f'"{text}" is listed twice; keep one.')
        result.append(text)
    return tuple(result)


def _env(value: object, path: str, problems: Problems) -> dict[str, str]:
    entries: list[tuple[str, object, object]] = []
    if isinstance(value, Mapping):
        entries = [(at(path, str(key)), key, item) for key, item in value.items()]
    elif _is_list(value, path, '[{"name": "MY_SETTING", "value": "1"}]', problems):
        assert isinstance(value, (list, tuple))
        for index, entry in enumerate(value):
            where = at(path, index)
            if not isinstance(entry, Mapping):
                problems.add(
                    where,
                    f"{_show(entry)} is not a mapping; "
                    'write {"name": ..., "value": ...}.',
                )
                continue
            found = read_keys(entry, ("name", "value"), where, problems)
            if "name" not in found:
                problems.add(at(where, "name"), '"name" is required and is missing.')
                continue
            entries.append((at(where, "name"), found["name"], found.get("value", "")))

    env: dict[str, str] = {}
    for where, name, item in entries:
        if not isinstance(name, str):
            problems.add(where, f"{_show(name)} is not a string; put it in quotes.")
            continue
        if problem := names.env_name(name):
            problems.add(where, problem)
            continue
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            problems.add(
                where, f"the value of {name} is {_show(item)}; give a string instead."
            )
            continue
        if name in env:
            problems.add(where, f'"{name}" is set twice; keep one.')
        env[name] = str(item)
    return env


# Job options


def _image(value: object, problems: Problems) -> str | None:
    if value is None:
        return None
    text = _text(value, "image", problems)
    if text is not None and (not text.strip() or any(c.isspace() for c in text)):
        problems.add(
            "image",
            f'"{text}" is not an image reference; '
            'write one such as "python:3.12-slim".',
        )
    return text


def _count(value: object, path: str, problems: Problems) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.add(
            path, f"{_show(value)} is not a count; use a whole number, 0 or more."
        )
        return None
    return value


def _duration(value: object, path: str, minimum: int, problems: Problems) -> int | None:
    """Seconds, from a whole number or text such as ``"90s"``, ``"1h30m"``."""
    if value is None:
        return None
    seconds: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and value.strip().isdigit():
        seconds = int(value)
    elif (
        isinstance(value, str)
        and (match := _DURATION.match(value.strip()))
        and any(match.groups())
    ):
        days, hours, minutes, secs = (int(part or 0) for part in match.groups())
        seconds = ((days * 24 + hours) * 60 + minutes) * 60 + secs
    if seconds is None or seconds < minimum:
        least = "1 or more" if minimum else "0 or more"
        problems.add(
            path,
            f"{_show(value)} is not a duration; give seconds ({least}) or text "
            'such as "90s", "30m" or "2h".',
        )
        return None
    return seconds
