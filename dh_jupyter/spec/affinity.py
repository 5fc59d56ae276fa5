"""Reading a Kubernetes affinity written in either spelling.

An affinity is deep (node, pod and anti-pod terms, selectors, weights), and
a misspelled key anywhere in it silently widens where a pod may land. This
module holds a small description of the affinity's shape, just enough to
check every key, the operators and the weights, and to give the result back
in Kubernetes camelCase. It does not check what the API server checks about
values (for example whether ``Gt`` values are integers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dh_jupyter.spec.keys import Problems, at, camel, read_keys


@dataclass(frozen=True)
class ListOf:
    """A list whose items all have the shape ``item``."""

    item: Shape


@dataclass(frozen=True)
class Obj:
    """A mapping with known keys; ``required`` must be present."""

    fields: Mapping[str, Shape]
    required: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()


class Text:
    """A string."""


class Weight:
    """An integer from 1 to 100."""


class StringMap:
    """A mapping of strings to strings, keys kept as they are."""


Shape = ListOf | Obj | type[Text] | type[Weight] | type[StringMap]

_NODE_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
_LABEL_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def _requirement(operators: tuple[str, ...]) -> Obj:
    return Obj(
        {"key": Text, "operator": Text, "values": ListOf(Text)},
        required=("key", "operator"),
        operators=operators,
    )


_NODE_TERM = Obj(
    {
        "match_expressions": ListOf(_requirement(_NODE_OPERATORS)),
        "match_fields": ListOf(_requirement(_NODE_OPERATORS)),
    }
)
_LABEL_SELECTOR = Obj(
    {
        "match_labels": StringMap,
        "match_expressions": ListOf(_requirement(_LABEL_OPERATORS)),
    }
)
_POD_TERM = Obj(
    {
        "label_selector": _LABEL_SELECTOR,
        "namespace_selector": _LABEL_SELECTOR,
        "namespaces": ListOf(Text),
        "topology_key": Text,
        "match_label_keys": ListOf(Text),
        "mismatch_label_keys": ListOf(Text),
    },
    required=("topology_key",),
)
_POD_AFFINITY = Obj(
    {
        "required_during_scheduling_ignored_during_execution": ListOf(_POD_TERM),
        "preferred_during_scheduling_ignored_during_execution": ListOf(
            Obj(
                {"weight": Weight, "pod_affinity_term": _POD_TERM},
                required=("weight", "pod_affinity_term"),
            )
        ),
    }
)
AFFINITY = Obj(
    {
        "node_affinity": Obj(
            {
                "required_during_scheduling_ignored_during_execution": Obj(
                    {"node_selector_terms": ListOf(_NODE_TERM)},
                    required=("node_selector_terms",),
                ),
                "preferred_during_scheduling_ignored_during_execution": ListOf(
                    Obj(
                        {"weight": Weight, "preference": _NODE_TERM},
                        required=("weight", "preference"),
                    )
                ),
            }
        ),
        "pod_affinity": _POD_AFFINITY,
        "pod_anti_affinity": _POD_AFFINITY,
    }
)


def read_affinity(value: object, path: str, problems: Problems) -> dict[str, object]:
    """``value`` checked against the affinity's shape, in camelCase."""
    result = _read(value, AFFINITY, path, problems)
    return result if isinstance(result, dict) else {}


def _read(value: object, shape: Shape, path: str, problems: Problems) -> object:
    if isinstance(shape, ListOf):
        if not isinstance(value, list):
            problems.add(path, f"{value!r} is not a list; write [...] here.")
            return []
        return [
            _read(item, shape.item, at(path, index), problems)
            for index, item in enumerate(value)
        ]
    if isinstance(shape, Obj):
        return _read_object(value, shape, path, problems)
    if shape is Weight:
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 1 <= value <= 100
        ):
            problems.add(
                path, f"{value!r} is not a weight; use a whole number from 1 to 100."
            )
        return value
    if shape is StringMap:
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            problems.add(path, f"{value!r} is not a mapping of strings to strings.")
            return {}
        return dict(value)
    if not isinstance(value, str):
        problems.add(path, f"{value!r} is not a string; put it in quotes.")
    return value


def _read_object(
    value: object, shape: Obj, path: str, problems: Problems
) -> dict[str, object]:
    if not isinstance(value, Mapping):
        problems.add(path, f"{value!r} is not a mapping; write {{...}} here.")
        return {}
    found = read_keys(value, shape.fields, path, problems)
    for name in shape.required:
        if name not in found:
            problems.add(at(path, name), f'"{name}" is required here and is missing.')
    operator = found.get("operator")
    if (
        shape.operators
        and isinstance(operator, str)
        and operator not in shape.operators
    ):
        listed = ", ".join(shape.operators)
        problems.add(
            found.at("operator"),
            f'"{operator}" is not an operator here; use one of {listed}.',
        )
    return {
        camel(name): _read(item, shape.fields[name], found.at(name), problems)
        for name, item in found.items()
    }
