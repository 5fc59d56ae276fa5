"""Reading the pod's ``labels`` and its ``node_selector``.

Both are string-to-string maps under the Kubernetes label rules, and the
seed writes both in two shapes: a mapping, or a list of pairs (``{"name",
"value"}`` for labels, ``{"key", "value"}`` for a node selector). Labels that
dh_jupyter sets itself to find its runs again are refused here, so a user's
label cannot hide a run.
"""

from __future__ import annotations

from collections.abc import Mapping

from dh_jupyter.spec import names
from dh_jupyter.spec.keys import Problems, at, read_keys
from dh_jupyter.spec.values import show

RESERVED_LABEL_PREFIXES = ("dh-jupyter.io/", "app.kubernetes.io/managed-by")
# The node label that names a GPU model unless an administrator configures
# another one (``DhJupyter.gpu_product_label``).
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"


def gpu_type_conflict(
    gpu_type: str | None, node_selector: Mapping[str, str], label: str
) -> str | None:
    """The sentence when ``gpu_type`` and the node selector ask for two models."""
    chosen = node_selector.get(label)
    if gpu_type is None or chosen is None or chosen == gpu_type:
        return None
    return (
        f'"{gpu_type}" contradicts node_selector "{label}": "{chosen}"; '
        "keep one of them."
    )


def read_pairs(
    value: object, path: str, key_name: str, problems: Problems
) -> dict[str, str]:
    """Labels or a node selector, given as a mapping or a list of pairs."""
    # Each item is (where the key is, where the value is, key, value): in a
    # mapping both sit at one path, in a list of pairs each has its own.
    items: list[tuple[str, str, object, object]] = []
    if isinstance(value, Mapping):
        items = [
            (at(path, str(key)), at(path, str(key)), key, item)
            for key, item in value.items()
        ]
    elif isinstance(value, (list, tuple)):
        for index, entry in enumerate(value):
            where = at(path, index)
            if not isinstance(entry, Mapping):
                problems.add(
                    where,
                    f'{show(entry)} is not a mapping; write {{"{key_name}": ..., '
                    '"value": ...}.',
                )
                continue
            found = read_keys(entry, (key_name, "value"), where, problems)
            if key_name not in found:
                problems.add(
                    at(where, key_name), f'"{key_name}" is required and is missing.'
                )
                continue
            items.append(
                (
                    found.at(key_name),
                    found.at("value"),
                    found[key_name],
                    found.get("value", ""),
                )
            )
    else:
        problems.add(path, f'{show(value)} is not a mapping; write {{"key": "value"}}.')

    pairs: dict[str, str] = {}
    for where, value_at, key, item in items:
        if not isinstance(key, str):
            problems.add(where, f"{show(key)} is not a string; put it in quotes.")
            continue
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            problems.add(
                value_at, f"{show(item)} is not a string; put the value in quotes."
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
            problems.add(value_at, problem)
        if key in pairs:
            problems.add(where, f'"{key}" is given twice; keep one.')
        pairs[key] = str(item)
    return pairs
