"""The ``%%dhrun`` flags' short forms, read into a seed-shaped dict.

Flags are how most users write a run spec, so their forms are short
(``--cpu 500m:2``, ``--volume pvc:datasets:/data:ro``); this module turns
each into the same dict ``RunSpec.from_dict`` reads, so the values are
checked by the one set of rules. A malformed flag raises ``SpecError`` whose
field is the flag itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from dh_jupyter.spec.errors import SpecError
from dh_jupyter.spec.keys import closest

VOLUME_KINDS = {
    "pvc": "persistent_volume_claim",
    "configmap": "config_map",
    "secret": "secret",
    "emptydir": "empty_dir",
}
_SPEC_KEY = {"pvc": "claim_name", "configmap": "name", "secret": "secret_name"}


def request_limit(flag: str, value: str) -> dict[str, str]:
    """``"500m:2"`` → requests and limits; ``"2"`` → requests; ``":2"`` → limits."""
    request, colon, limit = value.partition(":")
    if colon and ":" in limit:
        raise SpecError(
            flag, f'"{value}" has more than one ":"; write REQUEST or REQUEST:LIMIT.'
        )
    amounts = {}
    if request:
        amounts["requests"] = request
    if limit:
        amounts["limits"] = limit
    if not amounts:
        raise SpecError(flag, f'"{value}" is empty; write REQUEST or REQUEST:LIMIT.')
    return amounts


def key_value(flag: str, value: str, *, secret: bool = False) -> tuple[str, str]:
    """``"K=V"`` → ``("K", "V")``; with ``secret``, errors do not show ``value``."""
    key, equals, item = value.partition("=")
    if not equals or not key:
        shown = "the value given" if secret else f'"{value}"'
        raise SpecError(
            flag, f"{shown} is not KEY=VALUE; write it as {flag} KEY=VALUE."
        )
    return key, item


def volume(value: str, taken: set[str]) -> dict[str, Any]:
    """``pvc:CLAIM:/path[:ro]``, ``configmap:NAME:/path``, ``secret:NAME:/path``,
    ``emptydir:/path[:SIZE]`` → a seed volume; its name is made unique in ``taken``.
    """
    kind, _, rest = value.partition(":")
    if kind not in VOLUME_KINDS:
        guess = closest(kind.lower(), VOLUME_KINDS) or "pvc"
        raise SpecError(
            "--volume",
            f'"{value}" starts with "{kind}", not a volume kind; did you mean '
            f'"{guess}:..."? The kinds are pvc, configmap, secret and emptydir.',
        )
    parts = rest.split(":")
    spec: dict[str, Any]
    if kind == "emptydir":
        if not parts[0] or len(parts) > 2:
            raise SpecError(
                "--volume", f'"{value}" is not emptydir:/PATH or emptydir:/PATH:SIZE.'
            )
        path = parts[0]
        spec = {"size_limit": parts[1]} if len(parts) == 2 else {}
        base = path
    else:
        usage = f"{kind}:NAME:/PATH" + ("[:ro]" if kind == "pvc" else "")
        read_only = kind == "pvc" and len(parts) == 3 and parts[2] == "ro"
        if len(parts) != 2 and not read_only:
            raise SpecError("--volume", f'"{value}" is not {usage}.')
        name, path = parts[0], parts[1]
        spec = {_SPEC_KEY[kind]: name}
        if read_only:
            spec["read_only"] = True
        base = name
    return {
        "volume_type": VOLUME_KINDS[kind],
        "name": _unique_name(base, taken),
        "mount_path": path,
        "spec": spec,
    }


def _unique_name(base: str, taken: set[str]) -> str:
    stem = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")[:50] or "volume"
    if stem.startswith("dh-jupyter-"):
        stem = "v-" + stem
    name, counter = stem, 2
    while name in taken:
        name, counter = f"{stem}-{counter}", counter + 1
    taken.add(name)
    return name


def toleration(value: str) -> dict[str, str]:
    """``KEY[=VALUE][:EFFECT]`` → a toleration; no value means ``Exists``."""
    body, _, effect = value.rpartition(":") if ":" in value else (value, "", "")
    key, equals, item = body.partition("=")
    result = {"key": key, "operator": "Equal" if equals else "Exists"}
    if equals:
        result["value"] = item
    if effect:
        result["effect"] = effect
    return result


def flags_to_dict(
    *,
    cpu: str | None = None,
    mem: str | None = None,
    gpu: str | None = None,
    gpu_type: str | None = None,
    volumes: Sequence[str] = (),
    shm: str | None = None,
    env: Sequence[str] = (),
    secrets: Sequence[str] = (),
    tolerations: Sequence[str] = (),
    node_selector: Sequence[str] = (),
    labels: Sequence[str] = (),
    affinity: Any = None,
    image: str | None = None,
    namespace: str | None = None,
    timeout: str | None = None,
    retries: str | None = None,
    ttl: str | None = None,
    queue: str | None = None,
    service_account: str | None = None,
    image_pull_secrets: Sequence[str] = (),
    priority_class: str | None = None,
) -> dict[str, Any]:
    """The seed-shaped dict the given flags describe; only given flags appear."""
    spec: dict[str, Any] = {}
    resources = {
        kind: request_limit(f"--{kind}", value)
        for kind, value in (("cpu", cpu), ("mem", mem), ("gpu", gpu))
        if value is not None
    }
    if resources:
        spec["resources"] = resources

    taken: set[str] = set()
    mounted = [volume(value, taken) for value in volumes]
    if shm is not None:
        # Shared memory is what PyTorch data loaders run out of first.
        mounted.append(
            {
                "volume_type": "empty_dir",
                "name": _unique_name("shm", taken),
                "mount_path": "/dev/shm",
                "spec": {"medium": "Memory", "size_limit": shm},
            }
        )
    if mounted:
        spec["volumes"] = mounted

    if env:
        spec["env"] = [
            {"name": k, "value": v}
            for k, v in (key_value("--env", e, secret=True) for e in env)
        ]
    if secrets:
        spec["secrets"] = list(secrets)
    if tolerations:
        spec["tolerations"] = [toleration(t) for t in tolerations]
    if node_selector:
        spec["node_selector"] = dict(
            key_value("--node-selector", n) for n in node_selector
        )
    if labels:
        spec["labels"] = [
            {"name": k, "value": v}
            for k, v in (key_value("--label", x) for x in labels)
        ]
    if image_pull_secrets:
        spec["image_pull_secrets"] = list(image_pull_secrets)

    options = {
        "affinity": affinity,
        "gpu_type": gpu_type,
        "image": image,
        "namespace": namespace,
        "timeout": timeout,
        "retries": _whole(retries, "--retries"),
        "ttl": ttl,
        "queue": queue,
        "service_account": service_account,
        "priority_class": priority_class,
    }
    spec.update({k: v for k, v in options.items() if v is not None})
    return spec


def _whole(value: str | None, flag: str) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise SpecError(flag, f'"{value}" is not a whole number; write 0, 1, 2 ...')
    return int(value)
