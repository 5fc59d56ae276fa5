"""The rules the API server applies to an affinity's values.

``affinity`` checks the shape (which keys go where); this module checks
what the values say, the way the API server and the scheduler read them:
``In`` and ``NotIn`` need values and ``Exists`` forbids them, ``Gt`` and
``Lt`` take one whole number, node fields are only ``metadata.name``, keys
and values follow the label rules, and a required node affinity needs at
least one term. Each rule reads the already-read mapping (``Found``) and
records problems at the keys as the user spelled them.
"""

from __future__ import annotations

import re

from dh_jupyter.spec import names
from dh_jupyter.spec.keys import Found, Problems, Style, at
from dh_jupyter.spec.values import show

_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_INT64 = 2**63


def _values(found: Found) -> list[str] | None:
    """The requirement's values if they are a list of strings, else ``None``."""
    values = found.get("values", [])
    if not isinstance(values, (list, tuple)):
        return None
    if not all(isinstance(value, str) for value in values):
        return None
    return list(values)


def _operator(found: Found, known: tuple[str, ...], problems: Problems) -> str | None:
    operator = found.get("operator")
    if not isinstance(operator, str):
        return None
    if operator not in known:
        problems.add(
            found.at("operator"),
            f'"{operator}" is not an operator here; use one of {", ".join(known)}.',
        )
        return None
    return operator


def _key(found: Found, problems: Problems) -> None:
    key = found.get("key")
    if isinstance(key, str) and (problem := names.label_key(key)):
        problems.add(found.at("key"), problem)


def _values_for(
    operator: str, values: list[str], found: Found, problems: Problems
) -> bool:
    """Check the number of values ``operator`` takes; whether they are right."""
    where = found.at("values")
    if operator in ("In", "NotIn") and not values:
        other = "Exists" if operator == "In" else "DoesNotExist"
        problems.add(
            where,
            f'operator "{operator}" needs at least one value to compare with; '
            f'write "values": ["a"], or use operator "{other}".',
        )
    elif operator in ("Exists", "DoesNotExist") and values:
        other = "In" if operator == "Exists" else "NotIn"
        problems.add(
            where,
            f'operator "{operator}" looks at the key alone and takes no values; '
            f'remove "values", or use operator "{other}".',
        )
    elif operator in ("Gt", "Lt") and len(values) != 1:
        problems.add(
            where,
            f'operator "{operator}" compares with exactly one whole number; '
            'write "values": ["4"].',
        )
    else:
        return True
    return False


def _label_values(values: list[str], found: Found, problems: Problems) -> None:
    for index, value in enumerate(values):
        if problem := names.label_value(value):
            problems.add(at(found.at("values"), index), problem)


def node_requirement(found: Found, style: Style, problems: Problems) -> None:
    _key(found, problems)
    operator = _operator(
        found, ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"), problems
    )
    values = _values(found)
    if operator is None or values is None:
        return
    if not _values_for(operator, values, found, problems):
        return
    if operator in ("Gt", "Lt"):
        number = values[0]
        if not _INTEGER.match(number) or not -_INT64 <= int(number) < _INT64:
            problems.add(
                at(found.at("values"), 0),
                f'{show(number)} is not a whole number, which operator "{operator}" '
                'needs; write one such as "4".',
            )
    else:
        _label_values(values, found, problems)


def field_requirement(found: Found, style: Style, problems: Problems) -> None:
    key = found.get("key")
    if isinstance(key, str) and key != "metadata.name":
        problems.add(
            found.at("key"),
            f"{show(key)} is not a field nodes can be selected by; the only one is "
            '"metadata.name".',
        )
    operator = _operator(found, ("In", "NotIn"), problems)
    values = _values(found)
    if operator is not None and values is not None and len(values) != 1:
        problems.add(
            found.at("values"),
            f'operator "{operator}" on a node field takes exactly one value, a '
            'node\'s name; write "values": ["node-1"].',
        )


def label_requirement(found: Found, style: Style, problems: Problems) -> None:
    _key(found, problems)
    operator = _operator(found, ("In", "NotIn", "Exists", "DoesNotExist"), problems)
    values = _values(found)
    if operator is None or values is None:
        return
    if _values_for(operator, values, found, problems):
        _label_values(values, found, problems)


def node_selector(found: Found, style: Style, problems: Problems) -> None:
    terms = found.get("node_selector_terms")
    if isinstance(terms, (list, tuple)) and not terms:
        parent = style.spell("required_during_scheduling_ignored_during_execution")
        problems.add(
            found.at("node_selector_terms"),
            "the list is empty, and an empty list matches no node; add a term "
            f'such as {{"{style.spell("match_expressions")}": [...]}}, or leave '
            f'out "{parent}".',
        )


def pod_term(found: Found, style: Style, problems: Problems) -> None:
    topology_key = found.get("topology_key")
    if isinstance(topology_key, str):
        if not topology_key:
            problems.add(
                found.at("topology_key"),
                "the topology key is empty; use a node label such as "
                '"kubernetes.io/hostname".',
            )
        elif problem := names.label_key(topology_key):
            problems.add(found.at("topology_key"), problem)
    namespaces = found.get("namespaces", [])
    if isinstance(namespaces, (list, tuple)):
        for index, namespace in enumerate(namespaces):
            if isinstance(namespace, str) and (problem := names.dns_label(namespace)):
                problems.add(at(found.at("namespaces"), index), problem)
