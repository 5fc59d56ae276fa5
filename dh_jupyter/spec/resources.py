"""Reading the ``resources`` of a run spec: CPU, memory and GPUs.

Quantities are checked one by one in ``quantity``; this module checks how a
request and a limit fit together (a request above its limit, GPUs that
cannot be overcommitted) and accepts the newer SDK's flat spelling, where a
bare quantity means the request. Quantities are kept as the user wrote them,
so the Job says "16Gi" and not a number of bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from dh_jupyter.spec.keys import Problems, at, read_keys
from dh_jupyter.spec.model import RESOURCE_KINDS, Resource, Resources
from dh_jupyter.spec.quantity import QuantityError, is_whole, parse_quantity
from dh_jupyter.spec.values import show


def read_resources(value: object, problems: Problems) -> Resources:
    """The checked requests and limits of ``value``."""
    if not isinstance(value, Mapping):
        problems.add(
            "resources",
            f'{show(value)} is not a mapping; write {{"cpu": {{"requests": "1"}}}}.',
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
                f"{show(item)} is not a whole number of GPUs; ask for 1, 2 or more.",
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
