"""Reading the ``tolerations`` of a run spec.

A toleration that the API server would refuse, or one that silently
tolerates nothing (a key with a typo, ``Exists`` with a value), is caught
here with a sentence saying how to write it. Keys may be snake_case or
Kubernetes camelCase, as users copy them from either world.
"""

from __future__ import annotations

from collections.abc import Mapping

from dh_jupyter.spec import names
from dh_jupyter.spec.keys import Problems, at, closest, read_keys
from dh_jupyter.spec.model import Toleration
from dh_jupyter.spec.values import INT64_MAX, is_list, show, text, too_large

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


def read_tolerations(value: object, problems: Problems) -> tuple[Toleration, ...]:
    """The checked tolerations of ``value``."""
    if not is_list(value, "tolerations", '[{"key": ..., "effect": ...}]', problems):
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
            path, f"{show(item)} is not a mapping; describe the toleration as a dict."
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
            texts[name] = text(found[name], found.at(name), problems) or ""
    key = texts.get("key", "")
    operator = texts.get("operator") or "Equal"
    value = texts.get("value", "")
    effect = texts.get("effect", "")

    if operator not in ("Equal", "Exists"):
        guess = closest(operator, ("Equal", "Exists")) or "Equal"
        problems.add(
            found.at("operator"),
            f'"{operator}" is not an operator; did you mean "{guess}"?',
        )
    elif operator == "Exists" and value:
        problems.add(
            found.at("value"),
            f'"{value}" is given with operator "Exists", which matches any value; '
            'remove the value or use operator "Equal".',
        )
    if not key and operator != "Exists":
        problems.add(
            found.at("key"),
            'the key is empty, which only works with operator "Exists" '
            "(tolerate every taint); give a key or set the operator.",
        )
    elif key and (problem := names.label_key(key)):
        problems.add(found.at("key"), problem)
    if value and (problem := names.label_value(value)):
        problems.add(found.at("value"), problem)
    if effect and effect not in TAINT_EFFECTS:
        effect_guess = closest(effect, TAINT_EFFECTS)
        hint = (
            f'did you mean "{effect_guess}"?'
            if effect_guess
            else ("leave it empty or use NoSchedule, PreferNoSchedule or NoExecute.")
        )
        problems.add(found.at("effect"), f'"{effect}" is not a taint effect; {hint}')

    seconds = found.get("toleration_seconds")
    if seconds is not None:
        where = found.at("toleration_seconds")
        spelled = found.spelling["toleration_seconds"]
        if isinstance(seconds, bool) or not isinstance(seconds, int):
            problems.add(where, f"{show(seconds)} is not a whole number of seconds.")
            seconds = None
        elif seconds > INT64_MAX:
            problems.add(where, too_large(seconds, spelled, INT64_MAX, " seconds"))
            seconds = None
        elif effect != "NoExecute":
            problems.add(
                where,
                f"{seconds} only applies to the NoExecute effect; set effect "
                f'"NoExecute" or remove {spelled}.',
            )
    return Toleration(key, operator, value, effect, seconds)
