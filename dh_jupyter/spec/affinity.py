"""Reading a Kubernetes affinity written in either spelling.

An affinity is deep (node, pod and anti-pod terms, selectors, weights), and
a misspelled key anywhere in it silently widens where a pod may land. This
module holds a small description of the affinity's shape, just enough to
check every key, and hands each part to the rules the API server applies
to its values (``affinity_rules``). It gives the result back in
Kubernetes camelCase, and words every problem in the spelling the user
chose, camelCase or snake_case. It does not check that any node or pod
matches: only the cluster knows that.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dh_jupyter.spec import names
from dh_jupyter.spec.affinity_rules import (
    field_requirement,
    label_requirement,
    node_requirement,
    node_selector,
    pod_term,
)
from dh_jupyter.spec.keys import Found, Problems, Style, at, camel, read_keys
from dh_jupyter.spec.values import show


@dataclass(frozen=True)
class ListOf:
    """A list whose items all have the shape ``item``."""

    item: Shape


@dataclass(frozen=True)
class Obj:
    """A mapping with known keys; ``required`` must be present.

    ``check`` applies the rules between the keys' values, once each value
    has been read on its own.
    """

    fields: Mapping[str, Shape]
    required: tuple[str, ...] = ()
    check: Callable[[Found, Style, Problems], None] | None = None


class Text:
    """A string."""


class Weight:
    """An integer from 1 to 100."""


class Labels:
    """A mapping of label keys to label values, keys kept as they are."""


Shape = ListOf | Obj | type[Text] | type[Weight] | type[Labels]


def _requirement(check: Callable[[Found, Style, Problems], None]) -> Obj:
    return Obj(
        {"key": Text, "operator": Text, "values": ListOf(Text)},
        required=("key", "operator"),
        check=check,
    )


_NODE_TERM = Obj(
    {
        "match_expressions": ListOf(_requirement(node_requirement)),
        "match_fields": ListOf(_requirement(field_requirement)),
    }
)
_LABEL_SELECTOR = Obj(
    {
        "match_labels": Labels,
        "match_expressions": ListOf(_requirement(label_requirement)),
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
    check=pod_term,
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
                    check=node_selector,
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
    """``value`` checked against the affinity's shape and rules, in camelCase."""
    result = _read(value, AFFINITY, path, Style(camel=True), problems)
    return result if isinstance(result, dict) else {}


def _read(
    value: object, shape: Shape, path: str, style: Style, problems: Problems
) -> object:
    if isinstance(shape, ListOf):
        if not isinstance(value, (list, tuple)):
            problems.add(path, f"{show(value)} is not a list; write [...] here.")
            return []
        return [
            _read(item, shape.item, at(path, index), style, problems)
            for index, item in enumerate(value)
        ]
    if isinstance(shape, Obj):
        return _read_object(value, shape, path, style, problems)
    if shape is Weight:
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not 1 <= value <= 100
        ):
            problems.add(
                path,
                f"{show(value)} is not a weight; use a whole number from 1 to 100.",
            )
        return value
    if shape is Labels:
        return _read_labels(value, path, problems)
    if not isinstance(value, str):
        problems.add(path, f"{show(value)} is not a string; put it in quotes.")
    return value


def _read_object(
    value: object, shape: Obj, path: str, style: Style, problems: Problems
) -> dict[str, object]:
    if not isinstance(value, Mapping):
        problems.add(path, f"{show(value)} is not a mapping; write {{...}} here.")
        return {}
    style = style.within(value)
    found = read_keys(value, shape.fields, path, problems)
    for name in shape.required:
        if name not in found:
            spelled = style.spell(name)
            problems.add(
                at(path, spelled), f'"{spelled}" is required here and is missing.'
            )
    result = {
        camel(name): _read(item, shape.fields[name], found.at(name), style, problems)
        for name, item in found.items()
    }
    if shape.check is not None:
        shape.check(found, style, problems)
    return result


def _read_labels(value: object, path: str, problems: Problems) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        problems.add(path, f"{show(value)} is not a mapping of strings to strings.")
        return {}
    for key, item in value.items():
        if problem := names.label_key(key) or names.label_value(item):
            problems.add(at(path, key), problem)
    return dict(value)
