"""Reading mappings whose keys may be snake_case or Kubernetes camelCase.

Users copy tolerations and affinities from Kubernetes YAML (camelCase) and
from DigitalHub SDK code (snake_case); both must work, and a key that is
neither must be an error that suggests the closest known one rather than
being dropped. ``Problems`` gathers every such error so the whole spec is
reported at once.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dh_jupyter.spec.errors import SpecError


class Problems:
    """Every problem found while reading one spec, in the order found."""

    def __init__(self) -> None:
        self.errors: list[SpecError] = []

    def add(self, field: str, problem: str) -> None:
        """Record that ``field`` is wrong, with the sentence saying why."""
        self.errors.append(SpecError(field, problem))

    def raise_if_any(self) -> None:
        """Raise one ``SpecError`` holding every recorded problem."""
        if self.errors:
            raise SpecError.combine(self.errors)


def at(path: str, key: str | int) -> str:
    """The dotted path of ``key`` below ``path``: ``a.b`` or ``a[2]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def camel(name: str) -> str:
    """``toleration_seconds`` → ``tolerationSeconds``."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    """``tolerationSeconds`` → ``toleration_seconds``."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


@dataclass(frozen=True)
class Style:
    """How the user spells keys here: camelCase (as in YAML) or snake_case."""

    camel: bool

    def spell(self, name: str) -> str:
        """``name`` (snake_case) in the user's spelling."""
        return camel(name) if self.camel else name

    def within(self, value: Mapping[object, object]) -> Style:
        """The style of ``value``'s keys; this one if they do not tell."""
        for key in value:
            if isinstance(key, str) and "_" in key:
                return Style(camel=False)
            if isinstance(key, str) and key != key.lower():
                return Style(camel=True)
        return self


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice most like ``word``, if any is reasonably close."""
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_key(key: str, known: Iterable[str]) -> str:
    """The sentence for a key that is not one of ``known``."""
    choices = list(known)
    guess = closest(key, choices) or closest(snake(key), choices)
    if guess is not None:
        # Answer in the user's own style: camelCase for a camelCase typo.
        if "_" not in key and key != key.lower():
            guess = camel(guess)
        return f'unknown key "{key}"; did you mean "{guess}"?'
    if len(choices) == 1:
        return f'unknown key "{key}"; the only key here is "{choices[0]}".'
    listed = ", ".join(f'"{choice}"' for choice in choices)
    return f'unknown key "{key}"; the known keys are {listed}.'


class Found(dict[str, Any]):
    """Values by their snake_case name, remembering how the user spelled each."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.spelling: dict[str, str] = {}

    def at(self, name: str) -> str:
        """The field path of ``name`` as the user wrote it."""
        return at(self.path, self.spelling.get(name, name))


def read_keys(
    value: Mapping[Any, Any],
    known: Iterable[str],
    path: str,
    problems: Problems,
) -> Found:
    """``value`` re-keyed by the snake_case names in ``known``.

    A key may be given in snake_case or camelCase. Unknown keys, keys that
    are not strings and a key given in both spellings are recorded as
    problems and left out of the result.
    """
    names = list(known)
    by_spelling = {name: name for name in names}
    by_spelling.update({camel(name): name for name in names})
    found = Found(path)
    for key, item in value.items():
        if not isinstance(key, str):
            problems.add(path, f"the key {key!r} is not a string; use a field name.")
            continue
        name = by_spelling.get(key)
        if name is None:
            problems.add(at(path, key), unknown_key(key, names))
        elif name in found:
            problems.add(
                at(path, key),
                f'"{name}" is given twice, as "{name}" and "{camel(name)}"; '
                "keep one of them.",
            )
        else:
            found[name] = item
            found.spelling[name] = key
    return found
